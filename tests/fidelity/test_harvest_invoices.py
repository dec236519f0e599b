"""Harvest sandbox invoices: importing tracked work marks it billed; listing and filters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sandboxes.firm import Firm
from sandboxes.harvest import HARVEST_ACCOUNT_ID, HARVEST_TOKEN, create_app

HEADERS = {
    "Authorization": f"Bearer {HARVEST_TOKEN}",
    "Harvest-Account-Id": HARVEST_ACCOUNT_ID,
    "User-Agent": "fidelity (qa@example.com)",
}


async def _client(firm: Firm, **options: Any) -> httpx.AsyncClient:
    app = create_app(firm, rate_limit=None, **options)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://h.test", headers=HEADERS
    )


@pytest.fixture
async def api(firm: Firm) -> AsyncIterator[httpx.AsyncClient]:
    client = await _client(firm)
    yield client
    await client.aclose()


async def _open_project(api: httpx.AsyncClient) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    entries = (
        await api.get("/v2/time_entries", params={"is_billed": "false", "per_page": 2000})
    ).json()["time_entries"]
    by_project: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        by_project.setdefault(entry["project"]["id"], []).append(entry)
    for rows in by_project.values():
        if any(r["is_closed"] and r["billable"] for r in rows) and any(
            not r["is_closed"] for r in rows
        ):
            project = (await api.get(f"/v2/projects/{rows[0]['project']['id']}")).json()
            return project, rows
    raise AssertionError("no project with approved and unapproved open time")


def _body(project: dict[str, Any], rows: list[dict[str, Any]], number: str) -> dict[str, Any]:
    days = sorted(r["spent_date"] for r in rows)
    window = {"summary_type": "detailed", "from": days[0], "to": days[-1]}
    return {
        "client_id": project["client"]["id"],
        "number": number,
        "issue_date": "2026-10-31",
        "line_items_import": {"project_ids": [project["id"]], "time": window, "expenses": window},
    }


async def test_an_imported_invoice_bills_and_locks_only_approved_billable_time(
    api: httpx.AsyncClient,
) -> None:
    project, rows = await _open_project(api)
    created = await api.post("/v2/invoices", json=_body(project, rows, "INV-F-1"))
    assert created.status_code == 201
    invoice = created.json()
    assert invoice["number"] == "INV-F-1" and invoice["client"]["id"] == project["client"]["id"]
    for row in rows:
        after = (await api.get(f"/v2/time_entries/{row['id']}")).json()
        billed = row["is_closed"] and row["billable"]
        assert after["is_billed"] is billed
        assert after["invoice"] == ({"id": invoice["id"], "number": "INV-F-1"} if billed else None)
        if billed:
            assert after["is_locked"] is True
            refused = await api.patch(f"/v2/time_entries/{row['id']}", json={"is_closed": False})
            assert refused.status_code == 422 and "locked" in refused.json()["message"]
    listed = await api.get(
        "/v2/invoices", params={"client_id": project["client"]["id"], "project_id": project["id"]}
    )
    assert invoice["id"] in [i["id"] for i in listed.json()["invoices"]]
    assert (await api.get(f"/v2/invoices/{invoice['id']}")).json()["number"] == "INV-F-1"
    again = await api.post("/v2/invoices", json=_body(project, rows, "INV-F-1"))
    assert again.status_code == 422 and "taken" in again.json()["message"]


async def test_the_account_may_import_unapproved_work(firm: Firm) -> None:
    api = await _client(firm, invoice_imports_unapproved=True)
    try:
        project, rows = await _open_project(api)
        invoice = (await api.post("/v2/invoices", json=_body(project, rows, "INV-F-2"))).json()
        unapproved = next(r for r in rows if not r["is_closed"] and r["billable"])
        after = (await api.get(f"/v2/time_entries/{unapproved['id']}")).json()
        assert after["invoice"] == {"id": invoice["id"], "number": "INV-F-2"}
    finally:
        await api.aclose()


async def test_a_project_of_another_client_or_a_bad_window_is_422(api: httpx.AsyncClient) -> None:
    project, rows = await _open_project(api)
    body = _body(project, rows, "INV-F-3")
    body["client_id"] = next(
        c["id"] for c in (await api.get("/v2/clients")).json()["clients"]
        if c["id"] != project["client"]["id"]
    )  # fmt: skip
    assert (await api.post("/v2/invoices", json=body)).status_code == 422
    body = _body(project, rows, "INV-F-3")
    body["line_items_import"]["time"]["summary_type"] = "weekly"
    assert (await api.post("/v2/invoices", json=body)).status_code == 422


async def test_seeded_invoices_are_listed_and_paged(api: httpx.AsyncClient, firm: Firm) -> None:
    page = (await api.get("/v2/invoices", params={"per_page": 5})).json()
    assert len(page["invoices"]) == 5 and page["total_entries"] > 5
    assert page["links"]["next"] is not None
    numbers = {i["number"] for i in page["invoices"]}
    assert numbers <= {i.key for i in firm.invoices}


async def test_expenses_are_approved_and_rejected_like_time(api: httpx.AsyncClient) -> None:
    expenses = (
        await api.get("/v2/expenses", params={"approval_status": "submitted", "per_page": 5})
    ).json()["expenses"]
    if not expenses:
        pytest.skip("no submitted expense seeded")
    first = expenses[0]
    rejected = (await api.patch(f"/v2/expenses/{first['id']}", json={"is_closed": False})).json()
    assert rejected["approval_status"] == "unsubmitted"
    approved = (await api.patch(f"/v2/expenses/{first['id']}", json={"is_closed": True})).json()
    assert approved["is_closed"] is True and approved["is_locked"] is True

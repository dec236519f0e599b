"""Unexpected errors are masked with a correlation ID; deliberate ones pass through.

The probe schema's resolvers raise each kind of error; the view masking them
is the gateway's own (gateway.graphql_http + gateway.error_masking). Masking
does not depend on `Settings.environment`: dev and prod answer alike, and the
original error goes to the `gateway.graphql` log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.contract.graphql_probe import SECRET, Probe, ProbeContext, probe_app, probe_client

GR = "application/graphql-response+json"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with probe_client(probe_app(Probe(), tmp_path)) as c:
        yield c


async def ask(client: httpx.AsyncClient, query: str, cid: str) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query}, headers={"Accept": GR, "X-Correlation-ID": cid}
    )


async def test_an_unexpected_error_is_internal_error_with_the_correlation_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="gateway.graphql"):
        response = await ask(client, "{ hello boom }", "mask-1")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"hello": "hello world", "boom": None}
    assert body["errors"] == [
        {
            "message": "Internal error",
            "locations": [{"line": 1, "column": 9}],
            "path": ["boom"],
            "extensions": {"code": "INTERNAL", "correlationId": "mask-1"},
        }
    ]
    assert SECRET not in response.text and "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "gateway.graphql"]
    assert len(logged) == 1
    assert "mask-1" in logged[0].getMessage() and SECRET in logged[0].getMessage()
    assert logged[0].exc_info is not None and logged[0].exc_info[0] is RuntimeError


async def test_a_masked_error_on_a_non_null_root_field_hides_the_key_too(
    client: httpx.AsyncClient,
) -> None:
    response = await ask(client, "{ boomRequired }", "mask-2")
    assert response.status_code == 200
    assert response.json()["data"] is None
    [error] = response.json()["errors"]
    assert error["message"] == "Internal error"
    assert error["extensions"] == {"code": "INTERNAL", "correlationId": "mask-2"}
    assert "hunter2" not in response.text


async def test_a_resolver_graphql_error_keeps_its_message_and_extensions(
    client: httpx.AsyncClient,
) -> None:
    response = await ask(client, "{ upstream }", "mask-3")
    [error] = response.json()["errors"]
    assert error["message"] == "salesforce: unavailable after 3 attempts"
    assert error["extensions"] == {
        "code": "UPSTREAM_UNAVAILABLE",
        "system": "salesforce",
        "correlationId": "mask-3",
    }


async def test_a_domain_error_keeps_its_message(client: httpx.AsyncClient) -> None:
    response = await ask(client, "{ missing }", "mask-4")
    [error] = response.json()["errors"]
    assert error["message"] == "kantata: no engagement ENG-2026-99999"
    assert error["path"] == ["missing"]


async def test_graphql_request_errors_are_not_masked(client: httpx.AsyncClient) -> None:
    response = await ask(client, "{ nosuchfield }", "mask-5")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert "nosuchfield" in error["message"]


async def test_masked_and_deliberate_errors_mix_in_one_response(
    client: httpx.AsyncClient,
) -> None:
    response = await ask(client, "{ boom upstream hello }", "mask-6")
    body = response.json()
    assert body["data"] == {"boom": None, "upstream": None, "hello": "hello world"}
    by_path = {e["path"][0]: e for e in body["errors"]}
    assert by_path["boom"]["extensions"]["code"] == "INTERNAL"
    assert by_path["upstream"]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


async def test_a_fault_outside_execution_is_a_masked_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenProbe(Probe):
        def make_context(self, correlation_id: str, principal: object = None) -> ProbeContext:
            raise RuntimeError(f"could not build loaders ({SECRET})")

    async with probe_client(probe_app(BrokenProbe(), tmp_path)) as client:
        with caplog.at_level(logging.ERROR, logger="gateway.graphql"):
            response = await ask(client, "{ hello }", "mask-7")
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {
                "message": "Internal error",
                "extensions": {"code": "INTERNAL", "correlationId": "mask-7"},
            }
        ]
    }
    assert response.headers["x-correlation-id"] == "mask-7"
    assert SECRET not in response.text
    assert any(r.exc_info and SECRET in str(r.exc_info[1]) for r in caplog.records)

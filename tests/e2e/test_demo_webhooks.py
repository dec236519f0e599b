"""`make run` wires the push path: the demo's sandboxes sign webhooks the demo gateway accepts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.gateway_process import clean_env
from tests.e2e.support import CliProcess, free_port, free_port_block
from tests.serving import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

DEMO_CLIENT = {
    "grant_type": "client_credentials",
    "client_id": "eg-demo-client",
    "client_secret": "eg-demo-secret",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CliProcess, int, int]]:
    base, port = free_port_block(4), free_port()
    process = CliProcess(
        ["demo", "--port", str(port), "--sandbox-port-base", str(base)],
        cwd=tmp_path_factory.mktemp("demo-webhooks"),
        env=clean_env(),  # no EG_WEBHOOK_SECRET: the demo brings its own
    )
    try:
        process.wait_for_line("ready (Ctrl-C", timeout_s=60)
        yield process, port, base
    finally:
        assert process.stop() == 0, "\n".join(process.lines)


async def deliveries_once(sandbox: str, count: int) -> list[dict[str, Any]]:
    """The sandbox's webhook deliveries once `count` of them finished (or fail after 20 s)."""
    found: list[dict[str, Any]] = []

    async def delivered() -> bool:
        nonlocal found
        async with httpx.AsyncClient() as http:
            found = (await http.get(f"{sandbox}/__sandbox/webhooks")).json()["deliveries"]
        return len(found) >= count

    await wait_until(delivered, timeout_s=20, what=f"{count} webhook(s) delivered by {sandbox}")
    return found


def test_the_demo_announces_where_the_sandboxes_push(demo: tuple[CliProcess, int, int]) -> None:
    process, port, base = demo
    assert any(f"push to http://127.0.0.1:{port}/webhooks/" in line for line in process.lines), (
        process.lines
    )
    for offset, system in ((0, "salesforce"), (3, "netsuite")):
        target = httpx.get(f"http://127.0.0.1:{base + offset}/__sandbox/webhooks").json()
        assert target["target"]["url"] == f"http://127.0.0.1:{port}/webhooks/{system}"
    harvest = httpx.get(f"http://127.0.0.1:{base + 2}/__sandbox/webhooks")
    assert harvest.status_code == 404  # Harvest has no webhooks


async def test_a_change_made_in_the_demo_salesforce_is_pushed_and_accepted(
    demo: tuple[CliProcess, int, int],
) -> None:
    _, _, base = demo
    salesforce = f"http://127.0.0.1:{base}"
    async with httpx.AsyncClient(base_url=salesforce) as http:
        token = (await http.post("/services/oauth2/token", data=DEMO_CLIENT)).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        soql = "SELECT Id FROM Opportunity WHERE IsClosed = false LIMIT 1"
        found = await http.get("/services/data/v60.0/query", params={"q": soql}, headers=headers)
        opp_id = found.json()["records"][0]["Id"]
        edited = await http.patch(
            f"/services/data/v60.0/sobjects/Opportunity/{opp_id}",
            json={"Description": "edited directly in Salesforce"},
            headers=headers,
        )
    assert edited.status_code == 204
    [delivery] = await deliveries_once(salesforce, 1)
    assert (delivery["status"], delivery["http_status"]) == ("delivered", 202), delivery

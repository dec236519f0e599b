"""`engagement-gateway demo` as a user runs it: real ports, real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import CliProcess, free_port, free_port_block

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CliProcess, int, int, Path]]:
    workdir = tmp_path_factory.mktemp("demo")
    base, port = free_port_block(4), free_port()
    process = CliProcess(
        [
            "demo",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--sandbox-port-base",
            str(base),
            "--seed",
            "42",
        ],
        cwd=workdir,
    )
    try:
        process.wait_for_line("ready (Ctrl-C", timeout_s=60)  # not /readyz
        yield process, port, base, workdir
    finally:
        code = process.stop()
        assert code == 0, "\n".join(process.lines)


def test_demo_prints_every_url(demo: tuple[CliProcess, int, int, Path]) -> None:
    process, port, base, _ = demo
    output = "\n".join(process.lines)
    for offset, name in enumerate(("salesforce", "kantata", "harvest", "netsuite")):
        assert f"{name}" in output and f"http://127.0.0.1:{base + offset}" in output
    assert f"http://127.0.0.1:{port}/graphql" in output


def test_demo_gateway_reports_all_systems_healthy_over_http(
    demo: tuple[CliProcess, int, int, Path],
) -> None:
    _, port, _, _ = demo
    response = httpx.post(
        f"http://127.0.0.1:{port}/graphql",
        json={"query": "{ systems { name ok latencyMs breaker } }"},
        timeout=30,
    )
    assert response.status_code == 200
    systems = response.json()["data"]["systems"]
    assert {s["name"]: (s["ok"], s["breaker"]) for s in systems} == {
        name: (True, "CLOSED") for name in ("salesforce", "kantata", "harvest", "netsuite")
    }
    assert all(s["latencyMs"] > 0 for s in systems)
    ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text


def test_demo_sandboxes_answer_their_control_plane_and_refuse_anonymous_calls(
    demo: tuple[CliProcess, int, int, Path],
) -> None:
    _, _, base, _ = demo
    calls = httpx.get(f"http://127.0.0.1:{base}/__sandbox/calls", timeout=10).json()
    assert set(calls) == {"total", "by_endpoint"}
    anonymous = httpx.get(
        f"http://127.0.0.1:{base}/services/data/v60.0/query",
        params={"q": "SELECT Id FROM Opportunity"},
        timeout=10,
    )
    assert anonymous.status_code == 401
    assert anonymous.json()[0]["errorCode"] == "INVALID_SESSION_ID"


def test_demo_writes_the_discrepancy_manifest(demo: tuple[CliProcess, int, int, Path]) -> None:
    _, _, _, workdir = demo
    manifest = json.loads((workdir / "var" / "discrepancies-seed42.json").read_text())
    assert manifest["seed"] == 42
    assert len(manifest["discrepancies"]) >= 6


def test_the_printed_demo_token_authorises_a_governed_query(
    demo: tuple[CliProcess, int, int, Path],
) -> None:
    process, port, _, _ = demo
    found = [t for t in process.lines if '"Authorization": "Bearer ' in t]
    assert found, "\n".join(process.lines)
    token = found[0].split("Bearer ", 1)[1].split('"', 1)[0]
    query = {"query": "{ deadLetters { id } businessExceptions { id } }"}
    url = f"http://127.0.0.1:{port}/graphql"
    anonymous = httpx.post(url, json=query, timeout=30).json()
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    allowed = httpx.post(
        url, json=query, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    assert allowed == {"data": {"deadLetters": [], "businessExceptions": []}}

"""GraphiQL in headless Chromium against `engagement-gateway demo`, with no internet.

Debian's `chromium` (installed by `make test`) driven by Playwright's Python
package; Playwright never downloads a browser. Every request the page makes
is recorded, and any to a non-local host is aborted, so the page is proven to
work offline.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Route, expect, sync_playwright

from tests.e2e.support import CliProcess, free_port, free_port_block

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOT = Path(os.environ.get("EG_GRAPHIQL_SCREENSHOT", "/tmp/graphiql.png"))
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return parts.hostname in LOCAL_HOSTS


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CliProcess, str]]:
    base, port = free_port_block(4), free_port()
    process = CliProcess(
        ["demo", "--host", "127.0.0.1", "--port", str(port), "--sandbox-port-base", str(base)],
        cwd=tmp_path_factory.mktemp("graphiql-demo"),
    )
    try:
        process.wait_for_line("ready", timeout_s=60)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        process.stop()


@pytest.fixture(scope="module")
def gateway_url(demo: tuple[CliProcess, str]) -> str:
    return demo[1]


@pytest.fixture(scope="module")
def demo_headers(demo: tuple[CliProcess, str]) -> str:
    """The Headers JSON the demo prints for GraphiQL, as a user would paste it."""
    found = [line for line in demo[0].lines if '"Authorization": "Bearer ' in line]
    line = found[0] if found else demo[0].wait_for_line('"Authorization": "Bearer ', 10)
    return line.split("Headers:", 1)[1].strip()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_graphiql_runs_the_systems_query_with_no_request_leaving_the_machine(
    gateway_url: str, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    requested: list[str] = []
    page_errors: list[str] = []  # uncaught exceptions and console errors (e.g. CSP refusals)

    def offline(route: Route) -> None:
        route.abort("internetdisconnected")

    context.route(lambda url: not is_local(url), offline)
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{gateway_url}/graphql")
        expect(page.locator(".graphiql-tab")).to_contain_text(
            ["SalesView", "PmoView", "FinanceView"], timeout=20_000
        )

        editor = page.locator(".graphiql-query-editor .CodeMirror").first
        editor.click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text("query Typed { systems { name ok breaker } }")
        # The tab takes the operation's name once GraphiQL has parsed what was typed.
        expect(page.locator(".graphiql-tab-active")).to_contain_text("Typed")
        page.locator(".graphiql-execute-button").click()

        result = page.locator(".graphiql-response")
        expect(result).to_contain_text('"systems"', timeout=30_000)
        text = result.inner_text()
        for name in ("salesforce", "kantata", "harvest", "netsuite"):
            assert f'"{name}"' in text, text
        assert '"ok": true' in text and '"CLOSED"' in text, text
        assert '"errors"' not in text, text
        page.screenshot(path=str(SCREENSHOT))

        page.locator(".graphiql-tab", has_text="FinanceView").click()
        expect(page.locator(".graphiql-query-editor")).to_contain_text("query FinanceView")
        page.locator(".graphiql-execute-button").click()
        expect(result).to_contain_text('"unbilledWip"', timeout=30_000)
        finance = result.inner_text()
        assert '"engagements"' in finance and '"errors"' not in finance, finance
        assert '"breaker"' not in finance  # the finance example's own selection
    finally:
        context.close()

    assert page_errors == []
    assert any(url.endswith("/graphql") for url in requested), requested
    assert any("/graphiql/static/graphiql/graphiql.min.js" in url for url in requested)
    assert [url for url in requested if not is_local(url)] == []


SUBMITTED_TIME = """{ engagements(first: 50, filter: {status: ACTIVE}) { nodes {
  timeEntries(first: 20, filter: {approval: SUBMITTED}) { nodes { id } } } } }"""
APPROVE = """mutation($ids: [ID!]!, $key: String!) {
  approveTimeEntries(ids: $ids, idempotencyKey: $key) { __typename } }"""


def _graphql(url: str, headers: dict[str, str], query: str, **variables: object) -> object:
    body = {"query": query, "variables": variables}
    response = httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=30)
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return response.json()["data"]


def test_graphiql_streams_a_subscription_until_stopped(
    gateway_url: str, demo_headers: str, browser: Browser
) -> None:
    headers: dict[str, str] = json.loads(demo_headers)
    found = _graphql(gateway_url, headers, SUBMITTED_TIME)
    nodes = found["engagements"]["nodes"]  # type: ignore[index]
    entry = next(e["id"] for n in nodes for e in n["timeEntries"]["nodes"])
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page_errors: list[str] = []
    context.route(lambda url: not is_local(url), lambda route: route.abort("internetdisconnected"))
    page = context.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{gateway_url}/graphql")
        page.locator(".graphiql-tab", has_text="LiveEvents").click(timeout=20_000)
        expect(page.locator(".graphiql-query-editor")).to_contain_text("subscription LiveEvents")
        page.locator('button[data-name="headers"]').click()
        tool = page.locator('section.graphiql-editor-tool[aria-label="Headers"]')
        tool.locator(".graphiql-editor:not(.hidden) .CodeMirror").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(demo_headers)

        def is_stream(response: object) -> bool:
            request = getattr(response, "request")  # noqa: B009
            return "text/event-stream" in (request.headers.get("accept") or "")

        # The gateway answers the stream's headers once the subscription is live.
        with page.expect_response(is_stream, timeout=10_000) as streamed:
            page.locator(".graphiql-execute-button").click()
        assert streamed.value.status == 200
        assert streamed.value.request.headers["authorization"] == headers["Authorization"]
        execute = page.locator(".graphiql-execute-button")
        expect(execute).to_have_attribute("aria-label", "Stop query (Ctrl-Enter)")

        approved = _graphql(gateway_url, headers, APPROVE, ids=[entry], key=f"graphiql-{entry}")
        assert approved == {"approveTimeEntries": {"__typename": "TimeEntriesApproved"}}
        result = page.locator(".graphiql-response")
        expect(result).to_contain_text('"time.approved"', timeout=10_000)
        assert entry in result.inner_text()
        assert '"errors"' not in result.inner_text()

        with page.expect_event("requestfailed", timeout=5_000) as aborted:
            execute.click()  # stop: GraphiQL calls return(), which aborts the request
        assert "text/event-stream" in (aborted.value.headers.get("accept") or "")
        expect(execute).to_have_attribute("aria-label", "Execute query (Ctrl-Enter)")
        assert entry in result.inner_text()  # the last result stays on screen
    finally:
        context.close()
    assert page_errors == []

"""GraphQL over HTTP: every status-code rule of the gateway's /graphql view.

The rules are the view's, whatever the schema, so most tests mount a small
probe schema (it has a mutation and fields that fail on purpose) in the
gateway's own view class; see tests/contract/test_gateway_graphql_http.py for
the same endpoint in the real gateway.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.contract.graphql_probe import Probe, probe_app, probe_client

GR = "application/graphql-response+json"
JSON = "application/json"
BOTH = f"{GR}, {JSON};q=0.9"


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
async def client(probe: Probe, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with probe_client(probe_app(probe, tmp_path / "no-node-modules")) as c:
        yield c


async def post(
    client: httpx.AsyncClient, body: object, accept: str | None = JSON, **headers: str
) -> httpx.Response:
    if accept is not None:
        headers["Accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


def media(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


def assert_graphql_errors(response: httpx.Response, *, data: bool = False) -> list[Any]:
    body = response.json()
    assert ("data" in body) is data, body
    assert body["errors"] and all(isinstance(e["message"], str) for e in body["errors"]), body
    errors: list[Any] = body["errors"]
    return errors


# --- success and content negotiation ------------------------------------------------


async def test_post_json_executes_and_answers_json_utf8(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "{ hello }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json() == {"data": {"hello": "hello world"}}


async def test_get_executes_a_query_from_the_query_string(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "query($n: String!) { hello(name: $n) }", "variables": '{"n": "ada"}'},
        headers={"Accept": GR},
    )
    assert response.status_code == 200
    assert media(response) == GR
    assert response.json() == {"data": {"hello": "hello ada"}}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        (JSON, JSON),
        (GR, GR),
        (BOTH, GR),
        (f"{JSON}, {GR};q=0.5", JSON),
        (f"{GR};charset=utf-8", GR),
        ("text/html, */*;q=0.8", JSON),
        (f"{JSON};q=0, */*", GR),
    ],
)
async def test_accept_header_picks_the_response_media_type(
    client: httpx.AsyncClient, accept: str | None, expected: str
) -> None:
    headers = {} if accept is None else {"Accept": accept}
    response = await client.post("/graphql", json={"query": "{ hello }"}, headers=headers)
    assert response.status_code == 200, response.text
    assert media(response) == expected
    assert response.json()["data"] == {"hello": "hello world"}


@pytest.mark.parametrize("accept", ["text/plain", "application/xml", f"{GR};q=0, {JSON};q=0"])
async def test_unsupported_accept_is_406(client: httpx.AsyncClient, accept: str) -> None:
    for response in (
        await post(client, {"query": "{ hello }"}, accept=accept),
        await client.get("/graphql", params={"query": "{ hello }"}, headers={"Accept": accept}),
    ):
        assert response.status_code == 406
        assert "graphql-response+json" in assert_graphql_errors(response)[0]["message"]


# --- request errors: 400 with graphql-response+json, 200 with application/json ------


REQUEST_ERRORS = {
    "syntax": {"query": "{ hello "},
    "validation": {"query": "{ nosuchfield }"},
    "variable type": {"query": "query($n: String!) { hello(name: $n) }", "variables": {"n": 5}},
    "missing variable": {"query": "query($n: String!) { hello(name: $n) }"},
    "unknown operationName": {"query": "query A { hello }", "operationName": "B"},
    "several operations, no operationName": {"query": "query A { hello } query B { hello }"},
    "fragments only": {"query": "fragment F on Query { hello }"},
}


@pytest.mark.parametrize("body", list(REQUEST_ERRORS.values()), ids=list(REQUEST_ERRORS))
async def test_a_request_error_is_400_with_graphql_response_json_and_no_data(
    client: httpx.AsyncClient, probe: Probe, body: dict[str, Any]
) -> None:
    response = await post(client, body, accept=BOTH)
    assert response.status_code == 400, response.text
    assert media(response) == GR
    assert_graphql_errors(response, data=False)


@pytest.mark.parametrize("body", list(REQUEST_ERRORS.values()), ids=list(REQUEST_ERRORS))
async def test_a_request_error_is_200_with_application_json_and_no_data(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await post(client, body, accept=JSON)
    assert response.status_code == 200, response.text
    assert media(response) == JSON
    assert_graphql_errors(response, data=False)


async def test_a_field_error_is_200_with_partial_data_under_both_media_types(
    client: httpx.AsyncClient,
) -> None:
    for accept in (GR, JSON):
        response = await post(client, {"query": "{ hello upstream }"}, accept=accept)
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == {"hello": "hello world", "upstream": None}
        assert body["errors"][0]["path"] == ["upstream"]


async def test_a_non_null_root_field_error_is_still_a_field_error(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, {"query": "{ boomRequired }"}, accept=GR)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None  # present and null: execution ran
    assert body["errors"][0]["path"] == ["boomRequired"]


async def test_operation_name_selects_the_operation(client: httpx.AsyncClient) -> None:
    document = 'query A { hello(name: "a") } query B { hello(name: "b") }'
    for name in ("A", "B"):
        response = await post(client, {"query": document, "operationName": name})
        assert response.json() == {"data": {"hello": f"hello {name.lower()}"}}
    empty = await post(client, {"query": "query A { hello }", "operationName": ""})
    assert empty.json() == {"data": {"hello": "hello world"}}


async def test_several_operations_without_operation_name_run_none_of_them(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    response = await post(client, {"query": "mutation M { touch } query Q { hello }"}, accept=GR)
    assert response.status_code == 400
    assert "operationName" in assert_graphql_errors(response)[0]["message"]
    assert probe.touched == []


# --- malformed requests: 400 whatever the Accept ------------------------------------


MALFORMED_BODIES: dict[str, bytes] = {
    "not JSON": b'{"query": "{ hello }"',
    "empty body": b"",
    "not UTF-8": b'{"query": "\xff\xfe"}',
    "a JSON string": b'"{ hello }"',
    "missing query": b'{"variables": {}}',
    "null query": b'{"query": null}',
    "empty query": b'{"query": ""}',
    "number query": b'{"query": 42}',
    "object query": b'{"query": {"a": 1}}',
    "list variables": b'{"query": "{ hello }", "variables": [1]}',
    "string variables": b'{"query": "{ hello }", "variables": "{}"}',
    "number variables": b'{"query": "{ hello }", "variables": 3}',
    "number operationName": b'{"query": "{ hello }", "operationName": 1}',
    "list extensions": b'{"query": "{ hello }", "extensions": []}',
    "deeply nested": b'{"query": "{ hello }", "variables": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
}


@pytest.mark.parametrize("raw", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
@pytest.mark.parametrize("accept", [GR, JSON])
async def test_a_malformed_request_is_400_with_a_graphql_shaped_error(
    client: httpx.AsyncClient, raw: bytes, accept: str
) -> None:
    response = await client.post(
        "/graphql", content=raw, headers={"Content-Type": JSON, "Accept": accept}
    )
    assert response.status_code == 400, response.text
    assert media(response) == accept
    assert_graphql_errors(response)


async def test_a_batch_is_400_and_says_batching_is_not_supported(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    response = await post(client, [{"query": "{ hello }"}, {"query": "mutation { touch }"}])
    assert response.status_code == 400
    assert "not supported" in assert_graphql_errors(response)[0]["message"]
    assert probe.touched == []


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"query": ""},
        {"query": "{ hello }", "variables": "{not json"},
        {"query": "{ hello }", "variables": "[1, 2]"},
        {"query": "{ hello }", "extensions": "42"},
    ],
    ids=[
        "no query",
        "empty query",
        "variables not JSON",
        "variables a list",
        "extensions a number",
    ],
)
async def test_a_malformed_get_is_400(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    response = await client.get("/graphql", params=params, headers={"Accept": JSON})
    assert response.status_code == 400, response.text
    assert_graphql_errors(response)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/graphql",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        GR,
    ],
)
async def test_post_with_an_unsupported_content_type_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = (
        {"Accept": BOTH} if content_type is None else {"Accept": BOTH, "Content-Type": content_type}
    )
    response = await client.post("/graphql", content=b'{"query": "{ hello }"}', headers=headers)
    assert response.status_code == 415, response.text
    assert_graphql_errors(response)


async def test_json_content_type_parameters_are_accepted(client: httpx.AsyncClient) -> None:
    for content_type in ("application/json; charset=utf-8", 'Application/JSON; charset="UTF-8"'):
        response = await client.post(
            "/graphql", content=b'{"query": "{ hello }"}', headers={"Content-Type": content_type}
        )
        assert response.status_code == 200, (content_type, response.text)


# --- methods ---------------------------------------------------------------------------


async def test_a_mutation_over_get_is_405_allow_post_and_does_not_run(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    for accept in (GR, JSON):
        response = await client.get(
            "/graphql", params={"query": "mutation { touch }"}, headers={"Accept": accept}
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert "POST" in assert_graphql_errors(response)[0]["message"]
    assert probe.touched == []
    named = await client.get(
        "/graphql",
        params={"query": "query Q { hello } mutation M { touch }", "operationName": "M"},
    )
    assert named.status_code == 405
    assert probe.touched == []


async def test_a_mutation_over_post_runs(client: httpx.AsyncClient, probe: Probe) -> None:
    response = await post(client, {"query": "mutation { touch }"}, accept=GR)
    assert response.status_code == 200
    assert response.json() == {"data": {"touch": 1}}
    assert probe.touched == ["touch"]


async def test_get_may_run_the_query_of_a_document_that_also_has_a_mutation(
    client: httpx.AsyncClient, probe: Probe
) -> None:
    response = await client.get(
        "/graphql", params={"query": "query Q { hello } mutation M { touch }", "operationName": "Q"}
    )
    assert response.json() == {"data": {"hello": "hello world"}}
    assert probe.touched == []


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"])
async def test_other_methods_are_405_allow_get_post(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


async def test_a_subscription_over_http_is_400(client: httpx.AsyncClient) -> None:
    response = await post(client, {"query": "subscription { hello }"}, accept=JSON)
    assert response.status_code == 400
    assert "WebSocket" in assert_graphql_errors(response)[0]["message"]


# --- correlation ID and robustness -------------------------------------------------


async def test_every_answer_carries_the_correlation_id(client: httpx.AsyncClient) -> None:
    sent = {"X-Correlation-ID": "http-rules-1"}
    responses = [
        await client.post("/graphql", json={"query": "{ correlation }"}, headers=sent),
        await client.post("/graphql", content=b"{", headers={**sent, "Content-Type": JSON}),
        await client.post(
            "/graphql", content=b"{}", headers={**sent, "Content-Type": "text/plain"}
        ),
        await client.get("/graphql", params={"query": "mutation { touch }"}, headers=sent),
        await client.put("/graphql", headers=sent),
        await client.get(
            "/graphql", params={"query": "{ hello }"}, headers={**sent, "Accept": "x/y"}
        ),
    ]
    assert [r.status_code for r in responses] == [200, 400, 415, 405, 405, 406]
    assert {r.headers["x-correlation-id"] for r in responses} == {"http-rules-1"}
    assert responses[0].json() == {"data": {"correlation": "http-rules-1"}}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=20),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=3)
            ),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {"query": st.text(max_size=40)},
            optional={"variables": st.text(max_size=20), "operationName": st.text(max_size=8)},
        ).map(lambda v: json.dumps(v).encode()),
    ),
    content_type=st.sampled_from([JSON, "text/plain", "", "application/json; charset=utf-16"]),
    accept=st.sampled_from([GR, JSON, "*/*", "", "text/html", "image/png"]),
)
def test_no_request_body_or_header_ever_gets_a_500(
    tmp_path_factory: pytest.TempPathFactory, body: bytes, content_type: str, accept: str
) -> None:
    app = probe_app(Probe(), tmp_path_factory.getbasetemp() / "none")

    async def call() -> httpx.Response:
        async with probe_client(app) as client:
            headers = {"Content-Type": content_type, "Accept": accept}
            return await client.post("/graphql", content=body, headers=headers)

    response = asyncio.run(call())
    assert response.status_code in {200, 400, 405, 406, 415}, response.text
    assert "errors" in response.json() or "data" in response.json()

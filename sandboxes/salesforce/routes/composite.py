"""Composite and Composite Batch: several API calls in one request.

- ``POST /composite`` ``{"allOrNone", "compositeRequest": [{method, url, referenceId, body?}]}``:
  ≤25 subrequests, of which ≤5 queries or collections; later subrequests use
  ``@{referenceId.path}`` (e.g. ``@{newAccount.id}``, ``@{q.records[0].Id}``)
  in their URL or body. With ``allOrNone`` the first failure rolls every
  write back and every subrequest reports PROCESSING_HALTED. Answer:
  ``{"compositeResponse": [{body, httpHeaders, httpStatusCode, referenceId}]}``.
- ``POST /composite/batch`` ``{"haltOnError", "batchRequests": [{method, url, richInput?}]}``:
  ≤25 independent subrequests. Answer ``{"hasErrors", "results": [{statusCode, result}]}``;
  after a failure with ``haltOnError`` the rest answer 412 BATCH_PROCESSING_HALTED.

The exact errorCode for too many subrequests is unverified (LIMIT_EXCEEDED here).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sandboxes.salesforce.errors import SalesforceError
from sandboxes.salesforce.org import Org
from sandboxes.salesforce.routes.api import api_route, read_json
from sandboxes.salesforce.routes.subrequest import run_subrequest
from sandboxes.salesforce.serialize import json_response

__all__ = ["MAX_QUERIES", "MAX_SUBREQUESTS", "composite_routes"]

MAX_SUBREQUESTS = 25
MAX_QUERIES = 5
_REFERENCE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
_HALTED = "The transaction was rolled back since another operation in the same transaction failed."


def _halted(message: str = _HALTED) -> list[dict[str, str]]:
    return [{"errorCode": "PROCESSING_HALTED", "message": message}]


def _items(body: Any, key: str) -> list[Any]:
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        raise SalesforceError(400, "JSON_PARSER_ERROR", f"{key} must be an array")
    items: list[Any] = body[key]
    if len(items) > MAX_SUBREQUESTS:
        raise SalesforceError(
            400, "LIMIT_EXCEEDED", f"Maximum number of subrequests allowed is {MAX_SUBREQUESTS}"
        )
    for item in items:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("method"), str)
            or not isinstance(item.get("url"), str)
        ):
            raise SalesforceError(400, "JSON_PARSER_ERROR", "each subrequest needs method and url")
    return items


def _lookup(results: dict[str, Any], ref: str, path: str) -> Any:
    if ref not in results:
        raise KeyError(ref)
    value = results[ref]
    for name, index in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
        value = value[int(index)] if index else value[name]
    return value


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    """Replace every ``@{ref.path}`` with the referenced subrequest's answer."""
    if isinstance(value, str):
        whole = _REFERENCE.fullmatch(value)
        if whole:
            return _lookup(results, whole.group(1), whole.group(2))
        return _REFERENCE.sub(lambda m: str(_lookup(results, m.group(1), m.group(2))), value)
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    return value


def composite_routes(org: Org, target: Callable[[], ASGIApp]) -> list[Route]:
    async def composite(request: Request) -> Response:
        body = await read_json(request)
        items = _items(body, "compositeRequest")
        if sum(("/query" in i["url"]) or ("/composite/" in i["url"]) for i in items) > MAX_QUERIES:
            raise SalesforceError(
                400,
                "LIMIT_EXCEEDED",
                f"Maximum number of query and collection subrequests allowed is {MAX_QUERIES}",
            )
        ids = [i.get("referenceId") for i in items]
        if any(not isinstance(r, str) or not _REFERENCE_ID.match(r) for r in ids):
            raise SalesforceError(
                400, "INVALID_FIELD", "every subrequest needs a valid referenceId"
            )
        if len(set(ids)) != len(ids):
            raise SalesforceError(400, "DUPLICATE_VALUE", "referenceIds must be unique")
        all_or_none = body.get("allOrNone") is True
        snapshot = org.state.snapshot() if all_or_none else None
        results: dict[str, Any] = {}
        answers: list[dict[str, Any]] = []
        failed = False
        for item in items:
            ref = item["referenceId"]
            if failed and all_or_none:
                answers.append({"body": _halted(), "httpHeaders": {}, "httpStatusCode": 400,
                                "referenceId": ref})  # fmt: skip
                continue
            answer: Any
            try:
                url = _resolve(item["url"], results)
                payload = _resolve(item.get("body"), results)
            except (KeyError, IndexError, TypeError):
                status, answer = 400, _halted(f"Invalid reference specified in {ref}")
            else:
                status, answer = await run_subrequest(target, request, item["method"], url, payload)
            if status < 400:
                results[ref] = answer
            else:
                failed = True
            answers.append({"body": answer, "httpHeaders": {}, "httpStatusCode": status,
                            "referenceId": ref})  # fmt: skip
        if failed and snapshot is not None:
            org.state.restore(snapshot)
            for done in answers:
                if done["httpStatusCode"] < 400:
                    done.update({"body": _halted(), "httpStatusCode": 400})
        return json_response({"compositeResponse": answers})

    async def batch(request: Request) -> Response:
        body = await read_json(request)
        items = _items(body, "batchRequests")
        halt = body.get("haltOnError") is True
        results: list[dict[str, Any]] = []
        failed = False
        for item in items:
            if failed and halt:
                results.append({"statusCode": 412, "result": [
                    {"errorCode": "BATCH_PROCESSING_HALTED",
                     "message": "Batch processing halted per request"}
                ]})  # fmt: skip
                continue
            status, answer = await run_subrequest(
                target, request, item["method"], item["url"], item.get("richInput")
            )
            failed = failed or status >= 400
            results.append({"statusCode": status, "result": answer})
        return json_response({"hasErrors": failed, "results": results})

    return [
        api_route(org, "/composite", {"POST": composite}),
        api_route(org, "/composite/batch", {"POST": batch}),
    ]

"""Closing a deal won through its policy checks, and the activation saga it starts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.governance import Role
from domain.operations import OperationStatus
from sandboxes.firm import Firm
from tests.governance_support import (
    as_role,
    governed_client,
    mutate,
    open_opportunities,
    store,
    wait_for_operation,
    writes,
)
from tests.graph_support import GraphClient

READINESS = """query($id: ID!) { winReadiness(opportunityId: $id) {
  ready engagementKey checks { name passed reason ownerRole } } }"""

CLOSE = """mutation($id: ID!, $key: String) {
  closeWinOpportunity(opportunityId: $id, idempotencyKey: $key) {
    __typename
    ... on OpportunityWon { operationId engagementKey checks { name passed } }
    ... on PolicyRejected { operationId failures { name reason ownerRole } exceptionIds }
    ... on BusinessRejection { code message }
  } }"""

ACTIVATE = """mutation($eng: String!, $key: String) {
  activateEngagement(engagementKey: $eng, idempotencyKey: $key) {
    __typename
    ... on EngagementActivated { operationId engagementKey erpCustomerId psaProjectId
                                 erpProjectId billingScheduleId }
    ... on BusinessRejection { code message ownerRole }
    ... on DeadLettered { deadLetterId error }
  } }"""


@pytest.fixture(params=["embedded", "real"])
async def client(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    async with governed_client(firm, request.param) as gateway:
        yield gateway


async def _readiness(client: GraphClient, opportunity_id: str) -> dict[str, Any]:
    data = await client.data(READINESS, {"id": opportunity_id})
    readiness: dict[str, Any] = data["winReadiness"]
    return readiness


async def _first(client: GraphClient, ready: bool) -> tuple[str, str]:
    for deal in await open_opportunities(client):
        crm_id = deal["opportunity"]["crmId"]
        if (await _readiness(client, crm_id))["ready"] is ready:
            return crm_id, deal["key"]
    raise AssertionError(f"no open deal with ready={ready}")


async def test_readiness_runs_seven_checks_without_changing_anything(
    client: GraphClient,
) -> None:
    crm_id, _ = await _first(client, ready=False)
    before = await client.calls()
    readiness = await _readiness(client, crm_id)
    names = [c["name"] for c in readiness["checks"]]
    assert names == [
        "CUSTOMER_MASTER_STATUS",
        "LEGAL_ENTITY_MAPPING",
        "SERVICE_LINE_CLASSIFICATION",
        "TAX_JURISDICTION",
        "BILLING_MODEL",
        "RATE_CARD_VERSION",
        "DELIVERY_READINESS",
    ]
    failed = [c for c in readiness["checks"] if not c["passed"]]
    assert failed and all(c["reason"] and c["ownerRole"] for c in failed)
    assert await store(client).events() == []
    assert (await client.calls())["salesforce"] > before["salesforce"]  # it read, nothing more


async def test_a_failing_deal_is_rejected_with_an_exception_per_failed_check(
    client: GraphClient,
) -> None:
    crm_id, key = await _first(client, ready=False)
    sales = as_role(client, Role.SALES)
    body = await mutate(client, CLOSE, {"id": crm_id}, headers=sales)
    result = body["data"]["closeWinOpportunity"]
    assert result["__typename"] == "PolicyRejected"
    assert len(result["exceptionIds"]) == len(result["failures"]) >= 1
    exceptions = await store(client).business_exceptions()
    assert {e.id for e in exceptions} == set(result["exceptionIds"])
    assert {e.owner_role for e in exceptions} == {Role(f["ownerRole"]) for f in result["failures"]}
    types = [e.type for _, e in await store(client).events()]
    assert "opportunity.rejected" in types and "opportunity.won" not in types
    stage = await client.data("query($k: String!) { engagement(key: $k) { status } }", {"k": key})
    assert stage["engagement"]["status"] == "QUALIFYING"


async def test_a_ready_deal_is_won_and_activated_once_by_its_event(client: GraphClient) -> None:
    crm_id, key = await _first(client, ready=True)
    sales = as_role(client, Role.SALES)
    body = await mutate(client, CLOSE, {"id": crm_id}, headers=sales, key="win-1")
    result = body["data"]["closeWinOpportunity"]
    assert result["__typename"] == "OpportunityWon", body
    assert result["engagementKey"] == key
    activation = await wait_for_operation(client, f"activation:{key}")
    assert activation.status is OperationStatus.SUCCEEDED, activation
    types = [e.type for _, e in await store(client).events()]
    assert types.count("opportunity.won") == 1 and types.count("project.activated") == 1
    data = await client.data(
        """query($k: String!) { engagement(key: $k) { status project { id }
             billingSchedule { kind lines { amount { amount } } } } }""",
        {"k": key},
    )
    engagement = data["engagement"]
    assert engagement["status"] == "ACTIVE"
    assert engagement["billingSchedule"]["lines"]
    # a replay of the same key changes nothing and answers the same
    written = await writes(client)
    again = await mutate(client, CLOSE, {"id": crm_id}, headers=sales, key="win-1")
    assert again["data"]["closeWinOpportunity"]["operationId"] == result["operationId"]
    assert await writes(client) == written
    # activating again (another key) finds the finished saga: no second project anywhere
    pmo = as_role(client, Role.PMO)
    twice = await mutate(client, ACTIVATE, {"eng": key}, headers=pmo)
    assert await writes(client) == written
    activated = twice["data"]["activateEngagement"]
    assert activated["__typename"] == "EngagementActivated"
    assert activated["operationId"] == f"activation:{key}"
    trail = await store(client).audit_trail(key)  # type: ignore[arg-type]
    actions = [a.action for a in trail]
    assert actions[:2] == ["closeWinOpportunity.check", "closeWinOpportunity.close"]
    assert "activation.create_billing_schedule" in actions


async def test_closing_a_closed_deal_is_refused_and_changes_nothing(client: GraphClient) -> None:
    data = await client.data(
        "{ engagements(first: 1, filter: {status: ACTIVE}) { nodes { opportunity { crmId } } } }"
    )
    crm_id = data["engagements"]["nodes"][0]["opportunity"]["crmId"]
    body = await mutate(client, CLOSE, {"id": crm_id}, headers=as_role(client, Role.SALES))
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "already" in error["message"]
    assert await store(client).events() == []


async def test_transitions_need_an_authorised_caller_and_an_idempotency_key(
    client: GraphClient,
) -> None:
    crm_id, _ = await _first(client, ready=True)
    anonymous = await mutate(client, CLOSE, {"id": crm_id}, headers={})
    assert anonymous["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    finance = await mutate(client, CLOSE, {"id": crm_id}, headers=as_role(client, Role.FINANCE))
    assert finance["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "SALES" in finance["errors"][0]["message"]
    keyless = await client.http.post(
        "/graphql",
        json={"query": CLOSE, "variables": {"id": crm_id}},
        headers=as_role(client, Role.SALES),
    )
    error = keyless.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "idempotency" in error["message"]
    assert await store(client).events() == []


async def test_the_idempotency_key_header_works_and_reuse_with_other_input_is_refused(
    client: GraphClient,
) -> None:
    ready, _ = await _first(client, ready=True)
    other, _ = await _first(client, ready=False)
    headers = {**as_role(client, Role.SALES), "Idempotency-Key": "hdr-1"}
    first = await client.http.post(
        "/graphql", json={"query": CLOSE, "variables": {"id": ready}}, headers=headers
    )
    assert first.json()["data"]["closeWinOpportunity"]["__typename"] == "OpportunityWon"
    reused = await client.http.post(
        "/graphql", json={"query": CLOSE, "variables": {"id": other}}, headers=headers
    )
    error = reused.json()["errors"][0]
    assert error["extensions"]["code"] == "IDEMPOTENCY_CONFLICT", error


RESOLVE = """mutation($id: ID!, $text: String!, $key: String) {
  resolveBusinessException(id: $id, resolution: $text, idempotencyKey: $key) {
    __typename ... on ExceptionResolved { exceptionId resolution }
  } }"""


async def test_an_exception_is_resolved_by_its_owner_role_only(client: GraphClient) -> None:
    crm_id, _ = await _first(client, ready=False)
    body = await mutate(client, CLOSE, {"id": crm_id}, headers=as_role(client, Role.SALES))
    failure = body["data"]["closeWinOpportunity"]["failures"][0]
    exception_id = next(
        e.id for e in await store(client).business_exceptions() if e.code == failure["name"]
    )
    owner = Role(failure["ownerRole"])
    stranger = next(r for r in (Role.FINANCE, Role.PMO) if r is not owner)
    refused = await mutate(
        client, RESOLVE, {"id": exception_id, "text": "done"}, headers=as_role(client, stranger)
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    done = await mutate(
        client,
        RESOLVE,
        {"id": exception_id, "text": "customer released from hold"},
        headers=as_role(client, owner),
    )
    assert done["data"]["resolveBusinessException"] == {
        "__typename": "ExceptionResolved",
        "exceptionId": exception_id,
        "resolution": "customer released from hold",
    }
    open_ids = {e.id for e in await store(client).business_exceptions()}
    assert exception_id not in open_ids
    types = [e.type for _, e in await store(client).events()]
    assert types.count("exception.resolved") == 1

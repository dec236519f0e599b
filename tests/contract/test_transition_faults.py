"""Governed transitions under vendor faults: completed, or dead-lettered with context.

With every sandbox answering ~10% 5xx, ~10% 429 and losing ~5% of its answers
after applying the request, a mix of transitions (wins and the activations they
start, time approvals, milestone acceptance, invoicing, payments) must each end
SUCCEEDED, REJECTED with a business exception, or DEAD_LETTERED with a dead
letter that says what, where and why; nothing stays RUNNING. Replaying every
dead letter once the faults are gone completes them, and no system holds a
duplicate. Then two failure paths in detail: the CRM down while an invoice is
posted, and discarding an activation that had created its PSA project.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from domain.governance import DeadLetterStatus, Role
from domain.ids import EngagementKey, RecordId
from domain.models import ApprovalStatus, MilestoneState
from domain.operations import Operation, OperationStatus
from sandboxes.firm import Firm
from tests.billing_support import GENERATE, PAY, POST, FailMatching, systems_of
from tests.governance_support import (
    as_role,
    governed_client,
    mutate,
    open_opportunities,
    store,
    wait_for_operation,
)
from tests.graph_support import AS_OF, SYSTEMS, GraphClient

CLOSE = """mutation($id: ID!, $key: String) {
  closeWinOpportunity(opportunityId: $id, idempotencyKey: $key) {
    __typename
    ... on OpportunityWon { operationId engagementKey }
    ... on PolicyRejected { operationId }
    ... on BusinessRejection { operationId code }
    ... on DeadLettered { operationId deadLetterId }
    ... on TransitionPending { operationId }
  } }"""

APPROVE = """mutation($ids: [ID!]!, $key: String) {
  approveTimeEntries(ids: $ids, idempotencyKey: $key) {
    __typename
    ... on TimeEntriesApproved { operationId approvedIds }
    ... on BusinessRejection { operationId code }
    ... on DeadLettered { operationId deadLetterId }
    ... on TransitionPending { operationId }
  } }"""

ACCEPT = """mutation($id: ID!, $key: String) {
  acceptMilestone(milestoneId: $id, idempotencyKey: $key) {
    __typename
    ... on MilestoneAccepted { operationId milestoneId }
    ... on BusinessRejection { operationId code }
    ... on DeadLettered { operationId deadLetterId }
    ... on TransitionPending { operationId }
  } }"""

READY = "query($id: ID!) { winReadiness(opportunityId: $id) { ready } }"

REPLAY = """mutation($id: ID!) { replayDeadLetter(id: $id) {
  deadLetter { id status note } operation { id kind status result } } }"""

DISCARD = """mutation($id: ID!, $reason: String!) { discardDeadLetter(id: $id, reason: $reason) {
  deadLetter { id status note } compensated } }"""

FAULTS = {"error_rate": 0.1, "rate_limit_rate": 0.1, "error_after_rate": 0.05}
CLEAR = {"error_rate": 0.0, "rate_limit_rate": 0.0, "error_after_rate": 0.0}
SETTINGS: dict[str, Any] = {
    "harvest_rate_limit": None,
    "step_attempts": 2,  # few attempts, so some transitions are dead-lettered
    "retry_max_attempts": 2,
    "breaker_reset_timeout_s": 0.05,  # a breaker opened by the faults recovers at once
}
SANDBOXES: dict[str, dict[str, Any]] = {"harvest": {"rate_limit": None}}
FINISHED = {OperationStatus.SUCCEEDED, OperationStatus.REJECTED, OperationStatus.DEAD_LETTERED}


@pytest.fixture(params=["embedded", "real"])
async def client(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    async with governed_client(firm, request.param, SANDBOXES, **SETTINGS) as gateway:
        yield gateway


async def _faults(client: GraphClient, names: tuple[str, ...], **faults: float) -> None:
    for name in names:
        await client.sandboxes.set_faults(name, retry_after_s=0, **faults)


async def _call(
    client: GraphClient, document: str, variables: dict[str, Any], role: Role
) -> dict[str, Any]:
    """A caller that retries (same idempotency key) until it gets a typed answer: a read
    before journaling may fail under faults, and then nothing was journaled."""
    key, headers = uuid.uuid4().hex, as_role(client, role)
    for _ in range(8):
        body = await mutate(client, document, variables, headers=headers, key=key)
        answer = next(iter((body.get("data") or {}).values()), None)
        if answer is not None:
            if answer["__typename"] == "TransitionPending":
                await wait_for_operation(client, answer["operationId"], 30)
                continue  # the same key now answers the outcome
            return dict(answer)
    raise AssertionError(f"no typed answer: {body}")


async def _idle(client: GraphClient, timeout_s: float = 30.0) -> None:
    """Wait until no operation is RUNNING anywhere."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while incomplete := await store(client).incomplete_operations():
        assert asyncio.get_running_loop().time() < deadline, f"still running: {incomplete}"
        await asyncio.sleep(0.05)


async def _work(client: GraphClient, firm: Firm) -> dict[str, Any]:
    """What the mix acts on, read while nothing fails; engagements do not overlap."""
    systems = systems_of(client)
    ready = []
    for deal in await open_opportunities(client):
        crm_id = deal["opportunity"]["crmId"]
        if (await client.data(READY, {"id": crm_id}))["winReadiness"]["ready"]:
            ready.append((crm_id, deal["key"]))
    active = [e for e in firm.engagements if e.status == "ACTIVE" and len(e.present_in) == 4]
    keys = [EngagementKey(e.key) for e in active]
    entries = await systems.time.get_time_entries_by_engagement(
        keys, date_from=AS_OF.replace(day=1)
    )
    submitted: dict[str, list[str]] = {}
    for entry in entries:
        if entry.approval is ApprovalStatus.SUBMITTED and entry.engagement_key:
            submitted.setdefault(entry.engagement_key, []).append(entry.id)
    approvals = sorted(submitted)[:2]
    milestones = [
        m
        for m in await systems.psa.get_milestones(keys)
        if m.state is MilestoneState.COMPLETED and m.engagement_key not in approvals
    ][:2]
    taken = set(approvals) | {m.engagement_key for m in milestones}
    billing = []
    for model in ("TIME_AND_MATERIALS", "RETAINER", "MILESTONE"):
        billing += [
            e.key
            for e in active
            if e.billing_model == model and e.key not in taken and _has_unbilled(firm, e.key)
        ][:1]
    unpaid = [i for i in firm.invoices if i.status == "open" and i.amount_remaining > 0]
    invoices = await systems.erp.get_invoices_by_engagement(
        sorted({EngagementKey(i.engagement_key) for i in unpaid[:2]}), with_lines=False
    )
    pay = [i for i in invoices if i.external_id in {u.key for u in unpaid[:2]}]
    assert ready and approvals and milestones and len(billing) == 3 and pay
    return {
        "ready": ready[:2],
        "approve": [submitted[k][:4] for k in approvals],
        "milestones": [m.id for m in milestones],
        "billing": billing,
        "pay": pay,
    }


def _has_unbilled(firm: Firm, key: str) -> bool:
    """Approved billable time, an accepted milestone or a due fee not yet invoiced."""
    billed = {
        line.description for i in firm.invoices if i.engagement_key == key for line in i.lines
    }
    return (
        any(
            t.engagement_key == key and t.approved and t.billable and not t.invoice
            for t in firm.time_entries
        )
        or any(
            m.engagement_key == key and m.accepted and not m.invoice and m.due_date <= AS_OF
            for m in firm.milestones
        )
        or any(
            line.date <= AS_OF and line.description not in billed
            for s in firm.billing_schedules
            if s.engagement_key == key and s.kind == "RECURRING"
            for line in s.lines
        )
    )


async def _bill(client: GraphClient, key: str) -> list[dict[str, Any]]:
    made = await _call(client, GENERATE, {"eng": key, "end": AS_OF.isoformat()}, Role.FINANCE)
    if made["__typename"] != "InvoiceDraft":
        return [made]
    return [made, await _call(client, POST, {"draft": made["draftId"]}, Role.FINANCE)]


async def _check_finished(client: GraphClient, operation_ids: set[str]) -> Counter[str]:
    journal = store(client)
    outcomes: Counter[str] = Counter()
    for operation_id in sorted(operation_ids):
        operation = await journal.get_operation(operation_id)
        assert operation is not None and operation.status in FINISHED, operation
        outcomes[f"{operation.kind}:{operation.status.value}"] += 1
        result = operation.result or {}
        if operation.status is OperationStatus.REJECTED:
            exception = await journal.get_business_exception(str(result["exception_id"]))
            assert exception is not None and exception.owner_role, operation
        if operation.status is OperationStatus.DEAD_LETTERED:
            letter = await journal.get_dead_letter(str(result["dead_letter_id"]))
            assert letter is not None and letter.operation_id == operation_id
            assert letter.step and letter.error and letter.attempts >= 1, letter
            assert letter.context["input"] == operation.input, letter
            assert letter.system in SYSTEMS or letter.error_type == "AttemptsExhausted", letter
    return outcomes


async def _replay_all(client: GraphClient) -> list[Operation]:
    """Replay every pending dead letter (ADMIN) until none is left; the operations replayed."""
    admin = as_role(client, Role.ADMIN)
    replayed: list[Operation] = []
    for _ in range(5):
        pending = await store(client).dead_letters(DeadLetterStatus.PENDING, 1000)
        if not pending:
            return replayed
        for letter in pending:
            body = await mutate(client, REPLAY, {"id": letter.id}, headers=admin)
            answer = body["data"]["replayDeadLetter"]
            assert answer["operation"]["status"] == "SUCCEEDED", (letter, body)
            operation = await store(client).get_operation(letter.operation_id)
            assert operation is not None
            replayed.append(operation)
        await _idle(client)
    raise AssertionError("dead letters keep coming after the faults were cleared")


async def test_under_faults_every_transition_completes_or_is_dead_lettered_and_replays_cleanly(
    client: GraphClient, firm: Firm
) -> None:
    work = await _work(client, firm)
    await _faults(client, SYSTEMS, **FAULTS)
    calls: list[Any] = [
        *(_call(client, CLOSE, {"id": crm_id}, Role.SALES) for crm_id, _ in work["ready"]),
        *(_call(client, APPROVE, {"ids": ids}, Role.PMO) for ids in work["approve"]),
        *(_call(client, ACCEPT, {"id": m}, Role.PMO) for m in work["milestones"]),
        *(
            _call(
                client,
                PAY,
                {"inv": i.id, "amount": str(i.amount_remaining.amount), "cur": i.total.currency},
                Role.FINANCE,
            )
            for i in work["pay"]
        ),
    ]
    answers: list[dict[str, Any]] = list(await asyncio.gather(*calls))
    for billed in await asyncio.gather(*(_bill(client, k) for k in work["billing"])):
        answers += billed
    won = [a["engagementKey"] for a in answers if a["__typename"] == "OpportunityWon"]
    for key in won:  # opportunity.won starts each activation in the background
        await wait_for_operation(client, f"activation:{key}", 30)
    await _idle(client)
    operations = {a["operationId"] for a in answers} | {f"activation:{k}" for k in won}
    outcomes = await _check_finished(client, operations)
    print(f"\nunder faults: {dict(sorted(outcomes.items()))}")

    await _faults(client, SYSTEMS, **CLEAR)
    replayed = await _replay_all(client)
    print(f"replayed: {Counter(o.kind for o in replayed)}")
    # a replayed win starts its activation; a replayed generation has a draft to post
    for operation in replayed:
        if operation.kind == "closeWinOpportunity" and (operation.result or {}).get(
            "engagement_key"
        ):
            key = str(operation.result["engagement_key"])  # type: ignore[index]
            won.append(key)
            await wait_for_operation(client, f"activation:{key}", 30)
        if operation.kind == "generateInvoice":
            draft = (operation.result or {})["draft"]
            answers.append(await _call(client, POST, {"draft": draft["id"]}, Role.FINANCE))
    await _idle(client)
    assert await _replay_all(client) == []
    await _no_duplicates(client, answers, won, replayed)


async def _no_duplicates(
    client: GraphClient, answers: list[dict[str, Any]], won: list[str], replayed: list[Operation]
) -> None:
    systems, journal = systems_of(client), store(client)
    # every activation succeeded once: one PSA project, one ERP job, one billing schedule
    for key in won:
        operation = await journal.get_operation(f"activation:{key}")
        assert operation is not None and operation.status is OperationStatus.SUCCEEDED
        engagement = [EngagementKey(key)]
        assert len(await systems.psa.get_projects_by_engagement(engagement)) == 1, key
        assert len(await systems.erp.get_erp_projects_by_engagement(engagement)) == 1, key
        assert len(await systems.erp.get_billing_schedules_by_engagement(engagement)) == 1, key
    # every posted draft is one ERP invoice; its time is marked in Harvest under its number
    posts = await _succeeded(client, answers, "postInvoice", replayed)
    for result in posts:
        key = EngagementKey(str(result["engagement_key"]))
        invoices = await systems.erp.get_invoices_by_engagement([key], with_lines=True)
        mine = [i for i in invoices if i.external_id == result["external_id"]]
        assert len(mine) == 1, (result, [i.external_id for i in invoices])
        sources = {s for line in mine[0].lines for s in line.sources}
        entries = await systems.time.get_time_entries_by_engagement([key])
        marked = {e.external_ref for e in entries if e.invoice_ref == result["external_id"]}
        assert marked == {s for s in sources if s.startswith("TE-")}, result["external_id"]
        worked = any(s.startswith(("TE-", "expense:")) for s in sources)
        harvest = await _harvest_invoices(client, str(result["external_id"]))
        assert len(harvest) == (1 if worked else 0), (result["external_id"], harvest)
        [crm] = await systems.crm.get_opportunities_by_engagement([key])
        assert crm.invoiced_amount is not None
        assert crm.invoiced_amount.amount == sum((i.total.amount for i in invoices), Decimal(0))
    # every payment once
    for result in await _succeeded(client, answers, "recordPayment", replayed):
        key = EngagementKey(str(result["engagement_key"]))
        payments = await systems.erp.get_payments_by_engagement([key])
        assert [p.external_id for p in payments].count(result["external_id"]) == 1, result
        [invoice] = await systems.erp.get_invoices([RecordId(str(result["invoice_id"]))])
        assert invoice.amount_remaining.amount == 0, invoice


async def _succeeded(
    client: GraphClient, answers: list[dict[str, Any]], kind: str, replayed: list[Operation]
) -> list[dict[str, Any]]:
    ids = {a["operationId"] for a in answers} | {o.id for o in replayed}
    found = []
    for operation_id in sorted(ids):
        operation = await store(client).get_operation(operation_id)
        if operation is not None and operation.kind == kind:
            assert operation.status is OperationStatus.SUCCEEDED, operation
            found.append(dict(operation.result or {}))
    return found


async def _harvest_invoices(client: GraphClient, number: str) -> list[dict[str, Any]]:
    """Harvest invoices carrying `number`, read from Harvest's API."""
    headers = {"Authorization": "Bearer harvest-demo-token", "Harvest-Account-Id": "1234567"}
    transport = httpx.ASGITransport(app=client.sandboxes.apps["harvest"])
    async with httpx.AsyncClient(transport=transport, base_url="http://harvest") as http:
        response = await http.get("/v2/invoices", params={"per_page": 2000}, headers=headers)
        response.raise_for_status()
        body = response.json()
    assert body["total_pages"] == 1
    return [i for i in body["invoices"] if i["number"] == number]


async def test_an_invoice_posted_while_the_crm_is_down_is_dead_lettered_with_an_exception(
    client: GraphClient, firm: Firm
) -> None:
    key = next(
        e.key
        for e in firm.engagements
        if e.status == "ACTIVE"
        and e.billing_model == "TIME_AND_MATERIALS"
        and len(e.present_in) == 4
        and _has_unbilled(firm, e.key)
    )
    draft = await _call(client, GENERATE, {"eng": key, "end": AS_OF.isoformat()}, Role.FINANCE)
    assert draft["__typename"] == "InvoiceDraft", draft
    await _faults(client, ("salesforce",), error_rate=1.0)
    posted = await _call(client, POST, {"draft": draft["draftId"]}, Role.FINANCE)
    assert posted["__typename"] == "DeadLettered", posted
    letter = await store(client).get_dead_letter(posted["deadLetterId"])
    assert letter is not None and letter.step == "update_crm" and letter.system == "salesforce"
    systems = systems_of(client)
    invoices = await systems.erp.get_invoices_by_engagement([EngagementKey(key)])
    assert [i.external_id for i in invoices].count(draft["externalId"]) == 1
    [exception] = [
        e
        for e in await store(client).business_exceptions([Role.FINANCE])
        if e.code == "INVOICE_POSTED_WITHOUT_CRM_UPDATE"
    ]
    assert exception.engagement_key == key and exception.context["dead_letter_id"] == letter.id

    await _faults(client, ("salesforce",), **CLEAR)
    body = await mutate(client, REPLAY, {"id": letter.id}, headers=as_role(client, Role.ADMIN))
    assert body["data"]["replayDeadLetter"]["operation"]["status"] == "SUCCEEDED", body
    assert body["data"]["replayDeadLetter"]["deadLetter"]["status"] == "REPLAYED"
    [crm] = await systems.crm.get_opportunities_by_engagement([EngagementKey(key)])
    assert crm.invoiced_amount is not None
    assert crm.invoiced_amount.amount == sum((i.total.amount for i in invoices), Decimal(0))
    assert [i.external_id for i in invoices].count(draft["externalId"]) == 1
    still_open = [
        e.id
        for e in await store(client).business_exceptions([Role.FINANCE])
        if e.code == "INVOICE_POSTED_WITHOUT_CRM_UPDATE"
    ]
    assert still_open == [], "the replay fixed the CRM: its exception is resolved"


async def test_discarding_an_activation_archives_the_psa_project_it_created(
    client: GraphClient,
) -> None:
    ready = []
    for deal in await open_opportunities(client):
        crm_id = deal["opportunity"]["crmId"]
        if (await client.data(READY, {"id": crm_id}))["winReadiness"]["ready"]:
            ready.append((crm_id, deal["key"]))
    crm_id, key = ready[0]
    job = FailMatching(client.sandboxes.apps["netsuite"], "POST", "/record/v1/job")
    won = await _call(client, CLOSE, {"id": crm_id}, Role.SALES)
    assert won["__typename"] == "OpportunityWon", won
    activation = await wait_for_operation(client, f"activation:{key}", 30)
    assert activation.status is OperationStatus.DEAD_LETTERED, activation
    assert activation.done("create_psa_project") and job.failed >= 1
    [project] = await systems_of(client).psa.get_projects_by_engagement([EngagementKey(key)])
    letter_id = str((activation.result or {})["dead_letter_id"])
    letter = await store(client).get_dead_letter(letter_id)
    assert letter is not None and letter.step == "create_erp_project"

    job.on = False
    reason = "deal re-scoped; activation to be redone by hand"
    body = await mutate(
        client, DISCARD, {"id": letter_id, "reason": reason}, headers=as_role(client, Role.ADMIN)
    )
    answer = body["data"]["discardDeadLetter"]
    assert answer["deadLetter"] == {"id": letter_id, "status": "DISCARDED", "note": reason}
    assert answer["compensated"] == [f"archived PSA project {project.id}"]
    [archived] = await systems_of(client).psa.get_projects([project.id])
    assert archived.archived and not project.archived, archived
    discarded = await store(client).get_operation(f"activation:{key}")
    assert discarded is not None and discarded.status is OperationStatus.DISCARDED
    assert await systems_of(client).erp.get_erp_projects_by_engagement([EngagementKey(key)]) == []

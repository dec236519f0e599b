"""Billing exactly once: a full billing run over the seeded firm, through the GraphQL mutations.

For every ACTIVE engagement of the demo firm: ``generateInvoice`` through the
firm's last day, then ``postInvoice`` for every draft. Afterwards, read back
from the systems themselves: no billing input is on two ERP invoices, nothing
posted is left to bill (the engine and Harvest's Uninvoiced report agree), and
billed + unbilled == the approved billable value computed from the firm's own
records (`tests.billing_support.approved_inputs`), not by the engine.

The run is the heaviest test here, so it runs once per store (embedded Redis
and the real one) and checks all three properties on the same run. Harvest's
100 calls / 15 s pacing is turned off: it is a separate concern, and with it
the run would be paced over minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from domain.governance import Role
from domain.ids import EngagementKey
from domain.models import Invoice, InvoiceLine
from sandboxes.firm import Engagement, Firm
from tests.billing_support import (
    GENERATE,
    BillingRun,
    Input,
    all_erp_invoices,
    approved_inputs,
    expense_aliases,
    input_set_value,
    run_billing,
    systems_of,
)
from tests.governance_support import as_role, governed_client, mutate, store
from tests.graph_support import AS_OF, GraphClient

HALF_CENT = Decimal("0.005")
UNTHROTTLED: dict[str, dict[str, Any]] = {"harvest": {"rate_limit": None}}


@pytest.fixture(params=["embedded", "real"])
async def client(firm: Firm, request: pytest.FixtureRequest) -> AsyncIterator[GraphClient]:
    async with governed_client(
        firm, request.param, UNTHROTTLED, harvest_rate_limit=None
    ) as gateway:
        yield gateway


def _active(firm: Firm) -> list[Engagement]:
    return [e for e in firm.engagements if e.status == "ACTIVE"]


def _line_inputs(
    line: InvoiceLine, inputs: dict[str, Input], by_source: dict[str, str]
) -> list[Input]:
    """The oracle's inputs a line bills: by its sources, else (a seeded fee line) by its
    description; an input the oracle does not know fails the test."""
    keys = [by_source.get(s, s) for s in line.sources] or [line.description]
    unknown = [k for k in keys if k not in inputs]
    assert not unknown, (
        f"{line.description!r} bills inputs that are not approved billable: {unknown}"
    )
    return [inputs[k] for k in keys]


def _unbilled_value(left: list[Input]) -> Decimal:
    """What stays unbilled, priced as it would be billed: one line per group (role, category)."""
    groups: dict[str, list[Input]] = defaultdict(list)
    for item in left:
        groups[item.group].append(item)
    return sum((input_set_value(g) for g in groups.values()), Decimal(0))


async def test_a_billing_run_over_the_firm_bills_every_approved_input_exactly_once(
    client: GraphClient, firm: Firm
) -> None:
    """The three properties of billing exactly once, on one run over the whole firm.

    billed + unbilled == approved billable value is asserted per input set, not as one sum
    of per-entry values: an invoice line rounds once (hours summed, times the rate, half-even
    to the cent), so the sum of per-entry roundings may differ by cents from what is rightly
    billed. Each line must therefore equal the oracle's value of exactly the inputs it names
    (seeded fee lines name none: they are matched by their schedule line's description), and
    what stays unbilled is priced the same way, one set per role / expense category.
    """
    active = _active(firm)
    keys = [e.key for e in active]
    listed = await client.data(
        "{ engagements(first: 100, filter: {status: ACTIVE}) { nodes { key } } }"
    )
    never_activated = {
        d.engagement_key for d in firm.discrepancies if d.kind == "WON_OPPORTUNITY_WITHOUT_PROJECT"
    }
    assert {n["key"] for n in listed["engagements"]["nodes"]} == set(keys) - never_activated

    run = await run_billing(client, keys, AS_OF)
    print("\n" + run.summary())

    # every draft was posted; every refusal names its owner and left an open exception
    drafts = run.drafts()
    assert drafts and {k: p["__typename"] for k, p in run.posted.items()} == dict.fromkeys(
        drafts, "InvoicePosted"
    )
    blocked = run.blocked()
    assert {k for k, g in blocked.items() if g["code"] == "ENGAGEMENT_NOT_ACTIVE"} == (
        never_activated & set(keys)
    )
    open_exceptions = await store(client).business_exceptions(limit=1000)
    for key, refusal in blocked.items():
        assert refusal["ownerRole"] in {r.value for r in Role}, refusal
        assert any(
            e.engagement_key == key and e.code == refusal["code"] for e in open_exceptions
        ), f"{key}: no open business exception for {refusal['code']}"
    await _no_input_on_two_invoices(client, firm, run)
    await _nothing_left_to_bill(client, run)
    await _billed_plus_unbilled_is_the_approved_value(client, firm, run)


async def _no_input_on_two_invoices(client: GraphClient, firm: Firm, run: BillingRun) -> None:
    everyone = [e.key for e in firm.engagements]
    invoices = await all_erp_invoices(client, everyone)
    aliases = await expense_aliases(client, firm, everyone)
    seen: dict[str, str] = {}
    twice: list[tuple[str, str, str]] = []
    for invoice in invoices:
        for line in invoice.lines:
            for source in (aliases.get(s, s) for s in line.sources):
                if source in seen:
                    twice.append((source, seen[source], str(invoice.external_id)))
                seen[source] = str(invoice.external_id)
    assert not twice, f"inputs on two invoices: {twice[:10]}"
    external = [i.external_id for i in invoices]
    assert len(external) == len(set(external))
    posted = {p["externalId"] for p in run.posted.values()}
    assert posted <= set(external)
    assert len(invoices) == len(firm.invoices) + len(posted)


async def _nothing_left_to_bill(client: GraphClient, run: BillingRun) -> None:
    finance = as_role(client, Role.FINANCE)
    posted = sorted(run.posted)
    for key in posted:
        again = await mutate(
            client, GENERATE, {"eng": key, "end": AS_OF.isoformat()}, headers=finance
        )
        answer = again["data"]["generateInvoice"]
        assert answer.get("code") == "NOTHING_TO_BILL", (key, answer)
    uninvoiced = await systems_of(client).time.get_uninvoiced([EngagementKey(k) for k in posted])
    left = [w for w in uninvoiced if w.hours or w.time_amount.amount or w.expense_amount.amount]
    assert not left, f"Harvest still reports uninvoiced work: {left}"


async def _billed_plus_unbilled_is_the_approved_value(
    client: GraphClient, firm: Firm, run: BillingRun
) -> None:
    invoices = await all_erp_invoices(client, run.generated)
    by_engagement: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        by_engagement[str(invoice.engagement_key)].append(invoice)
    schedules = {s.engagement_key: s for s in firm.billing_schedules}
    blocked = run.blocked()
    graph = await _financials(client)
    aliases = await expense_aliases(client, firm, list(run.generated))
    for engagement in _active(firm):
        key = engagement.key
        inputs = approved_inputs(firm, engagement, AS_OF)
        schedule = schedules.get(key)
        by_source = {
            **aliases,
            **{
                f"BS-{key}-{line.date.isoformat()}": line.description
                for line in (schedule.lines if schedule else ())
            },
        }
        billed, value, billed_keys = Decimal(0), Decimal(0), set[str]()
        for invoice in by_engagement[key]:
            assert invoice.total.amount == sum(
                (line.amount.amount for line in invoice.lines), Decimal(0)
            ), f"{invoice.external_id}: the total is not the sum of its lines"
            for line in invoice.lines:
                items = _line_inputs(line, inputs, by_source)
                expected = input_set_value(items)
                assert line.amount.amount == expected, (
                    f"{invoice.external_id} {line.description!r}: billed {line.amount.amount},"
                    f" approved value {expected}"
                )
                rates = {i.rate for i in items if i.kind == "time"}
                assert not rates or rates == {line.rate.amount}, (invoice.external_id, rates)
                billed += line.amount.amount
                value += expected
                billed_keys.update(i.key for i in items)
        left = [i for k, i in inputs.items() if k not in billed_keys]
        if key not in blocked:
            assert not left, f"{key}: approved inputs left unbilled: {[i.key for i in left][:10]}"
        unbilled = _unbilled_value(left)
        approved = value + unbilled  # the approved billable value, one rounding per input set
        exact = sum((i.amount for i in inputs.values()), Decimal(0))
        sets = len({i.group for i in left}) + sum(len(i.lines) for i in by_engagement[key])
        assert abs(approved - exact) <= HALF_CENT * sets, (key, approved, exact)
        assert billed + unbilled == approved, key
        shown = graph.get(key)
        if shown is None:  # never activated: not ACTIVE in the graph, nothing recorded
            assert approved == 0, key
            continue
        assert Decimal(shown["billedToDate"]["amount"]) == billed, (key, shown)
        assert Decimal(shown["unbilledWip"]["amount"]) == unbilled, (key, shown)
        assert Decimal(shown["approvedBillableValue"]["amount"]) == approved, (key, shown)


async def _financials(client: GraphClient) -> dict[str, dict[str, Any]]:
    """billed, unbilled WIP and approved billable value as the graph shows them."""
    data = await client.data(
        """{ engagements(first: 100, filter: {status: ACTIVE}) { nodes { key financials {
              billedToDate { amount } unbilledWip { amount } approvedBillableValue { amount }
           } } } }"""
    )
    return {n["key"]: n["financials"] for n in data["engagements"]["nodes"]}

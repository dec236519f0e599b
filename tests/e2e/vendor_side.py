"""The vendors' side of an end-to-end run, over their own APIs (never the gateway).

`VendorSide` enters Closed Won deals as a CRM user would (Salesforce REST,
OAuth client credentials) and takes a `Census` of what the PSA (Kantata) and
the ERP (NetSuite) hold, counted per natural key, so a test can tell one
record from two.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

__all__ = ["SYSTEMS", "Account", "Census", "Deal", "VendorSide", "plan_deals", "sandbox_urls"]

SYSTEMS = ("salesforce", "kantata", "harvest", "netsuite")
SALESFORCE_API = "/services/data/v60.0"
SUITEQL = "/services/rest/query/v1/suiteql"
KANTATA_API = "/api/v1"
DEMO_CLIENT = {"client_id": "eg-demo-client", "client_secret": "eg-demo-secret"}
KANTATA_TOKEN = "kantata-demo-token"
BILLING_LABELS = {
    "TIME_AND_MATERIALS": "Time and Materials",
    "FIXED_FEE": "Fixed Fee",
    "MILESTONE": "Milestone",
    "RETAINER": "Retainer",
    "SUBSCRIPTION": "Subscription",
}
SERVICE_LINES = ("STRATEGY", "CLOUD", "DATA", "SECURITY", "MANAGED_SERVICES")
MILESTONE_DATES = (date(2026, 12, 15), date(2027, 2, 15), date(2027, 4, 15))
MILESTONE_LINES = len(MILESTONE_DATES)


def sandbox_urls(base: int) -> dict[str, str]:
    """`engagement-gateway sandbox all --port base`: salesforce..netsuite on base..base+3."""
    return {name: f"http://127.0.0.1:{base + i}" for i, name in enumerate(SYSTEMS)}


@dataclass(frozen=True, slots=True)
class Account:
    id: str  # Salesforce Account Id
    customer_key: str
    legal_entity: str
    currency: str


@dataclass(frozen=True, slots=True)
class Deal:
    engagement_key: str
    account: Account
    billing_model: str  # TIME_AND_MATERIALS, ...
    service_line: str
    amount: Decimal
    start: date
    end: date

    @property
    def milestone_refs(self) -> list[str]:
        """The PSA milestones activation creates (MILESTONE deals: one per deal line)."""
        if self.billing_model != "MILESTONE":
            return []
        return [f"MS-{self.engagement_key}-{n}" for n in range(1, MILESTONE_LINES + 1)]


def plan_deals(keys: Sequence[str], accounts: Sequence[Account]) -> list[Deal]:
    """One deal per key, billing models and service lines in turn, accounts round-robin."""
    models = list(BILLING_LABELS)
    return [
        Deal(
            engagement_key=key,
            account=accounts[n % len(accounts)],
            billing_model=models[n % len(models)],
            service_line=SERVICE_LINES[(n // len(models)) % len(SERVICE_LINES)],
            amount=Decimal(60_000 + 1_500 * n),
            start=date(2026, 11, 1),
            end=date(2027, 4, 30),
        )
        for n, key in enumerate(keys)
    ]


@dataclass(frozen=True, slots=True)
class Census:
    """Records per natural key in the PSA and the ERP."""

    customers: Counter[str]  # NetSuite customers by externalId
    customer_names: Counter[str]  # ... and by company name (twins share a name)
    jobs: Counter[str]  # NetSuite jobs by externalId (the engagement key)
    schedules: Counter[str]  # NetSuite billing schedules by engagement key
    workspaces: Counter[str]  # Kantata workspaces by the engagement their description names
    workspace_links: Counter[str]  # Kantata external references to an engagement
    milestones: Counter[str]  # Kantata milestone stories by the reference they carry or name


class VendorSide:
    """HTTP clients for the sandboxes' APIs, logged in as the demo integration user."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        self.urls = dict(urls)
        self.http = httpx.AsyncClient(timeout=30)
        self._tokens: dict[str, str] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    # --- logins and paged reads -----------------------------------------------------------
    async def _token(self, system: str, path: str) -> str:
        if system not in self._tokens:
            response = await self.http.post(
                self.urls[system] + path, data={"grant_type": "client_credentials", **DEMO_CLIENT}
            )
            response.raise_for_status()
            self._tokens[system] = str(response.json()["access_token"])
        return self._tokens[system]

    async def _salesforce(self) -> dict[str, str]:
        token = await self._token("salesforce", "/services/oauth2/token")
        return {"Authorization": f"Bearer {token}"}

    async def soql(self, query: str) -> list[dict[str, Any]]:
        headers = await self._salesforce()
        url = f"{self.urls['salesforce']}{SALESFORCE_API}/query"
        response = await self.http.get(url, params={"q": query}, headers=headers)
        records: list[dict[str, Any]] = []
        while True:
            response.raise_for_status()
            page = response.json()
            records += page["records"]
            if page.get("done", True):
                return records
            url = self.urls["salesforce"] + page["nextRecordsUrl"]
            response = await self.http.get(url, headers=headers)

    async def suiteql(self, query: str) -> list[dict[str, Any]]:
        token = await self._token("netsuite", "/services/rest/auth/oauth2/v1/token")
        headers = {"Authorization": f"Bearer {token}", "Prefer": "transient"}
        url = self.urls["netsuite"] + SUITEQL
        params: dict[str, int] | None = {"limit": 1000, "offset": 0}
        rows: list[dict[str, Any]] = []
        while True:
            response = await self.http.post(url, params=params, json={"q": query}, headers=headers)
            response.raise_for_status()
            page = response.json()
            rows += page["items"]
            if not page.get("hasMore"):
                return rows
            url = next(link["href"] for link in page["links"] if link["rel"] == "next")
            params = None

    async def kantata(self, resource: str, params: Mapping[str, str]) -> dict[str, Any]:
        """Every page of a Kantata listing, record maps merged by key."""
        merged: dict[str, Any] = {}
        headers = {"Authorization": f"Bearer {KANTATA_TOKEN}"}
        page = 1
        while True:
            response = await self.http.get(
                f"{self.urls['kantata']}{KANTATA_API}/{resource}",
                params={**params, "page": str(page), "per_page": "200"},
                headers=headers,
            )
            response.raise_for_status()
            body = response.json()
            for name, value in body.items():
                if isinstance(value, dict) and name != "meta":
                    merged.setdefault(name, {}).update(value)
            if body["meta"]["page_number"] >= body["meta"]["page_count"]:
                return merged
            page += 1

    # --- the CRM user's side ------------------------------------------------------------
    async def activatable_accounts(self) -> list[Account]:
        """Accounts whose ERP customer is ACTIVE with a tax jurisdiction (not a twin)."""
        accounts = await self.soql(
            "SELECT Id, Customer_Key__c, CurrencyIsoCode FROM Account"
            " WHERE Customer_Key__c != null ORDER BY Customer_Key__c"
        )
        entities = {
            row["id"]: row["externalid"]
            for row in await self.suiteql("SELECT id, externalid FROM subsidiary")
        }
        customers = {
            row["externalid"]: row
            for row in await self.suiteql(
                "SELECT id, externalid, subsidiary, custentity_eg_status,"
                " custentity_eg_tax_jurisdiction FROM customer ORDER BY id"
            )
        }
        found = []
        for account in accounts:
            customer = customers.get(account["Customer_Key__c"])
            if (
                customer is not None
                and customer["custentity_eg_status"] == "ACTIVE"
                and customer.get("custentity_eg_tax_jurisdiction")
            ):
                found.append(
                    Account(
                        id=account["Id"],
                        customer_key=account["Customer_Key__c"],
                        legal_entity=entities[customer["subsidiary"]],
                        currency=account["CurrencyIsoCode"],
                    )
                )
        return found

    async def enter_won_deal(self, deal: Deal) -> str:
        """POST the Closed Won opportunity (and, for MILESTONE deals, its dated lines)."""
        headers = await self._salesforce()
        sobjects = f"{self.urls['salesforce']}{SALESFORCE_API}/sobjects"
        body = {
            "Name": f"{deal.account.customer_key} {deal.service_line.title()} programme",
            "AccountId": deal.account.id,
            "StageName": "Closed Won",
            "CloseDate": "2026-10-15",
            "Amount": str(deal.amount),
            "CurrencyIsoCode": deal.account.currency,
            "Engagement_Key__c": deal.engagement_key,
            "Billing_Model__c": BILLING_LABELS[deal.billing_model],
            "Service_Line__c": deal.service_line,
            "Legal_Entity__c": deal.account.legal_entity,
            "Rate_Card_Version__c": "RC-2026",
            "Start_Date__c": deal.start.isoformat(),
            "End_Date__c": deal.end.isoformat(),
        }
        response = await self.http.post(f"{sobjects}/Opportunity", json=body, headers=headers)
        assert response.status_code == 201, response.text
        opportunity_id = str(response.json()["id"])
        share = (deal.amount / MILESTONE_LINES).quantize(Decimal("0.01"))
        for n in range(1, len(deal.milestone_refs) + 1):
            amount = deal.amount - share * (MILESTONE_LINES - 1) if n == MILESTONE_LINES else share
            line = {
                "OpportunityId": opportunity_id,
                "Description": f"Milestone {n}",
                "ServiceDate": MILESTONE_DATES[n - 1].isoformat(),
                "TotalPrice": str(amount),
            }
            answer = await self.http.post(
                f"{sobjects}/OpportunityLineItem", json=line, headers=headers
            )
            assert answer.status_code == 201, answer.text
        return opportunity_id

    async def enter_won_deals(self, deals: Sequence[Deal], concurrency: int = 10) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(deal: Deal) -> None:
            async with gate:
                await self.enter_won_deal(deal)

        await asyncio.gather(*(one(deal) for deal in deals))

    # --- what the PSA and the ERP hold ------------------------------------------------------
    async def census(self) -> Census:
        customers = await self.suiteql("SELECT id, externalid, companyname FROM customer")
        jobs = await self.suiteql("SELECT id, externalid FROM job")
        schedules = await self.suiteql(
            "SELECT id, custrecord_eg_engagement_key FROM billingschedule"
        )
        workspaces = await self.kantata("workspaces", {"include": "external_references"})
        stories = await self.kantata(
            "stories", {"story_type": "milestone", "include": "external_references"}
        )
        references = {
            **workspaces.get("external_references", {}),
            **stories.get("external_references", {}),
        }
        return Census(
            customers=Counter(str(row.get("externalid")) for row in customers),
            customer_names=Counter(str(row.get("companyname")) for row in customers),
            jobs=Counter(str(row.get("externalid")) for row in jobs),
            schedules=Counter(str(row.get("custrecord_eg_engagement_key")) for row in schedules),
            workspaces=Counter(
                _named(str(w.get("description") or ""), "Engagement ")
                for w in workspaces.get("workspaces", {}).values()
            ),
            workspace_links=Counter(
                str(r["service_model_ref"])
                for r in references.values()
                if r.get("subject_type") == "Workspace"
            ),
            milestones=Counter(_milestone_ref(story, references) for story in _stories(stories)),
        )


def _named(description: str, marker: str) -> str:
    """`ENG-...` from "Engagement ENG-... (template: ...)"; "" when the text names none."""
    if not description.startswith(marker):
        return ""
    return description[len(marker) :].split(" ", 1)[0]


def _stories(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    return list(envelope.get("stories", {}).values())


def _milestone_ref(story: dict[str, Any], references: dict[str, Any]) -> str:
    for ref_id in story.get("external_reference_ids") or []:
        ref = references.get(str(ref_id))
        if ref is not None and ref.get("subject_type") == "Story":
            return str(ref["service_model_ref"])
    return _named(str(story.get("description") or ""), "Milestone ")

"""The Salesforce adapter: the CRM port over the REST API v60.0.

Reads are SOQL. Batch reads put the ids (or engagement keys) in ``IN``-lists
chunked to ≤200 values per query (the GET URL stays far below ~16 KB), fan
the chunks out concurrently and follow ``nextRecordsUrl`` to the end; so 500
ids cost three query calls. Writes are a PATCH by Id (absolute values, hence
safe to replay) and an upsert by the ``Engagement_Key__c`` external id (the
vendor's idempotency tool). OAuth client credentials are fetched lazily and
the API host is the ``instance_url`` of the token response.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from adapters.http import VendorClient
from adapters.jsonwire import decode_response, encode
from adapters.resilience import CircuitBreaker, ResiliencePolicy
from adapters.salesforce import mapping, soql
from adapters.salesforce.auth import ClientCredentials
from adapters.salesforce.commands import OpportunityUpsert
from adapters.salesforce.errors import SYSTEM, is_throttled, translate_error
from domain.commands import OpportunityUpdate
from domain.errors import MappingFailed, NotFound, UpstreamRejected
from domain.health import BreakerState, SystemHealth
from domain.ids import EngagementKey, RecordId
from domain.models import Account, Opportunity, OpportunityLine
from domain.ports import CRM

__all__ = ["API_PREFIX", "SalesforceAdapter"]

API_PREFIX = "/services/data/v60.0"
MAX_PAGES = 10_000
_JSON = {"Content-Type": "application/json"}


class SalesforceAdapter:
    """CRM port implementation for Salesforce."""

    name = SYSTEM

    def __init__(
        self,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        policy: ResiliencePolicy,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        batch_size: int | None = None,
        default_currency: str = "USD",
    ) -> None:
        """`batch_size` (200..2000) is sent as the ``Sforce-Query-Options`` page-size hint;
        `default_currency` prices amounts of a single-currency org (no CurrencyIsoCode)."""
        root = base_url.rstrip("/")
        breaker = CircuitBreaker.from_policy(policy, clock)
        self._query_headers = (
            {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        )
        self._currency = default_currency
        self._http = VendorClient(
            system=SYSTEM,
            base_url=root,
            policy=policy,
            translate=translate_error,
            credentials=ClientCredentials(
                login_url=root, client_id=client_id, client_secret=client_secret, breaker=breaker
            ),
            transport=transport,
            headers={"Accept": "application/json"},
            is_throttled=is_throttled,
            sleep=sleep,
            rng=rng,
            breaker=breaker,
        )

    @property
    def breaker(self) -> CircuitBreaker:
        return self._http.breaker

    @property
    def breaker_state(self) -> BreakerState:
        return self._http.breaker_state

    async def aclose(self) -> None:
        await self._http.aclose()

    async def health(self) -> SystemHealth:
        return await self._http.probe("GET", f"{API_PREFIX}/limits")

    # -- queries ---------------------------------------------------------------

    async def _query(self, statement: str) -> list[dict[str, Any]]:
        """Every record of a SOQL query, following nextRecordsUrl until done."""
        response = await self._http.request(
            "GET", f"{API_PREFIX}/query", params={"q": statement}, headers=self._query_headers
        )
        page = decode_response(response, system=SYSTEM)
        records: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if not isinstance(page, dict) or not isinstance(page.get("records"), list):
                raise MappingFailed("query answer without records", system=SYSTEM)
            records.extend(page["records"])
            next_url = page.get("nextRecordsUrl")
            if page.get("done", True) or not next_url:
                return records
            response = await self._http.request("GET", next_url, headers=self._query_headers)
            page = decode_response(response, system=SYSTEM)
        raise MappingFailed(f"query did not end after {MAX_PAGES} pages", system=SYSTEM)

    async def _where_in(
        self, sobject: str, fields: Sequence[str], field: str, values: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Records whose `field` is one of `values`: one query per IN-chunk, concurrently."""
        select = f"SELECT {', '.join(fields)} FROM {sobject} WHERE {field} IN "
        outcomes = await asyncio.gather(
            *(self._query(select + soql.in_list(chunk)) for chunk in soql.chunk_in(values)),
            return_exceptions=True,
        )
        records: list[dict[str, Any]] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
            records.extend(outcome)
        return records

    def _opportunities(self, records: list[dict[str, Any]]) -> list[Opportunity]:
        return [mapping.opportunity_from(r, default_currency=self._currency) for r in records]

    # -- CRM port: reads -------------------------------------------------------

    async def get_opportunity(self, opportunity_id: RecordId) -> Opportunity:
        found = await self.get_opportunities([opportunity_id])
        if not found:
            raise NotFound(
                f"Opportunity {opportunity_id} does not exist",
                system=SYSTEM,
                status=404,
                vendor_code="NOT_FOUND",
            )
        return found[0]

    async def get_opportunities(self, ids: Sequence[RecordId]) -> list[Opportunity]:
        """Existing opportunities among `ids`, in request order (malformed ids cannot exist)."""
        wanted = [i for i in ids if soql.is_record_id(i)]
        if not wanted:
            return []
        records = await self._where_in("Opportunity", mapping.OPPORTUNITY_FIELDS, "Id", wanted)
        by_id = {r["Id"]: r for r in records}
        ordered = [
            by_id[key] for key in dict.fromkeys(soql.to_18(i) for i in wanted) if key in by_id
        ]
        return self._opportunities(ordered)

    async def get_opportunities_by_engagement(
        self, keys: Sequence[EngagementKey]
    ) -> list[Opportunity]:
        if not keys:
            return []
        records = await self._where_in(
            "Opportunity", mapping.OPPORTUNITY_FIELDS, "Engagement_Key__c", keys
        )
        rank = {key.lower(): n for n, key in enumerate(keys)}
        records.sort(key=lambda r: rank.get(str(r.get("Engagement_Key__c", "")).lower(), len(rank)))
        return self._opportunities(records)

    async def list_opportunities(self, *, stage: str | None = None) -> list[Opportunity]:
        where = f" WHERE StageName = {soql.literal(stage)}" if stage is not None else ""
        statement = (
            f"SELECT {', '.join(mapping.OPPORTUNITY_FIELDS)} FROM Opportunity{where} ORDER BY Id"
        )
        return self._opportunities(await self._query(statement))

    async def opportunities_changed_since(
        self, since: datetime | None, *, won_only: bool = False
    ) -> list[Opportunity]:
        """The inbound sync's poll: ``WHERE SystemModstamp > :since ORDER BY SystemModstamp, Id``
        (no bound when `since` is None; ``IsWon = true`` too if `won_only`), all pages."""
        conditions = [f"SystemModstamp > {soql.datetime_literal(since)}"] if since else []
        if won_only:
            conditions.append("IsWon = true")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        statement = (
            f"SELECT {', '.join(mapping.OPPORTUNITY_FIELDS)} FROM Opportunity{where}"
            " ORDER BY SystemModstamp, Id"
        )
        return self._opportunities(await self._query(statement))

    async def get_opportunity_lines(
        self, opportunity_ids: Sequence[RecordId]
    ) -> list[OpportunityLine]:
        """Line items of the opportunities: one ``OpportunityId IN`` query per chunk of ids,
        grouped by opportunity in request order, each group by ServiceDate then Id."""
        wanted = [soql.to_18(i) for i in opportunity_ids if soql.is_record_id(i)]
        if not wanted:
            return []
        records = await self._where_in(
            "OpportunityLineItem", mapping.LINE_ITEM_FIELDS, "OpportunityId", wanted
        )
        rank = {key: n for n, key in enumerate(dict.fromkeys(wanted))}
        records.sort(
            key=lambda r: (
                rank.get(r["OpportunityId"], len(rank)),
                r.get("ServiceDate") or "",
                r["Id"],
            )
        )
        return [mapping.line_from(r, default_currency=self._currency) for r in records]

    async def get_accounts(self, ids: Sequence[RecordId]) -> list[Account]:
        wanted = [i for i in ids if soql.is_record_id(i)]
        if not wanted:
            return []
        records = await self._where_in("Account", mapping.ACCOUNT_FIELDS, "Id", wanted)
        by_id = {r["Id"]: r for r in records}
        ordered = [
            by_id[key] for key in dict.fromkeys(soql.to_18(i) for i in wanted) if key in by_id
        ]
        return [mapping.account_from(r) for r in ordered]

    # -- writes ------------------------------------------------------------------

    async def update_opportunity(
        self, opportunity_id: RecordId, update: OpportunityUpdate
    ) -> Opportunity:
        """PATCH the fields the update sets, then read the record back."""
        if not soql.is_record_id(opportunity_id):
            raise NotFound(
                f"Opportunity {opportunity_id} does not exist",
                system=SYSTEM,
                vendor_code="NOT_FOUND",
            )
        body = mapping.update_body(update)
        if body:
            # Retrying is safe: the PATCH sets absolute values (no increments), so a
            # replay after a lost answer converges on the same record state.
            await self._http.request(
                "PATCH",
                f"{API_PREFIX}/sobjects/Opportunity/{quote(opportunity_id, safe='')}",
                content=encode(body),
                headers=_JSON,
                idempotent=True,
            )
        return await self.get_opportunity(opportunity_id)

    async def upsert_opportunity_by_engagement(
        self, key: EngagementKey, fields: OpportunityUpsert
    ) -> Opportunity:
        """Create or update the opportunity whose Engagement_Key__c is `key`.

        The external-id upsert is Salesforce's idempotent write: a replay
        updates the record the first call created, so it is retried freely.
        """
        response = await self._http.request(
            "PATCH",
            f"{API_PREFIX}/sobjects/Opportunity/Engagement_Key__c/{quote(key, safe='')}",
            content=encode(mapping.upsert_body(fields)),
            headers=_JSON,
            idempotent=True,
        )
        body = decode_response(response, system=SYSTEM)
        if response.status_code == 300:
            raise UpstreamRejected(
                f"engagement key {key} matches {len(body)} opportunities",
                system=SYSTEM,
                status=300,
                vendor_code="MULTIPLE_CHOICES",
                vendor_message=", ".join(map(str, body)),
            )
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise MappingFailed("upsert answer without an id", system=SYSTEM)
        return await self.get_opportunity(RecordId(body["id"]))


_check: type[CRM] = SalesforceAdapter

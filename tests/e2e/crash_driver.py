"""Driving activations through a gateway that a killer keeps crashing (SIGKILL + restart).

Clients send ``activateEngagement`` for every deal, `in_flight` at a time, each
with an idempotency key of its own that it keeps. When the gateway dies under a
request, most clients re-send it with the same key once the gateway is back; a
"patient" client (every fifth) does not: it asks for the operation instead and
waits for the resume sweep to finish it, re-sending only if the gateway has no
such operation (the crash came before the saga was journaled).

The killer kills the gateway at seeded random moments: first a crash loop (the
gateway dies three times in a row, the second and third time while it resumes
what the previous process left), then kills spread over the rest of the run.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis

from domain.governance import Role
from tests.e2e.gateway_process import GatewayProcess, bearer
from tests.e2e.vendor_side import Deal

__all__ = ["Driver", "Run"]

ACTIVATE = """mutation($eng: String!, $key: String) {
  activateEngagement(engagementKey: $eng, idempotencyKey: $key) {
    __typename
    ... on EngagementActivated { operationId psaProjectId erpProjectId billingScheduleId }
    ... on BusinessRejection { code message }
    ... on DeadLettered { deadLetterId error }
  } }"""
OPERATION = "query($id: ID!) { operation(id: $id) { status } }"
CRASH_LOOP = 3  # kills in a row at the first moment
PATIENT_EVERY = 5


@dataclass
class Run:
    """What happened while the activations were driven."""

    deals: int
    kills: int = 0
    interrupted: list[int] = field(default_factory=list)  # operations RUNNING at each kill
    resent: int = 0  # requests re-sent after the gateway died under them
    left_to_sweep: int = 0  # cut-off requests whose saga the gateway finished on its own
    pending: int = 0  # TransitionPending answers (asked again)
    answers: dict[str, str] = field(default_factory=dict)  # key -> how it was answered
    failures: dict[str, str] = field(default_factory=dict)
    attempts: Counter[int] = field(default_factory=Counter)  # steps by times started
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.answers)}/{self.deals} activated, {len(self.failures)} failed;"
            f" {self.kills} SIGKILLs, operations running at each kill {self.interrupted}"
            f" ({sum(self.interrupted)} resumed), {self.resent} requests re-sent,"
            f" {self.left_to_sweep} finished by the resume sweep alone,"
            f" {self.pending} pending answers; steps by times started"
            f" {dict(sorted(self.attempts.items()))}; {self.seconds:.1f} s"
        )


class Driver:
    def __init__(
        self,
        gateway: GatewayProcess,
        redis: Redis,
        prefix: str,
        deals: list[Deal],
        *,
        seed: int,
        in_flight: int = 20,
    ) -> None:
        self.gateway = gateway
        self.redis = redis
        self.prefix = prefix
        self.deals = deals
        self.seed = seed
        self.in_flight = in_flight
        self.run = Run(deals=len(deals))
        self.generation = 0  # bumped by every restart
        self.up = True
        self.changed = asyncio.Condition()  # an activation was answered or the gateway restarted
        self.headers = bearer("pmo-crash-test", Role.PMO)

    # --- waiting on conditions ----------------------------------------------------------------
    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    async def _until(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        async with self.changed:
            try:
                await asyncio.wait_for(self.changed.wait_for(predicate), timeout_s)
            except TimeoutError:
                raise AssertionError(f"no {what} in {timeout_s}s: {self.run.summary()}") from None

    def _restarted_since(self, generation: int) -> Callable[[], bool]:
        return lambda: self.generation != generation and self.up

    def _answered(self, count: int) -> Callable[[], bool]:
        return lambda: len(self.run.answers) + len(self.run.failures) >= count

    # --- clients ------------------------------------------------------------------------------
    async def _post(self, http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
        response = await http.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise AssertionError(f"HTTP {response.status_code}: {body}")
        return body["data"]

    async def _outcome(self, http: httpx.AsyncClient, key: str) -> str | None:
        """The activation's final status, polled; None if the gateway never journaled it."""
        while True:
            data = await self._post(http, OPERATION, {"id": f"activation:{key}"})
            if data["operation"] is None:
                return None
            if data["operation"]["status"] != "RUNNING":
                return str(data["operation"]["status"])
            await asyncio.sleep(0.1)

    async def _activate(self, http: httpx.AsyncClient, index: int, deal: Deal) -> None:
        key = deal.engagement_key
        variables = {"eng": key, "key": f"activate-{key}"}  # the same key on every re-send
        patient = index % PATIENT_EVERY == 0
        while True:
            await self._until(lambda: self.up, 60, "restart")
            sent_in = self.generation
            try:
                data = await self._post(http, ACTIVATE, variables)
            except (httpx.TransportError, ValueError):  # the gateway died under the request
                await self._until(self._restarted_since(sent_in), 60, f"kill behind {key}'s error")
                if patient:
                    try:
                        status = await self._outcome(http, key)
                    except (httpx.TransportError, ValueError):
                        continue  # killed again while asking: ask again
                    if status is not None:
                        self.run.left_to_sweep += 1
                        self._answer(key, status, "sweep")
                        return
                self.run.resent += 1
                continue
            result = data["activateEngagement"]
            if result["__typename"] == "TransitionPending":
                self.run.pending += 1
                continue
            self._answer(key, "SUCCEEDED" if "psaProjectId" in result else str(result), "answer")
            return

    def _answer(self, key: str, status: str, how: str) -> None:
        if status == "SUCCEEDED":
            self.run.answers[key] = how
        else:
            self.run.failures[key] = status

    async def _client(self, http: httpx.AsyncClient, gate: asyncio.Semaphore, n: int) -> None:
        async with gate:
            try:
                await self._activate(http, n, self.deals[n])
            except AssertionError as failed:
                self.run.failures[self.deals[n].engagement_key] = str(failed)[:500]
        await self._notify()

    # --- the killer ---------------------------------------------------------------------------
    def moments(self) -> list[tuple[int, float]]:
        """(answers to wait for, then seconds to wait) of every kill: a crash loop, then 1-3
        kills spread over the run. Random on purpose: the delay is no wait for anything."""
        rng = random.Random(self.seed)
        first, *spread = sorted(rng.sample(range(5, 80), rng.randint(2, 4)))
        loop = [(first, rng.uniform(0.0, 0.3))]
        loop += [(first, rng.uniform(0.2, 0.6)) for _ in range(CRASH_LOOP - 1)]
        return loop + [(answers, rng.uniform(0.0, 0.4)) for answers in spread]

    async def _killer(self) -> None:
        for answers, delay in self.moments():
            await self._until(self._answered(answers), 120, f"{answers} answers")
            await asyncio.sleep(delay)
            self.up = False
            self.gateway.kill()
            self.run.kills += 1
            self.run.interrupted.append(await self.redis.zcard(f"{self.prefix}ops:running"))
            await asyncio.to_thread(self.gateway.start)
            self.generation += 1
            self.up = True
            await self._notify()

    async def drive(self) -> Run:
        started = time.monotonic()
        gate = asyncio.Semaphore(self.in_flight)
        limits = httpx.Limits(max_connections=self.in_flight + 5)
        async with httpx.AsyncClient(base_url=self.gateway.url, timeout=90, limits=limits) as http:
            killer = asyncio.create_task(self._killer())
            await asyncio.gather(*(self._client(http, gate, n) for n in range(len(self.deals))))
            await killer
        self.run.seconds = time.monotonic() - started
        self.run.attempts = await self._attempts()
        return self.run

    # --- what the gateway recorded ------------------------------------------------------------
    async def _attempts(self) -> Counter[int]:
        """Activation steps by how often each was started (over 1: a crash interrupted it)."""
        attempts: Counter[int] = Counter()
        for deal in self.deals:
            fields = await self.redis.hgetall(f"{self.prefix}op:activation:{deal.engagement_key}")
            for name, raw in fields.items():
                if str(name).startswith("step:"):
                    attempts[json.loads(raw)["attempts"]] += 1
        return attempts

    async def statuses(self) -> dict[str, str]:
        """Each activation operation's status as the gateway reports it (10 aliases a query:
        the gateway allows 15)."""
        found: dict[str, str] = {}
        async with httpx.AsyncClient(base_url=self.gateway.url, timeout=30) as http:
            for start in range(0, len(self.deals), 10):
                chunk = self.deals[start : start + 10]
                fields = " ".join(
                    f'o{n}: operation(id: "activation:{d.engagement_key}") {{ status }}'
                    for n, d in enumerate(chunk)
                )
                data = await self._post(http, f"{{ {fields} }}", {})
                for n, deal in enumerate(chunk):
                    found[deal.engagement_key] = (data[f"o{n}"] or {"status": "MISSING"})["status"]
        return found

    async def activated_events(self) -> dict[str, set[str]]:
        """Distinct `project.activated` event ids per engagement (an entry may repeat an id)."""
        found: dict[str, set[str]] = {}
        entries: list[Any] = list(await self.redis.xrange(f"{self.prefix}events") or [])
        for _, entry in entries:
            if entry.get("type") == "project.activated":
                found.setdefault(entry.get("subject", ""), set()).add(entry["id"])
        return found

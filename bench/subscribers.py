"""The load client of bench_subscriptions: many `engagementEvents` subscribers in one process.

``.venv/bin/python -m bench.subscribers --url URL --transport ws|sse --first F --count N
--keys K [--after CURSOR] --result PATH``

Subscriber j (F <= j < F+N) is a principal of its own (``bench-sub-j``, role
EXECUTIVE) and watches the engagement ``bench_keys(K)[j % K]`` (with K = 0
it watches every event, unfiltered): live from now on, or replayed from the
cursor `after` first. Over graphql-transport-ws the token goes in
connection_init; over SSE (distinct connections) in the Authorization header.

The publisher tags each event (`time.approved`, its one time entry id):
``primer-*`` per key before the run, in rounds until every subscriber has
received one (it is then live: "ready" is printed when all are),
``bench-<seq>`` during the run
(latency = receipt time - the event's `time`, both wall clock on this host),
``end-*`` after it (the stream is delivered in order, so after its end marker
a subscriber has been sent all it will get). SIGUSR1 says the publisher is
done; the client then waits up to --drain-s for the end markers and writes
its tally (JSON at PATH, latencies in ms as float64 at PATH.lat, the event
sequence number of each as int64 at PATH.seq).

A subscriber whose operation ends (e.g. SLOW_CONSUMER) or whose connection
drops subscribes again from its last cursor, like a real client; both are
counted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

from bench.event_publisher import bench_keys
from bench.subscriber_state import Subscriber, Tally

__all__ = ["main"]

QUERY = """subscription($filter: EventFilter, $after: String) {
  engagementEvents(filter: $filter, after: $after) { cursor id type subject time data } }"""


MAX_RECONNECTS = 5  # per subscriber, then it fails


async def _ws(sub: Subscriber, url: str, deflate: bool) -> None:
    ws_url = url.replace("http://", "ws://") + "/graphql"
    for _ in range(MAX_RECONNECTS + 1):
        if sub.ended:
            return
        try:
            async with websockets.connect(
                ws_url,
                subprotocols=[Subprotocol("graphql-transport-ws")],
                compression="deflate" if deflate else None,
                proxy=None,
                open_timeout=120,
                ping_interval=None,
            ) as ws:
                init = {"type": "connection_init", "payload": {"authorization": sub.token}}
                await ws.send(json.dumps(init))
                ack = json.loads(await ws.recv())
                if ack.get("type") != "connection_ack":
                    raise RuntimeError(f"no connection_ack: {ack}")
                await _ws_operations(sub, ws)
        except websockets.ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else "no close frame"
            sub.tally.note_end(f"closed {code}")
        except (OSError, TimeoutError) as exc:
            sub.tally.note_end(type(exc).__name__)
        else:
            continue
        sub.tally.reconnects += 1
    if not sub.ended:
        sub.fail("too many reconnects")


async def _ws_operations(sub: Subscriber, ws: Any) -> None:
    """Subscribe (again after every end of the operation) until the end marker arrives."""
    op = 0
    while not sub.ended:
        op += 1
        payload = {"query": QUERY, "variables": sub.variables()}
        await ws.send(json.dumps({"id": str(op), "type": "subscribe", "payload": payload}))
        async for raw in ws:
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind == "next" and not message["payload"].get("errors"):
                sub.receive(message["payload"]["data"]["engagementEvents"])
                if sub.ended:
                    return
            elif kind in ("next", "error", "complete"):
                errors = message.get("payload")
                sub.ended_with(errors.get("errors") if isinstance(errors, dict) else errors)
                if kind == "next":
                    continue  # its `complete` follows
                sub.tally.resubscribes += 1
                break
        else:
            raise websockets.ConnectionClosedOK(None, None)


async def _sse(sub: Subscriber, http: httpx.AsyncClient) -> None:
    headers = {"Authorization": sub.token, "Accept": "text/event-stream"}
    for _ in range(MAX_RECONNECTS + 1):
        if sub.ended:
            return
        body = {"query": QUERY, "variables": sub.variables()}
        try:
            async with http.stream("POST", "/graphql", json=body, headers=headers) as response:
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {await response.aread()!r}")
                await _sse_events(sub, response)
        except (OSError, httpx.TransportError) as exc:
            sub.tally.reconnects += 1
            sub.tally.note_end(type(exc).__name__)
            continue
        if not sub.ended:
            sub.tally.resubscribes += 1
    if not sub.ended:
        sub.fail("too many resubscriptions")


async def _sse_events(sub: Subscriber, response: httpx.Response) -> None:
    kind, data = "", ""
    async for line in response.aiter_lines():
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data += line[5:].strip()
        elif not line and kind:
            payload = json.loads(data) if data else {}
            if kind == "next" and not payload.get("errors"):
                sub.receive(payload["data"]["engagementEvents"])
                if sub.ended:
                    return
            elif kind in ("next", "complete"):
                sub.ended_with(payload.get("errors"))
                if kind == "complete":
                    return
            kind, data = "", ""
    sub.tally.note_end("stream closed")


async def _run(args: argparse.Namespace) -> None:
    keys = bench_keys(args.keys)
    tally = Tally(args.count)
    subs = [
        Subscriber(j, j - args.first, keys[j % len(keys)] if keys else None, args.after, tally)
        for j in range(args.first, args.first + args.count)
    ]
    drained = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, drained.set)
    gate = asyncio.Semaphore(args.connect_concurrency)
    limits = httpx.Limits(max_connections=args.count + 10, max_keepalive_connections=0)
    timeout = httpx.Timeout(120, read=None)
    async with httpx.AsyncClient(base_url=args.url, limits=limits, timeout=timeout) as http:

        async def one(sub: Subscriber) -> None:
            async with gate:  # a ramp: at most this many subscribers setting up at once
                runner = _ws(sub, args.url, args.deflate) if args.transport == "ws" else None
                task = asyncio.create_task(runner or _sse(sub, http))
                ready = asyncio.create_task(sub.ready.wait())
                await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
                ready.cancel()
            try:
                await task
            except Exception as exc:  # a refused handshake, a bad answer: this one fails
                sub.fail(f"{type(exc).__name__}: {exc}"[:300])

        tasks = [asyncio.create_task(one(sub)) for sub in subs]
        started = time.monotonic()
        await tally.all_primed.wait()
        took = time.monotonic() - started
        print(f"ready {len(subs)} subscribers in {took:.1f} s", flush=True)
        for failure in tally.failures[:5]:
            print(f"  failed: {failure}", flush=True)
        await drained.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(tally.all_ended.wait(), args.drain_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    _write(args, keys, subs, tally)
    print("done", flush=True)


def _write(args: argparse.Namespace, keys: list[str], subs: list[Subscriber], t: Tally) -> None:
    result = {
        "subscribers": len(subs),
        "keys": [s.key for s in subs],
        "unique": [len(seqs) for seqs in t.seqs],
        "duplicates": t.duplicates,
        "resubscribes": t.resubscribes,
        "reconnects": t.reconnects,
        "ended_by": t.ended_by,
        "not_primed": sum(not s.primed for s in subs),
        "not_ended": sum(not s.ended for s in subs),
        "failures": t.failures,
    }
    Path(args.result).write_text(json.dumps(result))
    with open(f"{args.result}.lat", "wb") as out:
        t.latencies.tofile(out)
    with open(f"{args.result}.seq", "wb") as out:
        t.sequence.tofile(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.subscribers")
    parser.add_argument("--url", required=True)
    parser.add_argument("--transport", choices=["ws", "sse"], default="ws")
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--keys", type=int, default=100, help="0: every subscriber unfiltered")
    parser.add_argument("--after", default=None, help="replay from this cursor first")
    parser.add_argument("--result", required=True)
    parser.add_argument("--connect-concurrency", type=int, default=50)
    parser.add_argument("--drain-s", type=float, default=30.0)
    parser.add_argument("--deflate", action=argparse.BooleanOptionalAction, default=True)
    asyncio.run(_run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

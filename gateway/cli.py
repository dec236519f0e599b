"""The ``engagement-gateway`` command: serve, sandbox, demo, export-schema, token.

The `sandbox` and `demo` commands import the sandboxes lazily: their job is to
start them. Nothing else in the product imports sandboxes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from domain.governance import Role
from gateway.config import DEFAULT_SANDBOX_PORT_BASE, Settings

if TYPE_CHECKING:
    from gateway.servers import Served

__all__ = ["main"]

SYSTEMS = ("salesforce", "kantata", "harvest", "netsuite")
PUSHING = ("salesforce", "netsuite")  # the sandboxes that can send webhooks
# Signs the demo sandboxes' webhooks when EG_WEBHOOK_SECRET is unset (demo only, never `serve`).
DEMO_WEBHOOK_SECRET = "eg-demo-webhook-secret"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engagement-gateway",
        description="GraphQL gateway over CRM, PSA, time-tracking and ERP systems.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway (systems from EG_* env vars)")
    serve.add_argument("--host", default=None, help="bind address (default EG_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default EG_PORT)")

    sandbox = sub.add_parser("sandbox", help="run a vendor sandbox seeded with the demo firm")
    sandbox.add_argument("system", choices=[*SYSTEMS, "all"])
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument(
        "--port", type=int, default=DEFAULT_SANDBOX_PORT_BASE, help="for all: N..N+3"
    )
    _seed_args(sandbox)
    sandbox.add_argument("--latency-ms", type=float, default=0.0)
    sandbox.add_argument("--jitter-ms", type=float, default=0.0)
    sandbox.add_argument("--error-rate", type=float, default=0.0, help="share of 500/503")
    sandbox.add_argument("--rate-limit-rate", type=float, default=0.0, help="share throttled")
    sandbox.add_argument("--timeout-rate", type=float, default=0.0, help="share that hang")

    demo = sub.add_parser("demo", help="run the four seeded sandboxes and the gateway")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000, help="gateway port")
    demo.add_argument(
        "--sandbox-port-base",
        type=int,
        default=DEFAULT_SANDBOX_PORT_BASE,
        help="salesforce, kantata, harvest, netsuite on Q..Q+3",
    )
    _seed_args(demo)

    export = sub.add_parser("export-schema", help="print or write the GraphQL SDL")
    export.add_argument("--output", "-o", type=Path, default=None)

    events = sub.add_parser(
        "export-event-schemas", help="write the JSON Schema of every event type and version"
    )
    events.add_argument("--output-dir", type=Path, default=Path("schemas/events"))

    token = sub.add_parser("token", help="print a bearer token signed with EG_JWT_SECRET")
    token.add_argument("--sub", required=True, help="the subject (user or service)")
    token.add_argument(
        "--role",
        action="append",
        default=[],
        choices=[r.value for r in Role],
        help="a role the caller holds (repeat for several)",
    )
    token.add_argument("--ttl", type=int, default=3600, help="seconds the token is valid")
    return parser


def _seed_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=42, help="demo-firm seed")
    parser.add_argument(
        "--manifest",
        type=Path,
        default=None,
        help="where to write the planted-discrepancy manifest (default var/)",
    )


def _rate(value: float, name: str) -> float:
    if not 0 <= value <= 1:
        raise SystemExit(f"engagement-gateway: --{name} must be between 0 and 1, got {value}")
    return value


def _sandboxes(args: argparse.Namespace, names: Sequence[str], base: int) -> list[Served]:
    from gateway.servers import Served
    from sandboxes import SANDBOX_NAMES, create_sandbox_app
    from sandboxes.control import Faults
    from sandboxes.seed import generate_firm, write_manifest

    firm = generate_firm(args.seed)
    manifest = args.manifest or Path("var") / f"discrepancies-seed{args.seed}.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(firm, manifest)
    print(f"demo firm (seed {args.seed}): discrepancy manifest {manifest}", flush=True)
    served = []
    for offset, name in enumerate(names):
        faults = Faults(
            latency_ms=getattr(args, "latency_ms", 0.0),
            jitter_ms=getattr(args, "jitter_ms", 0.0),
            error_rate=_rate(getattr(args, "error_rate", 0.0), "error-rate"),
            rate_limit_rate=_rate(getattr(args, "rate_limit_rate", 0.0), "rate-limit-rate"),
            timeout_rate=_rate(getattr(args, "timeout_rate", 0.0), "timeout-rate"),
        )
        system = next(s for s in SANDBOX_NAMES if s == name)
        app = create_sandbox_app(system, firm, faults=faults, seed=args.seed)
        served.append(Served(name, app, args.host, base + offset))
    return served


def _announce(apps: Sequence[Served], gateway: Served | None, demo_token: str | None) -> None:
    for served in apps:
        print(f"  {served.name:<11} {served.url}", flush=True)
    if gateway is not None:
        print(f"  {'gateway':<11} {gateway.url}", flush=True)
        print(f"  GraphiQL    {gateway.url}/graphql", flush=True)
        print(f"  readiness   {gateway.url}/readyz", flush=True)
    if demo_token is not None:
        print("  mutations need a token; for the demo (every role, 8 hours), paste in", flush=True)
        print(f'  GraphiQL\'s Headers: {{"Authorization": "Bearer {demo_token}"}}', flush=True)
    print("ready (Ctrl-C to stop)", flush=True)


def _run(apps: list[Served], gateway: Served | None = None, demo_token: str | None = None) -> int:
    from gateway.servers import serve_all

    everything = [*apps, *([gateway] if gateway else [])]
    return asyncio.run(serve_all(everything, on_ready=lambda: _announce(apps, gateway, demo_token)))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from resolvers.schema import schema

        sdl = schema.as_str() + "\n"
        if args.output is None:
            sys.stdout.write(sdl)
        else:
            args.output.write_text(sdl, encoding="utf-8")
        return 0
    if args.command == "export-event-schemas":
        from domain.events import EVENT_TYPES, event_schema

        args.output_dir.mkdir(parents=True, exist_ok=True)
        for cls in EVENT_TYPES.values():
            path = args.output_dir / f"{cls.type}.v{cls.version}.json"
            path.write_text(json.dumps(event_schema(cls), indent=2) + "\n", encoding="utf-8")
        print(f"{len(EVENT_TYPES)} event schemas in {args.output_dir}")
        return 0
    if args.command == "token":
        from gateway.auth import mint_token

        if args.ttl <= 0:
            raise SystemExit(f"engagement-gateway: --ttl must be positive, got {args.ttl}")
        print(mint_token(Settings(), args.sub, args.role, args.ttl))
        return 0
    if args.command == "serve":
        from gateway.app import create_app
        from gateway.servers import Served

        settings = Settings()
        host = args.host or settings.host
        port = settings.port if args.port is None else args.port
        return _run([], Served("gateway", create_app(settings), host, port))
    if args.command == "sandbox":
        names = SYSTEMS if args.system == "all" else (args.system,)
        return _run(_sandboxes(args, names, args.port))
    # demo
    from gateway.app import create_app
    from gateway.servers import Served

    apps = _sandboxes(args, SYSTEMS, args.sandbox_port_base)
    urls = {f"{s.name}_url": s.url for s in apps}
    settings = Settings(**urls)  # type: ignore[arg-type]
    if settings.webhook_secret is None:
        settings = Settings(**urls, webhook_secret=DEMO_WEBHOOK_SECRET)  # type: ignore[arg-type]
    gateway = Served("gateway", create_app(settings), args.host, args.port)
    _push_to(apps, gateway, settings)
    return _run(apps, gateway, _demo_token(settings))


def _push_to(apps: Sequence[Served], gateway: Served, settings: Settings) -> None:
    """Register the gateway's webhook endpoints on the sandboxes that can push."""
    import dataclasses

    from starlette.applications import Starlette

    from sandboxes.webhooks import WebhookSender, WebhookTarget

    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    host = "127.0.0.1" if gateway.host in ("0.0.0.0", "::", "") else gateway.host
    base = dataclasses.replace(gateway, host=host).url
    for served in apps:
        if served.name in PUSHING and isinstance(served.app, Starlette):
            sender = served.app.state.webhooks
            assert isinstance(sender, WebhookSender)
            sender.register(WebhookTarget(f"{base}/webhooks/{served.name}", (secret,)))
    print(f"webhooks: {', '.join(PUSHING)} push to {base}/webhooks/<system>", flush=True)


def _demo_token(settings: Settings) -> str | None:
    """A token with every role, printed only while the published demo secret signs tokens."""
    from domain.governance import Role
    from gateway.auth import mint_token
    from gateway.config import DEMO_JWT_SECRET

    if settings.jwt_secret.get_secret_value() != DEMO_JWT_SECRET:
        return None
    return mint_token(settings, "demo", list(Role), ttl_s=8 * 3600)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

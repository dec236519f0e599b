"""`engagement-gateway serve` as a subprocess on the real Redis: started, killed, restarted."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from domain.governance import Role
from gateway.auth import TokenAuthority
from tests.e2e.support import CliProcess, free_port
from tests.e2e.vendor_side import sandbox_urls

__all__ = ["GatewayProcess", "bearer", "clean_env"]

JWT_SECRET = "end-to-end-test-secret-of-at-least-32-bytes"


def clean_env() -> dict[str, str]:
    """This process's environment without any EG_* setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith("EG_")}


def bearer(subject: str, *roles: Role) -> dict[str, str]:
    """Headers of a caller the gateways started here accept (same EG_JWT_SECRET)."""
    authority = TokenAuthority(
        secret=SecretStr(JWT_SECRET), issuer="engagement-gateway", audience="engagement-gateway"
    )
    return {"Authorization": f"Bearer {authority.mint(subject, roles)}"}


class GatewayProcess:
    """`engagement-gateway serve` on one port against the sandboxes at `sandbox_base`.

    `settings` are extra EG_* variables (without the prefix), e.g. ``{"LEASE_MS": "1500"}``.
    """

    def __init__(
        self,
        sandbox_base: int,
        redis_url: str,
        redis_prefix: str,
        workdir: Path,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.env = {
            **clean_env(),
            **{f"EG_{name.upper()}_URL": url for name, url in sandbox_urls(sandbox_base).items()},
            "EG_REDIS_URL": redis_url,
            "EG_REDIS_PREFIX": redis_prefix,
            "EG_JWT_SECRET": JWT_SECRET,
            **{f"EG_{name.upper()}": value for name, value in (settings or {}).items()},
        }
        self.process: CliProcess | None = None
        self.starts = 0
        self.output: list[str] = []  # what every process printed, in order

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.proc.pid

    def start(self) -> None:
        """Start it and wait until it serves (blocking: call through asyncio.to_thread)."""
        argv = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = CliProcess(argv, self.workdir, self.env)
        self.process.wait_for_line("ready", timeout_s=60)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: the gateway dies wherever it is, with no shutdown of any kind."""
        assert self.process is not None
        self.process.kill()
        self.output += self.process.lines
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.output += self.process.lines
            self.process = None

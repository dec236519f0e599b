"""OAuth 2.0 client credentials for NetSuite (`adapters.oauth`).

Tokens come from ``POST /services/rest/auth/oauth2/v1/token`` on the account's
host and last ``expires_in`` seconds (3600); the provider renews one a minute
before it expires (by the adapter's clock) or when the vendor refuses it.
Production NetSuite M2M authenticates the client with a JWT assertion signed
by a certificate; this provider sends ``client_id`` and ``client_secret``
(what the sandbox and many proxies accept).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from adapters import oauth
from adapters.netsuite.errors import SYSTEM, is_throttled, translate_error
from adapters.resilience import CircuitBreaker

__all__ = ["TOKEN_PATH", "ClientCredentials"]

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
RENEW_BEFORE_S = 60.0


class ClientCredentials(oauth.ClientCredentials):
    """NetSuite bearer tokens, renewed shortly before they expire."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        breaker: CircuitBreaker,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            system=SYSTEM,
            token_url=TOKEN_PATH,
            client_id=client_id,
            client_secret=client_secret,
            breaker=breaker,
            translate=translate_error,
            is_throttled=is_throttled,
        )
        self._clock = clock
        self._expires_at = 0.0

    def _cached(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    def _accept(self, body: Any, http: httpx.AsyncClient) -> str:
        token = str(body["access_token"])
        lifetime = float(body.get("expires_in", 3600))
        self._expires_at = self._clock() + max(0.0, lifetime - RENEW_BEFORE_S)
        return token

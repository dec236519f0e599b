"""OAuth 2.0 client credentials for NetSuite, as a `CredentialProvider`.

Tokens come from ``POST /services/rest/auth/oauth2/v1/token`` and last
``expires_in`` seconds (3600); the provider renews one a minute before it
expires (by the adapter's clock) or when the vendor refuses it (VendorClient
then calls `invalidate` and retries once). Concurrent first calls share one
token request. Production NetSuite M2M authenticates the client with a JWT
assertion signed by a certificate; this provider sends ``client_id`` and
``client_secret`` (what the sandbox and many proxies accept).

The token request runs inside the API call that needed it, so it keeps the
shared circuit breaker honest: a refused login releases the call, a failing
one counts as a failure.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal

import httpx

from adapters.http import CORRELATION_HEADER, correlation_id
from adapters.netsuite.errors import SYSTEM, is_throttled, translate_error
from adapters.resilience import CircuitBreaker
from domain.errors import AuthFailed, MappingFailed

__all__ = ["TOKEN_PATH", "ClientCredentials"]

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
RENEW_BEFORE_S = 60.0


class ClientCredentials:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        breaker: CircuitBreaker,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._breaker = breaker
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        token = self._valid() or await self._login(http)
        return {"Authorization": f"Bearer {token}"}

    def invalidate(self) -> None:
        self._token = None

    def _valid(self) -> str | None:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    async def _login(self, http: httpx.AsyncClient) -> str:
        async with self._lock:
            token = self._valid()
            if token is not None:
                return token
            cid = correlation_id.get()
            response = await http.post(
                TOKEN_PATH, data=self._form, headers={CORRELATION_HEADER: cid} if cid else None
            )
            if response.status_code != 200:
                if is_throttled(response):
                    self._breaker.record_failure()
                else:
                    self._breaker.release()
                error = translate_error(response)
                if response.status_code in (400, 401) and not isinstance(error, AuthFailed):
                    raise AuthFailed(
                        str(error.args[0]),
                        system=SYSTEM,
                        status=response.status_code,
                        vendor_code=error.vendor_code,
                        vendor_message=error.vendor_message,
                    )
                raise error
            try:
                body = json.loads(response.content, parse_float=Decimal)
                token = str(body["access_token"])
                lifetime = float(body.get("expires_in", 3600))
            except (ValueError, KeyError, TypeError) as exc:
                self._breaker.release()
                raise MappingFailed(f"unreadable token response: {exc}", system=SYSTEM) from exc
            self._token = token
            self._expires_at = self._clock() + max(0.0, lifetime - RENEW_BEFORE_S)
            return token

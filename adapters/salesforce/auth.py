"""OAuth 2.0 client-credentials login for Salesforce, as a `CredentialProvider`.

The first call fetches a token from ``POST /services/oauth2/token`` and
points the HTTP client at the ``instance_url`` the token response names; the
token is cached until the vendor refuses it (VendorClient then calls
`invalidate` and retries once with a fresh token). Concurrent first calls
share one token request.

The token request runs inside the API call that needed it, so it keeps the
shared circuit breaker honest itself: a refused login releases the call, a
failing login counts as a failure.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from decimal import Decimal

import httpx

from adapters.http import CORRELATION_HEADER, correlation_id
from adapters.resilience import CircuitBreaker
from adapters.salesforce.errors import SYSTEM, is_throttled, translate_error
from domain.errors import AuthFailed, MappingFailed

__all__ = ["TOKEN_PATH", "ClientCredentials"]

TOKEN_PATH = "/services/oauth2/token"


class ClientCredentials:
    """Bearer tokens from the client-credentials grant, fetched lazily and cached."""

    def __init__(
        self, *, login_url: str, client_id: str, client_secret: str, breaker: CircuitBreaker
    ) -> None:
        self._token_url = login_url.rstrip("/") + TOKEN_PATH
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._breaker = breaker
        self._token: str | None = None
        self._lock = asyncio.Lock()

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        token = self._token or await self._login(http)
        return {"Authorization": f"Bearer {token}"}

    def invalidate(self) -> None:
        self._token = None

    async def _login(self, http: httpx.AsyncClient) -> str:
        async with self._lock:
            if self._token is not None:
                return self._token
            cid = correlation_id.get()
            response = await http.post(
                self._token_url,
                data=self._form,
                headers={CORRELATION_HEADER: cid} if cid else None,
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
                token, instance_url = str(body["access_token"]), str(body["instance_url"])
            except (ValueError, KeyError, TypeError) as exc:
                self._breaker.release()
                raise MappingFailed(f"unreadable token response: {exc}", system=SYSTEM) from exc
            http.base_url = httpx.URL(instance_url.rstrip("/"))
            self._token = token
            return token

"""OAuth 2.0 client-credentials login, shared by the vendors that use it.

`ClientCredentials` is a `CredentialProvider`: the first call fetches a
token with ``grant_type=client_credentials`` and caches it until the vendor
refuses it (VendorClient then calls `invalidate` and retries once with a
fresh token). Concurrent first calls share one token request. A vendor's
subclass reads its token response (`_accept`) and may let a token expire
(`_cached`).

The token request runs inside the API call that needed it, so it keeps the
shared circuit breaker honest itself: a refused login releases the call, a
failing login (throttled, server error) counts as a failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from adapters.http import CORRELATION_HEADER, ErrorTranslator, correlation_id
from adapters.jsonwire import loads
from adapters.resilience import CircuitBreaker
from domain.errors import AdapterError, AuthFailed, MappingFailed

__all__ = ["ClientCredentials"]


class ClientCredentials:
    """Bearer tokens from the client-credentials grant, fetched lazily and cached."""

    def __init__(
        self,
        *,
        system: str,
        token_url: str,
        client_id: str,
        client_secret: str,
        breaker: CircuitBreaker,
        translate: ErrorTranslator,
        is_throttled: Callable[[httpx.Response], bool],
    ) -> None:
        self._system = system
        self._token_url = token_url
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._breaker = breaker
        self._translate = translate
        self._is_throttled = is_throttled
        self._token: str | None = None
        self._lock = asyncio.Lock()

    async def headers(self, http: httpx.AsyncClient) -> Mapping[str, str]:
        token = self._cached() or await self._login(http)
        return {"Authorization": f"Bearer {token}"}

    def invalidate(self) -> None:
        self._token = None

    def _cached(self) -> str | None:
        """The token to send, or None when a new one must be fetched."""
        return self._token

    def _accept(self, body: Any, http: httpx.AsyncClient) -> str:
        """Read a token response: return the token and note what else it says.

        Raises KeyError, TypeError or ValueError when the response lacks what
        the vendor always sends.
        """
        return str(body["access_token"])

    async def _login(self, http: httpx.AsyncClient) -> str:
        async with self._lock:
            token = self._cached()
            if token is not None:
                return token
            cid = correlation_id.get()
            response = await http.post(
                self._token_url,
                data=self._form,
                headers={CORRELATION_HEADER: cid} if cid else None,
            )
            if response.status_code != 200:
                raise self._refused(response)
            try:
                token = self._accept(loads(response.content), http)
            except (ValueError, KeyError, TypeError) as exc:
                self._breaker.release()
                raise MappingFailed(
                    f"unreadable token response: {exc}", system=self._system
                ) from exc
            self._token = token
            return token

    def _refused(self, response: httpx.Response) -> AdapterError:
        """Book the refused login on the breaker; a 400/401 is always `AuthFailed`."""
        if self._is_throttled(response):
            self._breaker.record_failure()
        else:
            self._breaker.release()
        error = self._translate(response)
        if response.status_code in (400, 401) and not isinstance(error, AuthFailed):
            return AuthFailed(
                str(error.args[0]),
                system=self._system,
                status=response.status_code,
                vendor_code=error.vendor_code,
                vendor_message=error.vendor_message,
            )
        return error

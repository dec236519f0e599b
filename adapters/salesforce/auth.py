"""OAuth 2.0 client-credentials login for Salesforce (`adapters.oauth`).

Salesforce's token comes from ``POST /services/oauth2/token`` on the login
host, and its response names the ``instance_url`` the API lives on: the
provider points the HTTP client there. The token is kept until the vendor
refuses it.
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters import oauth
from adapters.resilience import CircuitBreaker
from adapters.salesforce.errors import SYSTEM, is_throttled, translate_error

__all__ = ["TOKEN_PATH", "ClientCredentials"]

TOKEN_PATH = "/services/oauth2/token"


class ClientCredentials(oauth.ClientCredentials):
    """Salesforce bearer tokens; the first login also finds the API host."""

    def __init__(
        self, *, login_url: str, client_id: str, client_secret: str, breaker: CircuitBreaker
    ) -> None:
        super().__init__(
            system=SYSTEM,
            token_url=login_url.rstrip("/") + TOKEN_PATH,
            client_id=client_id,
            client_secret=client_secret,
            breaker=breaker,
            translate=translate_error,
            is_throttled=is_throttled,
        )

    def _accept(self, body: Any, http: httpx.AsyncClient) -> str:
        token, instance_url = str(body["access_token"]), str(body["instance_url"])
        http.base_url = httpx.URL(instance_url.rstrip("/"))
        return token

"""OAuth 2.0 for the sandbox org: the token endpoint and bearer-token checks.

``POST /services/oauth2/token`` (form-encoded) accepts the ``client_credentials``
grant and the legacy ``password`` grant. Tokens are opaque, expire after
`ttl_s` (measured on the sandbox clock) and are minted deterministically.
Failures use the OAuth shape ``{"error", "error_description"}``; API calls
without a live token get 401 INVALID_SESSION_ID in the API's array shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

from sandboxes.salesforce.errors import invalid_session
from sandboxes.salesforce.serialize import json_response

__all__ = ["SALESFORCE_PASSWORD", "Session", "TokenStore"]

SALESFORCE_PASSWORD = "eg-demo-password"


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user_id: str
    expires_at: datetime


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status=status)


class TokenStore:
    """Issues and checks access tokens for one sandbox org."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        org_id: str,
        usernames: Callable[[], dict[str, str]],
        integration_user: Callable[[], str],
        clock: Callable[[], datetime],
        ttl_s: float,
        seed: int,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.org_id = org_id
        self._usernames = usernames
        self._integration_user = integration_user
        self._clock = clock
        self.ttl = timedelta(seconds=ttl_s)
        self._serial = itertools.count(1)
        self._key = hashlib.sha256(f"sandbox-org-{seed}".encode()).digest()
        self._sessions: dict[str, Session] = {}

    def authenticate(self, request: Request) -> Session:
        """The live session behind the request's ``Authorization`` header, or 401."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        session = (
            self._sessions.get(token.strip()) if scheme.lower() in ("bearer", "oauth") else None
        )
        if session is None or self._clock() >= session.expires_at:
            raise invalid_session()
        return session

    def revoke_all(self) -> None:
        self._sessions.clear()

    def _issue(self, user_id: str, instance_url: str) -> Response:
        serial = next(self._serial)
        opaque = hmac.new(self._key, f"{serial}".encode(), hashlib.sha256).digest()
        token = f"{self.org_id}!AQ{base64.urlsafe_b64encode(opaque).decode().rstrip('=')}"
        now = self._clock()
        self._sessions[token] = Session(token, user_id, now + self.ttl)
        identity = f"{instance_url}/id/{self.org_id}/{user_id}"
        issued_at = str(int(now.timestamp() * 1000))
        signature = hmac.new(
            self.client_secret.encode(), f"{identity}{issued_at}".encode(), hashlib.sha256
        ).digest()
        return json_response(
            {
                "access_token": token,
                "instance_url": instance_url,
                "id": identity,
                "token_type": "Bearer",
                "issued_at": issued_at,
                "signature": base64.b64encode(signature).decode(),
            }
        )

    async def token_endpoint(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "")
        form: dict[str, str] = {}
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        form.update({k: v for k, v in request.query_params.items() if k not in form})
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = request.headers.get("authorization", "")
        if basic.lower().startswith("basic ") and client_id is None:
            try:
                decoded = base64.b64decode(basic[6:]).decode()
            except ValueError:
                decoded = ""
            client_id, _, client_secret = decoded.partition(":")
        grant = form.get("grant_type")
        if grant not in ("client_credentials", "password"):
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if client_id != self.client_id or not hmac.compare_digest(
            (client_secret or "").encode(), self.client_secret.encode()
        ):
            return _oauth_error("invalid_client", "invalid client credentials")
        user_id = self._integration_user()
        if grant == "password":
            found = self._usernames().get(form.get("username", "").lower())
            if found is None or form.get("password") != SALESFORCE_PASSWORD:
                return _oauth_error("invalid_grant", "authentication failure")
            user_id = found
        instance_url = str(request.base_url).rstrip("/")
        return self._issue(user_id, instance_url)

"""Authentication: OAuth 2.0 client credentials (bearer tokens) and TBA headers.

``POST /services/rest/auth/oauth2/v1/token`` (form-encoded) issues a bearer
token lasting 3600 s for ``grant_type=client_credentials``. The real
machine-to-machine flow authenticates the client with a signed JWT
(``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer``
and ``client_assertion=<JWT>``); the sandbox accepts that form checking only
that an assertion is present, and also accepts ``client_id``/``client_secret``
in the form or as HTTP Basic credentials. ``POST .../oauth2/v1/revoke`` with
``token=`` revokes a token. Token endpoint errors use the OAuth shape
``{"error", "error_description"}``.

Record, query and async calls need ``Authorization: Bearer <token>`` or a
TBA ``OAuth realm="<account>", oauth_token=..., oauth_signature=...`` header
(only realm and token presence are checked). Anything else is 401 with
``o:errorCode`` INVALID_LOGIN.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandboxes.netsuite.errors import NsError

__all__ = ["JWT_BEARER", "TOKEN_LIFETIME_S", "TokenIssuer"]

TOKEN_LIFETIME_S = 3600
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_INVALID_LOGIN = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI "
    "at Setup > Users/Roles > User Management > View Login Audit Trail."
)
_OAUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _oauth_error(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


class TokenIssuer:
    """Issues, checks and revokes bearer tokens for one sandbox account."""

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account_id = account_id
        self.client_id = client_id
        self.client_secret = client_secret
        self._seed = seed
        self._clock = clock
        self._issued = 0
        self._tokens: dict[str, float] = {}

    def _mint(self) -> str:
        self._issued += 1
        material = f"{self.account_id}:{self._seed}:{self._issued}".encode()
        return "eyJuczEi." + hashlib.sha256(material).hexdigest()

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        if form.get("client_assertion_type") == JWT_BEARER:
            return bool(form.get("client_assertion"))
        client_id, secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        return client_id == self.client_id and secret == self.client_secret

    async def _form(self, request: Request) -> dict[str, str]:
        parsed = parse_qs((await request.body()).decode("utf-8", "replace"))
        return {key: values[0] for key, values in parsed.items()}

    async def token_endpoint(self, request: Request) -> Response:
        form = await self._form(request)
        grant = form.get("grant_type")
        if grant is None:
            return _oauth_error(400, "invalid_request", "The grant_type parameter is missing.")
        if grant != "client_credentials":
            return _oauth_error(
                400, "unsupported_grant_type", f"The grant type {grant!r} is not supported."
            )
        if not self._client_ok(request, form):
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        token = self._mint()
        self._tokens[token] = self._clock() + TOKEN_LIFETIME_S
        return JSONResponse(
            {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME_S}
        )

    async def revoke_endpoint(self, request: Request) -> Response:
        form = await self._form(request)
        if not self._client_ok(request, form):
            return _oauth_error(401, "invalid_client", "Client authentication failed.")
        self._tokens.pop(form.get("token", ""), None)
        return Response(status_code=200)

    def authenticate(self, request: Request) -> None:
        """Raise 401 INVALID_LOGIN unless the request carries valid credentials."""
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            expires = self._tokens.get(value.strip())
            if expires is not None and self._clock() < expires:
                return
        elif scheme.lower() == "oauth":
            params = dict(_OAUTH_PARAM.findall(value))
            if (
                params.get("realm") == self.account_id
                and params.get("oauth_token")
                and params.get("oauth_signature")
            ):
                return
        raise NsError(401, "INVALID_LOGIN", _INVALID_LOGIN)

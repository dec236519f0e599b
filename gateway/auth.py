"""Who is calling: bearer JWTs (HS256) verified by a pure ASGI middleware.

A token's claims: `sub` (required, the subject), `roles` (a list of
`domain.governance.Role` names; absent means none), `exp` (required), `iss`
and `aud` (required, must match the settings); `iat` optional. Expiry and
issue time are checked with `EG_JWT_LEEWAY_S` of clock skew. Only HS256 is
accepted, whatever the token's header says.

`BearerAuthMiddleware` reads `Authorization: Bearer <token>` on HTTP and
WebSocket scopes and puts the `Principal` in `scope["state"]["principal"]`
(`principal_of(scope)` reads it back):

- no Authorization header: the principal is None (an anonymous caller);
- a valid token: its Principal, whose `expires_at` is the token's `exp` (the
  live transports end a connection then);
- anything else (malformed header, forged, expired, wrong issuer or audience,
  unknown role): HTTP 401 with
  `WWW-Authenticate: Bearer error="invalid_token", error_description="..."`
  (`error="invalid_request"` when the header itself is malformed) and the body
  `{"errors": [{"message": ..., "extensions": {"code": "UNAUTHENTICATED"}}]}`;
  the request never reaches the app. A WebSocket is refused before it is
  accepted: with the same 401 response where the server supports the ASGI
  WebSocket Denial Response extension (uvicorn, Starlette's TestClient), else
  by closing with code 4401 (which servers turn into a 403 handshake refusal).

What an authenticated or anonymous caller may do is decided by the resolvers
from the principal's roles, not here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt
from pydantic import SecretStr
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from domain.governance import Principal, Role
from gateway.config import DEMO_JWT_SECRET, Settings

__all__ = [
    "ALGORITHM",
    "AuthError",
    "BearerAuthMiddleware",
    "TokenAuthority",
    "mint_token",
    "principal_of",
    "warn_if_demo_secret",
]

logger = logging.getLogger("gateway.auth")

ALGORITHM = "HS256"
MAX_TOKEN_CHARS = 8192
WS_CLOSE_UNAUTHENTICATED = 4401  # graphql-transport-ws's "Unauthorized"
_ROLE_NAMES = frozenset(r.value for r in Role)
_KNOWN_ROLES = ", ".join(r.value for r in Role)


class AuthError(Exception):
    """The caller's credentials are refused; `error` is the RFC 6750 error code."""

    def __init__(self, description: str, *, error: str = "invalid_token") -> None:
        super().__init__(description)
        self.description = description
        self.error = error


@dataclass(frozen=True, slots=True)
class TokenAuthority:
    """Mints and verifies the gateway's tokens."""

    secret: SecretStr
    issuer: str
    audience: str
    leeway_s: float = 30.0

    def __post_init__(self) -> None:
        if len(self.secret.get_secret_value().encode()) < 32:
            raise ValueError("The JWT secret must be at least 32 bytes (RFC 7518 §3.2)")

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenAuthority:
        return cls(
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_s=settings.jwt_leeway_s,
        )

    def mint(
        self,
        subject: str,
        roles: Iterable[Role | str] = (),
        ttl_s: float = 3600,
        *,
        now: float | None = None,
    ) -> str:
        """A token for `subject` holding `roles` (Role names), valid for `ttl_s` seconds."""
        if not subject:
            raise ValueError("A token needs a subject")
        if ttl_s <= 0:
            raise ValueError(f"ttl_s must be positive, not {ttl_s}")
        issued = int(time.time() if now is None else now)
        claims: dict[str, Any] = {
            "sub": subject,
            "roles": sorted({Role(r).value for r in roles}),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": issued,
            "exp": issued + int(ttl_s),
        }
        return jwt.encode(claims, self.secret.get_secret_value(), algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The Principal a token names; `AuthError` when it is not a valid token of ours."""
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthError(f"The token is longer than {MAX_TOKEN_CHARS} characters")
        try:
            claims = jwt.decode(
                token,
                self.secret.get_secret_value(),
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("The token has expired") from None
        except jwt.InvalidSignatureError:
            raise AuthError("The token's signature is invalid") from None
        except jwt.InvalidAudienceError:
            raise AuthError(f"The token is not meant for {self.audience!r}") from None
        except jwt.InvalidIssuerError:
            raise AuthError(f"The token was not issued by {self.issuer!r}") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"The token has no {exc.claim!r} claim") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("The token is not valid yet") from None
        except jwt.InvalidAlgorithmError:
            raise AuthError(f"The token is not signed with {ALGORITHM}") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"The token is malformed: {exc}") from None
        return Principal(
            subject=_subject(claims.get("sub")),
            roles=_roles(claims.get("roles")),
            expires_at=_expiry(claims["exp"]),
        )

    def authenticate(self, authorization: str | None) -> Principal | None:
        """The Principal an Authorization header value names; None when there is none."""
        if authorization is None:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            raise AuthError(
                "The Authorization header must be 'Bearer <token>'", error="invalid_request"
            )
        return self.verify(token)


def _subject(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AuthError("The token's 'sub' claim must be a non-empty string")
    return value


def _expiry(value: object) -> datetime:
    """The `exp` claim (PyJWT checked it is a number) as an aware datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (ValueError, OverflowError, OSError):
            pass
    raise AuthError("The token's 'exp' claim must be a time")


def _roles(value: object) -> frozenset[Role]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise AuthError("The token's 'roles' claim must be a list of role names")
    unknown = [v for v in value if v not in _ROLE_NAMES]
    if unknown:
        shown = ", ".join(repr(v[:40]) for v in unknown)
        raise AuthError(f"Unknown role {shown} in the token (known roles: {_KNOWN_ROLES})")
    return frozenset(Role(v) for v in value)


def mint_token(
    settings: Settings, subject: str, roles: Iterable[Role | str] = (), ttl_s: float = 3600
) -> str:
    """A token signed with the configured secret: for the demo, GraphiQL and tests."""
    return TokenAuthority.from_settings(settings).mint(subject, roles, ttl_s)


def warn_if_demo_secret(settings: Settings) -> bool:
    """Log a warning when tokens are signed with the published demo secret."""
    if settings.jwt_secret.get_secret_value() != DEMO_JWT_SECRET:
        return False
    logger.warning(
        "EG_JWT_SECRET is not set: tokens are signed with the published demo secret, "
        "so anyone can mint one. Set EG_JWT_SECRET outside the demo."
    )
    return True


def principal_of(scope: Scope) -> Principal | None:
    """The caller BearerAuthMiddleware found (None: anonymous, or it did not run)."""
    principal = scope.get("state", {}).get("principal")
    return principal if isinstance(principal, Principal) else None


def _header_safe(text: str) -> str:
    """`text` as the inside of an RFC 7230 quoted-string (printable ASCII, no quotes)."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


class BearerAuthMiddleware:
    """Pure ASGI middleware: authenticate the caller of every HTTP and WebSocket scope."""

    def __init__(self, app: ASGIApp, *, authority: TokenAuthority) -> None:
        self.app = app
        self.authority = authority

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope["headers"] if k == b"authorization"]
        try:
            if len(values) > 1:
                raise AuthError("Send one Authorization header", error="invalid_request")
            header = values[0].decode("latin-1") if values else None
            principal = self.authority.authenticate(header)
        except AuthError as refused:
            await self._refuse(scope, receive, send, refused)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, refused: AuthError) -> None:
        cid = scope.get("state", {}).get("correlation_id")
        logger.info("refused credentials (correlation id %s): %s", cid, refused.description)
        extensions: dict[str, str] = {"code": "UNAUTHENTICATED"}
        if isinstance(cid, str) and cid:
            extensions["correlationId"] = cid
        challenge = (
            f'Bearer error="{refused.error}", '
            f'error_description="{_header_safe(refused.description)}"'
        )
        response = JSONResponse(
            {"errors": [{"message": refused.description, "extensions": extensions}]},
            status_code=401,
            headers={"WWW-Authenticate": challenge},
            media_type="application/json; charset=utf-8",
        )
        if scope["type"] == "http":
            await response(scope, receive, send)
            return
        if (await receive())["type"] != "websocket.connect":
            return  # the client left before its handshake was answered
        if "websocket.http.response" in scope.get("extensions", {}):
            await response(scope, receive, send)  # sent as websocket.http.response.*
            return
        reason = _header_safe(refused.description)[:120]  # a close reason is at most 123 bytes
        await send({"type": "websocket.close", "code": WS_CLOSE_UNAUTHENTICATED, "reason": reason})

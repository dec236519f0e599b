"""Bearer tokens: minting, verifying, the middleware's answers, the `token` command."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import jwt
import pytest
from pydantic import SecretStr, ValidationError
from starlette.types import Message, Receive, Scope, Send

from domain.governance import Principal, Role
from gateway.auth import (
    WS_CLOSE_UNAUTHENTICATED,
    AuthError,
    BearerAuthMiddleware,
    TokenAuthority,
    mint_token,
    principal_of,
    warn_if_demo_secret,
)
from gateway.cli import main
from gateway.config import DEMO_JWT_SECRET, Settings

SECRET = "unit-test-secret-of-at-least-32-bytes"
AUTHORITY = TokenAuthority(SecretStr(SECRET), issuer="eg", audience="eg-api", leeway_s=5)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "alice",
        "roles": ["FINANCE"],
        "iss": "eg",
        "aud": "eg-api",
        "iat": now,
        "exp": now + 86_400,  # tokens are made at collection time: outlive a long suite
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(secret: str = SECRET, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), secret, algorithm="HS256")


def refusal(token: str) -> str:
    with pytest.raises(AuthError) as caught:
        AUTHORITY.verify(token)
    return caught.value.description


def test_a_minted_token_verifies_to_its_subject_and_roles() -> None:
    token = AUTHORITY.mint("alice", [Role.FINANCE, "PMO"], ttl_s=60)
    assert AUTHORITY.verify(token) == Principal(
        subject="alice", roles=frozenset({Role.FINANCE, Role.PMO})
    )


def test_a_token_without_roles_is_a_principal_with_none() -> None:
    assert AUTHORITY.verify(signed(roles=None)) == Principal(subject="alice")


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (signed(exp=int(time.time()) - 60), "The token has expired"),
        (signed(secret="another-secret-of-at-least-32-bytes!"), "signature is invalid"),
        (signed(aud="someone-else"), "not meant for 'eg-api'"),
        (signed(iss="evil"), "not issued by 'eg'"),
        (signed(exp=None), "no 'exp' claim"),
        (signed(sub=None), "no 'sub' claim"),
        (signed(iat=int(time.time()) + 3600), "not valid yet"),
        (signed(roles=["FINANCE", "WIZARD"]), "Unknown role 'WIZARD'"),
        (signed(roles="FINANCE"), "'roles' claim must be a list"),
        (jwt.encode(claims(), None, algorithm="none"), "not signed with HS256"),
        ("not.a.jwt", "malformed"),
    ],
    ids=[
        "expired",
        "forged",
        "audience",
        "issuer",
        "no-exp",
        "no-sub",
        "future-iat",
        "unknown-role",
        "roles-not-list",
        "alg-none",
        "garbage",
    ],
)
def test_bad_tokens_are_refused_with_a_reason(token: str, reason: str) -> None:
    assert reason in refusal(token)


def test_the_unknown_role_message_lists_the_known_roles() -> None:
    message = refusal(signed(roles=["WIZARD"]))
    assert all(role.value in message for role in Role)


def test_expiry_is_checked_with_the_leeway() -> None:
    assert AUTHORITY.verify(signed(exp=int(time.time()) - 2)).subject == "alice"


@pytest.mark.parametrize("header", ["Bearer", "Bearer  ", "Basic YWxpY2U6cHc=", "Bearer a b"])
def test_a_malformed_authorization_header_is_an_invalid_request(header: str) -> None:
    with pytest.raises(AuthError) as caught:
        AUTHORITY.authenticate(header)
    assert caught.value.error == "invalid_request"


def test_no_header_is_anonymous_and_the_scheme_is_case_insensitive() -> None:
    assert AUTHORITY.authenticate(None) is None
    assert AUTHORITY.authenticate(f"bearer {signed()}") == Principal(
        subject="alice", roles=frozenset({Role.FINANCE})
    )


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenAuthority(SecretStr("short"), issuer="eg", audience="eg")
    with pytest.raises(ValidationError, match="jwt_secret"):
        Settings(jwt_secret=SecretStr("short"))


def test_the_demo_secret_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="gateway.auth"):
        assert warn_if_demo_secret(Settings()) is True
        assert warn_if_demo_secret(Settings(jwt_secret=SecretStr(SECRET))) is False
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "EG_JWT_SECRET" in caplog.records[0].getMessage()
    assert DEMO_JWT_SECRET not in caplog.text


def test_the_secret_issuer_and_audience_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EG_JWT_SECRET", SECRET)
    monkeypatch.setenv("EG_JWT_AUDIENCE", "eg-api")
    monkeypatch.setenv("EG_JWT_ISSUER", "eg")
    settings = Settings()
    assert SECRET not in repr(settings)
    assert AUTHORITY.verify(mint_token(settings, "bob", [Role.PMO])).subject == "bob"


# The `token` command


def test_the_token_command_prints_a_token_the_gateway_accepts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "--sub", "alice", "--role", "FINANCE", "--role", "PMO"]) == 0
    token = capsys.readouterr().out.strip()
    authority = TokenAuthority.from_settings(Settings())
    assert authority.verify(token) == Principal(
        subject="alice", roles=frozenset({Role.FINANCE, Role.PMO})
    )
    lifetime = jwt.decode(token, options={"verify_signature": False})
    assert lifetime["exp"] - lifetime["iat"] == 3600


def test_the_token_command_signs_with_the_configured_secret_and_ttl(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EG_JWT_SECRET", SECRET)
    assert main(["token", "--sub", "svc", "--ttl", "60"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="engagement-gateway")
    assert claims["sub"] == "svc"
    assert claims["roles"] == []
    assert claims["exp"] - claims["iat"] == 60
    with pytest.raises(AuthError, match="signature"):
        TokenAuthority(
            SecretStr(DEMO_JWT_SECRET), "engagement-gateway", "engagement-gateway"
        ).verify(token)


def test_the_token_command_refuses_unknown_roles_and_bad_ttls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as unknown:
        main(["token", "--sub", "alice", "--role", "WIZARD"])
    assert unknown.value.code == 2
    assert "invalid choice: 'WIZARD'" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="--ttl must be positive"):
        main(["token", "--sub", "alice", "--ttl", "0"])


# The middleware on raw ASGI scopes


class Recorder:
    """An ASGI app that records the principal it was handed."""

    def __init__(self) -> None:
        self.principals: list[Principal | None] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.principals.append(principal_of(scope))
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def run(
    scope_type: str, headers: list[tuple[bytes, bytes]], extensions: dict[str, Any] | None = None
) -> tuple[Recorder, list[Message]]:
    app = Recorder()
    sent: list[Message] = []
    inbox: list[Message] = [
        {"type": "websocket.connect"} if scope_type == "websocket" else {"type": "http.request"}
    ]

    async def receive() -> Message:
        return inbox.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": scope_type, "path": "/graphql", "headers": headers}
    if scope_type == "http":
        scope["method"] = "POST"
    if extensions is not None:
        scope["extensions"] = extensions
    await BearerAuthMiddleware(app, authority=AUTHORITY)(scope, receive, send)
    return app, sent


async def test_the_middleware_hands_the_app_the_principal_or_none() -> None:
    app, sent = await run("http", [(b"authorization", f"Bearer {signed()}".encode())])
    assert app.principals == [Principal(subject="alice", roles=frozenset({Role.FINANCE}))]
    assert sent[0]["status"] == 204
    anonymous, _ = await run("http", [])
    assert anonymous.principals == [None]


async def test_the_middleware_answers_401_with_a_bearer_challenge() -> None:
    forged = signed(secret="another-secret-of-at-least-32-bytes!")
    app, sent = await run("http", [(b"authorization", f"Bearer {forged}".encode())])
    assert app.principals == []
    assert sent[0]["status"] == 401
    headers = dict(sent[0]["headers"])
    assert headers[b"www-authenticate"] == (
        b'Bearer error="invalid_token", error_description="The token\'s signature is invalid"'
    )
    assert json.loads(sent[1]["body"]) == {
        "errors": [
            {
                "message": "The token's signature is invalid",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ]
    }


async def test_two_authorization_headers_are_refused() -> None:
    token = f"Bearer {signed()}".encode()
    app, sent = await run("http", [(b"authorization", token), (b"authorization", token)])
    assert app.principals == []
    assert sent[0]["status"] == 401
    assert b'error="invalid_request"' in dict(sent[0]["headers"])[b"www-authenticate"]


async def test_a_hostile_role_name_cannot_break_the_challenge_header() -> None:
    token = signed(roles=['x"\r\nSet-Cookie: a=b'])
    _, sent = await run("http", [(b"authorization", f"Bearer {token}".encode())])
    challenge = dict(sent[0]["headers"])[b"www-authenticate"]
    assert b"\r" not in challenge and b"\n" not in challenge
    assert challenge.count(b'"') == 4


async def test_a_websocket_with_a_bad_token_is_closed_4401_before_accept() -> None:
    expired = signed(exp=int(time.time()) - 60)
    app, sent = await run("websocket", [(b"authorization", f"Bearer {expired}".encode())])
    assert app.principals == []
    assert sent == [
        {
            "type": "websocket.close",
            "code": WS_CLOSE_UNAUTHENTICATED,
            "reason": "The token has expired",
        }
    ]


async def test_a_websocket_gets_a_401_where_the_server_can_send_one() -> None:
    _, sent = await run(
        "websocket",
        [(b"authorization", b"Bearer nonsense")],
        extensions={"websocket.http.response": {}},
    )
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 401
    assert json.loads(sent[1]["body"])["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_websocket_with_a_good_token_reaches_the_app() -> None:
    app, sent = await run("websocket", [(b"authorization", f"Bearer {signed()}".encode())])
    assert app.principals == [Principal(subject="alice", roles=frozenset({Role.FINANCE}))]
    assert sent == [{"type": "websocket.accept"}]


def test_a_principal_carries_its_tokens_expiry_but_neither_stores_nor_compares_it() -> None:
    now = time.time()
    token = AUTHORITY.mint("alice", [Role.FINANCE], ttl_s=60, now=now)
    principal = AUTHORITY.verify(token)
    assert principal.expires_at is not None
    assert principal.expires_at.tzinfo is not None
    assert principal.expires_at.timestamp() == int(now) + 60
    assert principal.model_dump() == {"subject": "alice", "roles": frozenset({Role.FINANCE})}
    assert "expires_at" not in principal.model_dump_json()
    same_caller = Principal(subject="alice", roles=frozenset({Role.FINANCE}))
    assert principal == same_caller and hash(principal) == hash(same_caller)
    assert principal != Principal(subject="alice")

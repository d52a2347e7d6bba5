"""Bad input over the assembled gateway: whatever a client sends, or fails to send, it gets an
answer in its area's protocol (OAuth JSON, FDX JSON, the screens' HTML), never a 500, a
traceback or an error in the log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hardening_world import CONSUMERS, ISSUER, World, open_world

pytestmark = pytest.mark.anyio
ALICE = CONSUMERS[0]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await open_world(tmp_path)
    try:
        yield w
    finally:
        await w.http.aclose()
        await w.services.bank.aclose()
        await w.services.state.aclose()
        await w.services.records.aclose()


async def call_then_disconnect(
    app: Any, method: str, path: str, content_type: bytes, authorization: str = "Bearer x.y.z"
) -> list[dict[str, Any]]:
    """An ASGI request whose client sends part of its body and goes away."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bank.example"),
            (b"content-type", content_type),
            (b"content-length", b"1000"),
            (b"authorization", authorization.encode()),
        ],
        "client": ("198.51.100.7", 50000),
        "server": ("bank.example", 443),
    }
    messages = iter([{"type": "http.request", "body": b"grant_type=authoriz", "more_body": True}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


FORM = b"application/x-www-form-urlencoded"
JSON = b"application/json"


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/oauth/token", FORM),
        ("POST", "/oauth/par", FORM),
        ("POST", "/oauth/revoke", FORM),
        ("POST", "/oauth/userinfo", FORM),
        ("POST", "/consumer/login", FORM),
        ("POST", "/oauth/interaction/i-1/login", FORM),
        ("POST", "/register", JSON),
        ("PUT", "/fdx/v6/consents/{consent}/revocation", JSON),
        ("POST", "/admin/consents/{consent}/revoke", JSON),
    ],
)
async def test_a_client_gone_mid_body_is_no_error(
    world: World, caplog: pytest.LogCaptureFixture, method: str, path: str, content_type: bytes
) -> None:
    """A client that disconnects while sending its body, to each reader of a form or JSON
    body (authorised where the body is read only then): nothing raised to the server (which
    would log "Exception in ASGI application" at ERROR) and nothing logged at ERROR."""
    app = world.recorder.inner.app
    authorization = "Bearer x.y.z"
    if "{consent}" in path:
        consent = await world.consent(ALICE["username"], ALICE["password"])
        path = path.format(consent=consent["grant_id"])
        if path.startswith("/admin"):
            authorization = f"Bearer {world.admin_token}"
        else:
            authorization = f"Bearer {await manage_token(world)}"
    caplog.set_level(logging.INFO)

    sent = await call_then_disconnect(app, method, path, content_type, authorization)

    assert [] == [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(m.get("status", 400) < 500 for m in sent)


async def manage_token(world: World) -> str:
    form = {"grant_type": "client_credentials", **world.assertion()}
    response = await world.http.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


# ---------------------------------------------------------------- no route: each area's shape


def assert_oauth_error(response: httpx.Response, status: int) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert status == response.status_code, where
    assert response.headers["content-type"] == "application/json", where
    assert response.json()["error"] in ("invalid_request", "server_error"), where
    assert response.headers["cache-control"] == "no-store", where


def assert_html_page(response: httpx.Response, status: int) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert status == response.status_code, where
    assert response.headers["content-type"].startswith("text/html"), where
    assert "<h1>" in response.text, where
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"], where


def assert_fdx_shape(response: httpx.Response, status: int, code: str) -> None:
    where = f"{response.request.method} {response.request.url.path}"
    assert (status, code) == (response.status_code, response.json()["code"]), where
    assert {"code", "message", "debugMessage"} == set(response.json()), where


OAUTH_WRONG_METHODS = [
    ("GET", "/oauth/par", "POST"),
    ("GET", "/oauth/token", "POST"),
    ("PUT", "/oauth/token", "POST"),
    ("GET", "/oauth/revoke", "POST"),
    ("DELETE", "/oauth/introspect", "POST"),
    ("PUT", "/oauth/userinfo", "GET, POST"),
    ("GET", "/register", "POST"),
    ("POST", "/jwks", "GET"),
    ("POST", "/.well-known/oauth-authorization-server", "GET"),
]


@pytest.mark.parametrize(("method", "path", "allow"), OAUTH_WRONG_METHODS)
async def test_a_wrong_method_on_an_oauth_endpoint_is_an_oauth_error(
    world: World, method: str, path: str, allow: str
) -> None:
    """405 as an RFC 6749 §5.2 body, with Allow (RFC 9110 §15.5.6)."""
    response = await world.http.request(method, path)

    assert_oauth_error(response, 405)
    assert set(allow.split(", ")) <= set(response.headers["allow"].split(", "))


@pytest.mark.parametrize(
    "path", ["/oauth/nothing", "/register/a/b", "/register/..%2f..%2fjwks", "/nothing", "/jwks/x"]
)
async def test_an_unknown_oauth_path_is_an_oauth_error(world: World, path: str) -> None:
    """404 as an RFC 6749 §5.2 body."""
    assert_oauth_error(await world.http.get(path), 404)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/consumer/consents/a/b", 404),
        ("GET", "/consumer/consents/a/receipts/x", 404),
        ("GET", "/consumer/nothing", 404),
        ("GET", "/oauth/interaction/i-1/nothing", 404),
        ("POST", "/oauth/authorize", 405),
        ("POST", "/consumer/history", 405),
        ("POST", "/oauth/error/bad_request", 405),
        ("POST", "/consumer/export.json", 405),
        ("POST", "/consumer", 405),
        ("GET", "/consumer/login", 405),
    ],
)
async def test_no_route_on_the_screens_is_the_screens_html_page(
    world: World, method: str, path: str, status: int
) -> None:
    """A consumer's browser gets the plain-words page, with the screens' security headers."""
    assert_html_page(await world.http.request(method, path), status)


@pytest.mark.parametrize("path", ["/fdx", "/fdx/"])
async def test_no_route_under_fdx_is_an_fdx_error(world: World, path: str) -> None:
    """The FDX area's own 404/1107, above the version routes too."""
    assert_fdx_shape(await world.http.get(path), 404, "1107")


# ---------------------------------------------------------------- a bug: 500 in the area's shape


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize(
    ("path", "shape"),
    [("/jwks", "oauth"), ("/.well-known/openid-configuration", "oauth"), ("/consumer", "html")],
)
async def test_an_unexpected_error_is_a_500_in_the_areas_shape(
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    path: str,
    shape: str,
) -> None:
    """A bug outside /fdx/ is a 500 in that path's protocol, never Starlette's plain text; the
    log names the exception's type and place, not its message."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise Boom("secret-personal-data")

    monkeypatch.setattr("authz.endpoints.jwks_response", broken)
    monkeypatch.setattr("authz.endpoints.metadata_response", broken)
    monkeypatch.setattr("authz.screens.portal.visit.Sessions.current", broken)
    app = world.recorder.inner.app
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as http:
        response = await http.get(path)

    if shape == "oauth":
        assert_oauth_error(response, 500)
        assert response.json()["error"] == "server_error"
    else:
        assert_html_page(response, 500)
    assert "secret-personal-data" not in response.text
    assert "secret-personal-data" not in caplog.text
    assert "Boom" in caplog.text

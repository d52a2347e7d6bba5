"""Bad input over the assembled gateway: whatever a client sends, or fails to send, it gets an
answer in its area's protocol (OAuth JSON, FDX JSON, the screens' HTML), never a 500, a
traceback or an error in the log."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.hardening_world import CONSUMERS, World, open_world

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

"""Bad input over the assembled gateway: whatever a client sends, or fails to send, it gets an
answer in its area's protocol (OAuth JSON, FDX JSON, the screens' HTML), never a 500, a
traceback or an error in the log."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.hardening_world import CONSUMERS, ISSUER, World, open_world

pytestmark = pytest.mark.anyio
ALICE = CONSUMERS[0]
ROOT = Path(__file__).resolve().parent.parent


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


def http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """An ASGI HTTP scope, as a server makes one, for calling the app directly."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bank.example"), *headers],
        "client": ("198.51.100.7", 50000),
        "server": ("bank.example", 443),
    }


async def call_then_disconnect(
    app: Any, method: str, path: str, content_type: bytes, authorization: str = "Bearer x.y.z"
) -> list[dict[str, Any]]:
    """An ASGI request whose client sends part of its body and goes away."""
    headers = [
        (b"content-type", content_type),
        (b"content-length", b"1000"),
        (b"authorization", authorization.encode()),
    ]
    messages = iter([{"type": "http.request", "body": b"grant_type=authoriz", "more_body": True}])

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(http_scope(method, path, headers), receive, send)
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
        ("POST", "/fdx/v6/notification-subscriptions", JSON),
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
    elif path.startswith("/fdx/"):
        authorization = f"Bearer {await manage_token(world)}"
    caplog.set_level(logging.INFO)

    sent = await call_then_disconnect(app, method, path, content_type, authorization)

    assert [] == [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert all(m.get("status", 400) < 500 for m in sent)
    if authorization != "Bearer x.y.z":  # authorised: the body was read, and the client gone
        assert 499 == sent[0]["status"]


async def manage_token(world: World) -> str:
    scope = "fdx:consents:manage fdx:notifications:subscribe"
    form = {"grant_type": "client_credentials", "scope": scope, **world.assertion()}
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
        ("POST", "/oauth/login/callback", 405),
        ("GET", "/oauth/login/nothing", 404),
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


# ---------------------------------------------------------------- the request head: 431


MB = 1024 * 1024
OVERSIZED_HEADS: dict[str, list[tuple[str, str]]] = {
    "one-8-mb-header": [("x-padding", "a" * (8 * MB))],
    "10000-headers": [(f"x-h{i}", "1") for i in range(10_000)],
    "1-mb-accept-language": [("accept-language", "en;q=0.9," * (MB // 9))],
    "1-mb-cookie": [("cookie", "a=" + "b" * MB)],
    "101-headers": [(f"x-h{i}", "1") for i in range(101)],
    "a-field-over-8-kib": [("x-padding", "a" * 8193)],
    "33-kib-in-all": [(f"x-h{i}", "a" * 4000) for i in range(9)],
}


@pytest.mark.parametrize("head", OVERSIZED_HEADS.values(), ids=OVERSIZED_HEADS)
async def test_a_head_past_the_limits_is_431_in_each_areas_shape(
    world: World, head: list[tuple[str, str]]
) -> None:
    """RFC 6585 §5, from the app itself, whatever server or proxy is in front: the FDX error
    body, the OAuth error, the screens' page; none of the request is acted on. (Raw ASGI calls:
    an HTTP client takes seconds to build 10,000 headers.)"""
    app = world.recorder.inner.app
    raw = [(k.encode(), v.encode()) for k, v in head]

    fdx = await asgi_call(app, "GET", "/fdx/v6/accounts", raw)
    oauth = await asgi_call(app, "POST", "/oauth/token", raw)
    screen = await asgi_call(app, "GET", "/consumer", raw)

    assert_fdx_shape(fdx, 431, "401")
    assert_oauth_error(oauth, 431)
    assert_html_page(screen, 431)
    assert all(r.headers["connection"] == "close" for r in (fdx, oauth, screen))


async def asgi_call(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]]
) -> httpx.Response:
    """One request straight to the ASGI app, the answer as an httpx.Response."""
    scope = http_scope(method, path, headers)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    request = httpx.Request(method, ISSUER + path)
    return httpx.Response(start["status"], headers=start["headers"], content=body, request=request)


async def test_a_head_within_the_limits_is_served(world: World) -> None:
    """100 fields, each up to 8 KiB, 32 KiB in all: a large DPoP proof and cookies fit."""
    head = [(f"x-h{i}", "1") for i in range(90)] + [("x-proof", "a" * 8192)]

    response = await world.http.get("/.well-known/openid-configuration", headers=head)

    assert 200 == response.status_code


def test_within_limits_counts_fields_field_size_and_the_whole() -> None:
    """The edges of each limit."""
    from gateway.head_limits import MAX_FIELD_BYTES, MAX_FIELDS, within_limits

    assert within_limits([(b"x", b"1")] * MAX_FIELDS)
    assert not within_limits([(b"x", b"1")] * (MAX_FIELDS + 1))
    assert within_limits([(b"x", b"a" * MAX_FIELD_BYTES)])
    assert not within_limits([(b"x", b"a" * (MAX_FIELD_BYTES + 1))])
    assert within_limits([(b"x", b"a" * 8000)] * 4)
    assert not within_limits([(b"x", b"a" * 8000)] * 5)


# ---------------------------------------------------------------- the same through `fdxgw serve`


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `fdxgw serve` (uvicorn, httptools) on a free loopback port: its base URL."""
    tmp = tmp_path_factory.mktemp("served")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FDX_PORT": str(port),
        "FDX_ISSUER": base,
        "FDX_VAR_DIR": str(tmp / "var"),
        "FDX_DATABASE_URL": f"sqlite:///{tmp}/gw.db",
    }
    fdxgw = [sys.executable, "-m", "gateway.cli"]
    subprocess.run([*fdxgw, "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*fdxgw, "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
        assert "Traceback" not in output
        assert '"level": "ERROR"' not in output


def raw_request(base: str, head: bytes, *, chunk: int = 65536) -> bytes:
    """Send ``head`` (a request line and fields, without the blank line) and a blank line over
    a socket, as fast as the server takes it, and return what it answers before closing."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        data = head + b"\r\n"
        try:
            for i in range(0, len(data), chunk):
                sock.sendall(data[i : i + chunk])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused before reading it all: its answer is waiting
        answer = b""
        try:
            while piece := sock.recv(65536):
                answer += piece
                if b"\r\n\r\n" in answer and not answer.startswith(b"HTTP/1.1 100"):
                    length = _content_length(answer)
                    if length is not None and len(answer.split(b"\r\n\r\n", 1)[1]) >= length:
                        break
        except ConnectionResetError:
            pass
    return answer


def _content_length(answer: bytes) -> int | None:
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return None


SERVER_REFUSAL = (
    b'{"error":"invalid_request","error_description":"request header fields too large"}'
)
SERVED_HEADS = {
    "one-8-mb-header": b"X-Padding: " + b"a" * (8 * MB) + b"\r\n",
    "10000-headers": b"".join(b"X-H%d: 1\r\n" % i for i in range(10_000)),
    "1-mb-accept-language": b"Accept-Language: " + b"en;q=0.9," * (MB // 9) + b"\r\n",
    "1-mb-cookie": b"Cookie: a=" + b"b" * MB + b"\r\n",
}


@pytest.mark.parametrize("fields", SERVED_HEADS.values(), ids=SERVED_HEADS)
def test_the_server_refuses_a_huge_head_with_431(served: str, fields: bytes) -> None:
    """Past 64 KiB the server itself answers 431 and closes, without buffering the rest; the
    gateway keeps serving."""
    head = b"GET /fdx/v6/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields

    answer = raw_request(served, head)

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    # The server's own answer (the app's, under /fdx/, would be an FDX error body).
    assert answer.endswith(SERVER_REFUSAL)
    assert 200 == httpx.get(served + "/healthz").status_code


def test_a_large_head_under_the_servers_ceiling_gets_the_apps_answer(served: str) -> None:
    """Between the app's 32 KiB and the server's 64 KiB: the app's 431 in the FDX shape."""
    fields = b"".join(b"X-H%d: %s\r\n" % (i, b"a" * 4000) for i in range(10))
    head = b"GET /fdx/v6/accounts HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + fields

    answer = raw_request(served, head)

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"code":"401"' in answer.replace(b" ", b"")


def test_requests_on_a_kept_alive_connection_are_each_measured_afresh(served: str) -> None:
    """The head count starts again with each request on a connection: many requests with
    ordinary heads, whose sum passes the limit, are all served."""
    headers = {f"x-h{i}": "a" * 1000 for i in range(20)}  # 20 KB a request
    with httpx.Client(base_url=served) as http:
        statuses = [http.get("/healthz", headers=headers).status_code for _ in range(6)]

    assert [200] * 6 == statuses


def test_a_large_body_behind_a_small_head_is_not_taken_for_a_head(served: str) -> None:
    """A body read together with its head counts as body: a 60 KB form is the token
    endpoint's to judge (here: an unknown grant type), not a 431."""
    body = "grant_type=nothing&pad=" + "a" * 60_000

    response = httpx.post(
        served + "/oauth/token",
        content=body,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] != "invalid_request" or "header" not in response.text

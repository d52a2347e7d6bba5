"""``fdxgw serve``'s HTTP server: the client address is the TCP peer's unless the peer is a
configured proxy, whatever the server would otherwise believe of ``X-Forwarded-For``."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from authz.screens.login import client_address
from config.settings import Settings
from gateway.serving import banner, server_options


def _echo_app(settings: Settings) -> Starlette:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(client_address(request, settings))

    return Starlette(routes=[Route("/", echo)])


@pytest.fixture
def serve() -> Iterator[Any]:
    started: list[tuple[uvicorn.Server, threading.Thread, socket.socket]] = []

    def run(settings: Settings) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        options = server_options(settings) | {"log_level": "warning", "lifespan": "off"}
        del options["host"], options["port"]  # the socket is bound already, on a free port
        server = uvicorn.Server(uvicorn.Config(_echo_app(settings), **options))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started.append((server, thread, sock))
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.started, "uvicorn did not start"
        return f"http://127.0.0.1:{sock.getsockname()[1]}/"

    yield run
    for server, thread, sock in started:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def test_a_client_cannot_pick_its_address_without_trusted_proxies(serve):
    """With ``trusted_proxies`` empty, ``X-Forwarded-For`` from 127.0.0.1 changes nothing: the
    sign-in throttle and the certificate check see the TCP peer."""
    url = serve(Settings())

    answer = httpx.get(url, headers={"X-Forwarded-For": "203.0.113.9"})

    assert "127.0.0.1" == answer.text


def test_a_configured_proxy_names_the_client(serve):
    """From a peer in ``trusted_proxies`` the nearest untrusted hop is the client."""
    url = serve(Settings(trusted_proxies=("127.0.0.1",)))

    answer = httpx.get(url, headers={"X-Forwarded-For": "198.51.100.4, 203.0.113.9"})

    assert "203.0.113.9" == answer.text


def test_the_banner_names_no_password_and_no_person(capsys):
    """The start-up banner goes to the log: demo user IDs, never their passwords or names."""
    demo = Path(__file__).resolve().parents[2] / "config" / "demo"
    people = orjson.loads((demo / "consumers.json").read_bytes())["consumers"]

    banner(Settings(adapter="sandbox", demo_dir=str(demo)))
    shown = capsys.readouterr().out

    assert all(p["username"] in shown for p in people)
    assert not [p["password"] for p in people if p["password"] in shown]
    assert not [p["name"] for p in people if p["name"] in shown]


def test_under_login_oidc_the_banner_points_to_the_banks_op(capsys):
    """With login = "oidc" the demo consumers' passwords and examples/budget_app.py (the
    built-in form, refused then) are not advertised; the bank's OP is."""
    demo = Path(__file__).resolve().parents[2] / "config" / "demo"
    settings = Settings(
        adapter="sandbox",
        demo_dir=str(demo),
        login="oidc",
        login_oidc_issuer="https://login.bank.example",
        login_oidc_client_id="fdx-gateway",
        login_oidc_client_secret="s3cret-for-the-op",
    )

    banner(settings)
    shown = capsys.readouterr().out

    assert "https://login.bank.example" in shown
    assert "passwords in" not in shown
    assert "try it:" not in shown
    assert "s3cret-for-the-op" not in shown

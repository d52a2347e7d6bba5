"""One real browser run: Chromium signs in, ticks an account, approves, lands on the app.

The app runs under uvicorn on a free 127.0.0.1 port in a background thread; the recipient's
redirect URI is intercepted inside the browser (``page.route``), so no server is needed there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest
from starlette.applications import Starlette

from authz.keys import SigningKeys
from authz.pushed import REQUEST_URI_PREFIX, PushedRequest
from authz.screens import routes
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.screens.conftest import (
    CHALLENGE,
    CLIENT,
    CLIENT_ID,
    CONSENT_REQUEST,
    PASSWORD,
    REDIRECT_URI,
    USERNAME,
    FakeBank,
)
from tests.served import CHROMIUM, CHROMIUM_ARGS, free_socket, serving

SCREENSHOT = Path(__file__).resolve().parents[3] / "var" / "consent-screen.png"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian Chromium is not installed at /usr/bin/chromium"
    ),
]


@dataclass
class Running:
    base: str
    services: Services


@pytest.fixture
def server() -> Iterator[Running]:
    sock, port = free_socket()
    base = f"http://127.0.0.1:{port}"
    records = memory_records()
    services = Services.build(
        Settings(issuer=base, port=port),
        policy=load_policy(),
        records=records,
        state=MemoryStateStore(clock=time.time),
        bank=FakeBank(),
        keys=SigningKeys.generate(),
    )
    anyio.run(records.schema.migrate)
    client = replace(CLIENT, logo_uri=f"{base}/static/demo-recipient-logo.svg")
    anyio.run(records.clients.put, client)
    with serving(Starlette(routes=routes(services)), sock):
        yield Running(base, services)


def push(services: Services) -> str:
    pushed = PushedRequest(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        state="browser-state",
        scope=("fdx:accountbasic:read", "fdx:transactions:read"),
        code_challenge=CHALLENGE,
        consent=CONSENT_REQUEST,
        created_at=time.time(),
    )
    anyio.run(lambda: services.state.put(Kind.PAR, "browser-par-0001", pushed.to_dict(), ttl=60))
    return REQUEST_URI_PREFIX + "browser-par-0001"


def test_a_consumer_approves_in_a_real_browser(server: Running) -> None:
    """Sign in, tick one account, approve: the browser arrives at the redirect URI with a code."""
    from playwright.sync_api import Route, sync_playwright

    request_uri = push(server.services)
    arrived: list[str] = []
    problems: list[str] = []

    def at_the_app(route: Route) -> None:
        arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>back at the app</p>")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale="en-US", viewport={"width": 900, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.route("https://budget.example/**", at_the_app)
            page.goto(
                f"{server.base}/oauth/authorize?client_id={CLIENT_ID}&request_uri={request_uri}"
            )
            page.get_by_label("User ID").fill(USERNAME)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Share your data with Budget <App>?").wait_for()
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT), full_page=True)
            page.locator('input[name="account:acc-checking"]').check()
            page.get_by_role("button", name="Approve").click()
            page.wait_for_url("https://budget.example/**")
        finally:
            browser.close()

    [url] = arrived
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://budget.example/callback?from=bank&code=")
    assert query["state"] == ["browser-state"]
    assert query["iss"] == [server.base]
    code = anyio.run(server.services.state.get, Kind.CODE, query["code"][0])
    assert code is not None
    assert problems == []  # no CSP violation (stylesheet, logo, form-action) and no other error

"""Once in a real Chromium: the consent flow and the portal, signing in at node-oidc-provider.

The gateway (``login = "oidc"``) runs under uvicorn on a free 127.0.0.1 port in a background
thread, the bank's OP in node (``conftest.bank_op``); the app's redirect URI is intercepted inside
the browser (``page.route``), so no server is needed there.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from urllib.parse import parse_qs, urlsplit

import anyio
import pytest

from adapters import load_adapter
from authz.consent.model import DurationType
from authz.keys import SigningKeys
from authz.pushed import REQUEST_URI_PREFIX, ConsentRequest, PushedRequest
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from examples.budget_app import Recipient
from gateway.app import create_app
from gateway.cli import _seed_demo
from tests.bank_op.conftest import DEMO, OP_PASSWORD, BankOP
from tests.served import CHROMIUM, CHROMIUM_ARGS, free_socket, serving

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

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
def server(bank_op: BankOP) -> Iterator[Running]:
    sock, port = free_socket()
    base = f"http://127.0.0.1:{port}"
    client = bank_op.register(base + "/oauth/login/callback")
    settings = Settings(
        issuer=base,
        port=port,
        login="oidc",
        login_oidc_issuer=bank_op.issuer,
        login_oidc_client_id=client["client_id"],
        login_oidc_client_secret=client["client_secret"],
        login_oidc_scope="openid bank",
        login_oidc_customer_claim="customer_id",
        login_oidc_allow_http=True,
    )
    records = memory_records()
    anyio.run(_seed_demo, records, DEMO)
    demo = anyio.run(records.clients.get, Recipient.demo().client_id)
    assert demo is not None  # its logo from this server, not the default port's
    anyio.run(records.clients.put, replace(demo, logo_uri=f"{base}/static/demo-recipient-logo.svg"))
    services = Services.build(
        settings,
        policy=load_policy(),
        records=records,
        state=MemoryStateStore(clock=time.time),
        bank=load_adapter("sandbox"),
        keys=SigningKeys.generate(),
    )
    app = create_app(settings, services=services)
    with serving(app, sock, lifespan="on"):
        yield Running(base, services)


def push(services: Services, recipient: Recipient) -> str:
    """What PAR stores (PAR itself is tested elsewhere): the request_uri."""
    pushed = PushedRequest(
        client_id=recipient.client_id,
        redirect_uri=recipient.redirect_uri,
        state="browser-state",
        scope=("openid", "fdx:accountbasic:read"),
        code_challenge=CHALLENGE,
        consent=ConsentRequest(
            duration_type=DurationType.TIME_BOUND,
            duration_period=30,
            lookback_period=90,
            clusters=("ACCOUNT_BASIC",),
        ),
        created_at=time.time(),
        nonce="browser-nonce",
    )
    key = secrets.token_urlsafe(32)
    anyio.run(lambda: services.state.put(Kind.PAR, key, pushed.to_dict(), ttl=60))
    return REQUEST_URI_PREFIX + key


def test_consent_and_portal_sign_in_at_the_bank_op_in_chromium(
    server: Running, bank_op: BankOP
) -> None:
    from playwright.sync_api import Route, sync_playwright

    recipient = Recipient.demo()
    request_uri = push(server.services, recipient)
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
            page.route(recipient.redirect_uri + "**", at_the_app)
            page.goto(
                f"{server.base}/oauth/authorize?client_id={recipient.client_id}"
                f"&request_uri={request_uri}"
            )
            assert page.url.startswith(bank_op.issuer + "/interaction/")
            page.locator("#login").fill("alice")
            page.locator("#password").fill(OP_PASSWORD)
            page.locator("#submit").click()
            page.get_by_role("heading", name="Share your data with Demo Budget App?").wait_for()
            assert page.url.startswith(server.base + "/oauth/interaction/")
            page.locator('input[name^="account:"]').first.check()
            page.get_by_role("button", name="Approve").click()
            page.wait_for_url(recipient.redirect_uri + "**")

            portal = browser.new_page(locale="en-US")
            portal.goto(server.base + "/consumer")
            portal.get_by_role("link", name="Sign in at Sandbox Bank").click()
            portal.locator("#login").fill("alice")
            portal.locator("#password").fill(OP_PASSWORD)
            portal.locator("#submit").click()
            portal.wait_for_url(server.base + "/consumer")
            assert "Demo Budget App" in portal.content()
        finally:
            browser.close()

    [url] = arrived
    query = parse_qs(urlsplit(url).query)
    assert query["state"] == ["browser-state"]
    assert query["iss"] == [server.base]
    code = anyio.run(server.services.state.get, Kind.CODE, query["code"][0])
    assert code is not None
    assert "urn:bank:loa:2" == code["acr"]
    assert ["pwd", "otp"] == code["amr"]
    assert problems == []

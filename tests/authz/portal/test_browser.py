"""The consumer's side in a real browser: consent screen and portal, in Debian Chromium.

The whole gateway (``create_app``) runs under uvicorn on a free 127.0.0.1 port in a thread; the
recipient's redirect URI is intercepted inside the browser, and the recipient's FDX calls are
made over HTTP with a token the test mints. Each test saves a screenshot under var/screenshots/.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx
import pytest

from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentStatus, DurationType
from authz.keys import SigningKeys
from authz.pushed import REQUEST_URI_PREFIX, ConsentRequest, PushedRequest
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from gateway.app import create_app
from tests.authz.screens.conftest import (
    CHALLENGE,
    CLIENT,
    CLIENT_ID,
    CONSENT_REQUEST,
    CUSTOMER,
    PASSWORD,
    REDIRECT_URI,
    USERNAME,
    FakeBank,
)
from tests.served import CHROMIUM, CHROMIUM_ARGS, free_socket, serving

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"
DAY = 86400

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

    def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a store call from a thread of its own: Playwright's sync API holds an event loop
        in this one. The browser is idle meanwhile (each step waited for its page)."""
        result: list[Any] = []
        worker = threading.Thread(target=lambda: result.append(anyio.run(fn, *args)))
        worker.start()
        worker.join(timeout=10)
        assert result, "store call did not finish"
        return result[0]

    def consents(self) -> list[Consent]:
        return self.run(lambda: self.services.records.consents.find(customer_id=CUSTOMER))  # type: ignore[no-any-return]

    def consent(self, consent_id: str) -> Consent:
        found = self.run(self.services.records.consents.get, consent_id)
        assert found is not None
        return found  # type: ignore[no-any-return]

    def push(self, consent: ConsentRequest = CONSENT_REQUEST) -> str:
        pushed = PushedRequest(
            client_id=CLIENT_ID,
            redirect_uri=REDIRECT_URI,
            state="browser-state",
            scope=("fdx:accountbasic:read", "fdx:transactions:read"),
            code_challenge=CHALLENGE,
            consent=consent,
            created_at=time.time(),
        )
        key = secrets.token_urlsafe(24)
        self.run(lambda: self.services.state.put(Kind.PAR, key, pushed.to_dict(), ttl=60))
        uri = REQUEST_URI_PREFIX + key
        return f"{self.base}/oauth/authorize?client_id={CLIENT_ID}&request_uri={uri}"

    def grant(self, *, period: int, granted_days_ago: float = 0) -> Consent:
        asked = ConsentRequest(
            DurationType.TIME_BOUND, period, 30, ("ACCOUNT_BASIC", "TRANSACTIONS")
        )
        consent, event = lifecycle.grant(
            consent_id="c-" + secrets.token_hex(6),
            request=asked,
            requested_scope=(),
            client_id=CLIENT_ID,
            customer_id=CUSTOMER,
            account_ids=["acc-checking"],
            optional_clusters=(),
            purpose="Shows your spending by category.",
            now=time.time() - granted_days_ago * DAY,
            settings=self.services.settings,
            policy=self.services.policy,
        )
        self.run(self.services.records.consents.create, consent, event)
        return consent

    def fdx_accounts(self, consent: Consent, token: str | None = None) -> tuple[int, str]:
        """The recipient's call, over HTTP, with a token for the consent."""
        if token is None:
            scope = " ".join(self.services.policy.scopes_for(consent.clusters))
            token, _ = self.services.tokens.issue(
                consent_id=consent.id, client_id=CLIENT_ID, sub="pairwise", scope=scope
            )
        response = httpx.get(
            f"{self.base}/fdx/v6/accounts", headers={"Authorization": f"Bearer {token}"}
        )
        return response.status_code, token


@pytest.fixture
def server() -> Iterator[Running]:
    sock, port = free_socket()
    base = f"http://127.0.0.1:{port}"
    records = memory_records()
    services = Services.build(
        Settings(issuer=base, port=port, profile="sandbox"),
        policy=load_policy(),
        records=records,
        state=MemoryStateStore(clock=time.time),
        bank=FakeBank(),
        keys=SigningKeys.generate(),
    )
    anyio.run(records.schema.migrate)
    anyio.run(
        records.clients.put, replace(CLIENT, logo_uri=f"{base}/static/demo-recipient-logo.svg")
    )
    with serving(create_app(services.settings, services=services), sock):
        yield Running(base, services)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    page: Any
    problems: list[str]
    arrived: list[str]

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_tab(browser: Any, locale: str = "en-US") -> Tab:
    """A page that records console errors (CSP violations included) and catches the app's
    redirect URI."""
    page = browser.new_page(locale=locale, viewport={"width": 1000, "height": 900})
    tab = Tab(page, [], [])
    page.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)

    def at_the_app(route: Any) -> None:
        tab.arrived.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>back at the app</p>")

    page.route("https://budget.example/**", at_the_app)
    return tab


def sign_in(tab: Tab, labels: tuple[str, str, str] = ("User ID", "Password", "Sign in")) -> None:
    """Fill the sign-in form found by its labels (user ID, password, button), as a person would."""
    user_label, password_label, button = labels
    tab.page.get_by_label(user_label).fill(USERNAME)
    tab.page.get_by_label(password_label).fill(PASSWORD)
    tab.page.get_by_role("button", name=button).click()


def test_a_consumer_approves_some_accounts_and_clusters(server: Running, browser: Any) -> None:
    """One of two accounts, the optional cluster left unticked: the consent holds exactly that."""
    tab = open_tab(browser)
    tab.page.goto(server.push())
    sign_in(tab)
    tab.page.get_by_role("heading", name="Share your data with Budget <App>?").wait_for()
    tab.page.get_by_label("Everyday Checking").check()
    tab.shot("consent-approve")
    tab.page.get_by_role("button", name="Approve").click()
    tab.page.wait_for_url("https://budget.example/**")

    [url] = tab.arrived
    assert "code" in parse_qs(urlsplit(url).query)
    [consent] = server.consents()
    assert consent.status is ConsentStatus.ACTIVE
    assert consent.account_ids == ("acc-checking",)
    assert consent.clusters == {"ACCOUNT_BASIC", "TRANSACTIONS"}  # ACCOUNT_DETAILED not ticked
    assert tab.problems == []


def test_a_consumer_denies(server: Running, browser: Any) -> None:
    """Deny: the app gets access_denied and the refusal is recorded, with nothing shared."""
    tab = open_tab(browser)
    tab.page.goto(server.push())
    sign_in(tab)
    tab.page.get_by_role("button", name="Deny").wait_for()
    tab.shot("consent-deny")
    tab.page.get_by_role("button", name="Deny").click()
    tab.page.wait_for_url("https://budget.example/**")

    [url] = tab.arrived
    assert parse_qs(urlsplit(url).query)["error"] == ["access_denied"]
    [consent] = server.consents()
    assert consent.status is ConsentStatus.DENIED
    assert consent.resources == ()
    assert tab.problems == []


def test_a_consumer_revokes_from_the_portal_and_the_apps_next_call_fails(
    server: Running, browser: Any
) -> None:
    """Sign in, see the app, stop sharing (confirmed from the keyboard): FDX 200 → 401."""
    consent = server.grant(period=90)
    status, token = server.fdx_accounts(consent)
    assert status == 200
    tab = open_tab(browser)
    tab.page.goto(f"{server.base}/consumer")
    sign_in(tab)
    tab.page.get_by_role("heading", name="Budget <App>").wait_for()
    tab.shot("portal-apps")
    tab.page.get_by_role("link", name="Stop sharing with Budget <App>").click()
    tab.page.get_by_role("heading", name="Stop sharing with Budget <App>?").wait_for()
    tab.shot("portal-revoke-confirm")
    tab.page.get_by_role("button", name="Stop sharing").focus()
    tab.page.keyboard.press("Enter")
    tab.page.get_by_text("You stopped sharing with Budget <App>.").wait_for()
    tab.shot("portal-revoked")

    assert server.consent(consent.id).status is ConsentStatus.REVOKED
    assert server.fdx_accounts(consent, token)[0] == 401
    assert tab.problems == []


def test_a_consumer_renews_a_consent_near_its_end(server: Running, browser: Any) -> None:
    """Granted 80 of 90 days ago: the card offers renewal; renewing moves the end 90 days on."""
    consent = server.grant(period=90, granted_days_ago=80)
    tab = open_tab(browser)
    tab.page.goto(f"{server.base}/consumer")
    sign_in(tab)
    tab.page.get_by_role("link", name="Renew sharing with Budget <App>").click()
    tab.page.get_by_role("heading", name="Keep sharing with Budget <App>?").wait_for()
    tab.shot("portal-renew-confirm")
    started = time.time()
    tab.page.get_by_role("button", name="Renew").click()
    tab.page.get_by_text("Renewed: sharing with Budget <App> now ends on").wait_for()
    tab.shot("portal-renewed")

    renewed = server.consent(consent.id)
    assert renewed.expires_at is not None
    assert consent.expires_at is not None
    assert renewed.expires_at >= started + 90 * DAY - 1
    assert renewed.expires_at > consent.expires_at + 79 * DAY
    assert tab.problems == []


def test_the_portal_reads_in_japanese(server: Running, browser: Any) -> None:
    """A Japanese browser: sign-in, the app card and the consent page with its chart."""
    consent = server.grant(period=90)
    tab = open_tab(browser, locale="ja-JP")
    tab.page.goto(f"{server.base}/consumer")
    tab.page.get_by_role("heading", name="Sandbox Bankにログイン").wait_for()
    sign_in(tab, ("ユーザーID", "パスワード", "ログイン"))
    tab.page.get_by_role("heading", name="データを閲覧できるアプリ").wait_for()
    tab.shot("portal-ja-apps")
    status, _ = server.fdx_accounts(consent)
    assert status == 200
    tab.page.get_by_role("link", name="Budget <App>の詳細とアクセス記録").click()
    tab.page.get_by_role("img", name="1日あたりのアクセス数（過去30日）").wait_for()
    tab.shot("portal-ja-consent")

    assert tab.page.locator("html").get_attribute("lang") == "ja"
    assert "アクセス記録" in tab.page.content()
    assert tab.problems == []

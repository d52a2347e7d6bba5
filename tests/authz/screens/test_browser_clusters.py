"""Chromium reads the consent screen offering the §1033 clusters, in English and in Japanese.

Over the sandbox bank, which serves every optional category: bill payments, rewards and tax forms
required, check images optional. The titles and what each releases come from
config/clusters.toml; the consumer signs in as the sandbox's alice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import anyio
import pytest
from starlette.applications import Starlette

from adapters.sandbox import SandboxBank
from authz.consent.model import DurationType
from authz.keys import SigningKeys
from authz.pushed import REQUEST_URI_PREFIX, ConsentRequest, PushedRequest
from authz.screens import routes
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.screens.conftest import CHALLENGE, CLIENT, CLIENT_ID, REDIRECT_URI
from tests.authz.screens.test_browser import Running
from tests.served import CHROMIUM, CHROMIUM_ARGS, free_socket, serving

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian Chromium is not installed at /usr/bin/chromium"
    ),
]

ASKED = ConsentRequest(
    duration_type=DurationType.TIME_BOUND,
    duration_period=90,
    lookback_period=365,
    clusters=("ACCOUNT_BASIC", "BILLS", "REWARDS", "TAX"),
    optional_clusters=("IMAGES",),
    purpose="Tracks your bills, rewards and tax forms in one place.",
)
# (locale, sign-in labels, the four new clusters' titles as clusters.toml words them)
LANGUAGES = [
    (
        "en-US",
        ("User ID", "Password", "Sign in"),
        ("Bill payments", "Rewards", "Tax forms", "Check images"),
    ),
    (
        "ja-JP",
        ("ユーザーID", "パスワード", "ログイン"),
        ("請求書の支払い", "リワード（ポイント）", "税務書類", "小切手の画像"),
    ),
]


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
        bank=SandboxBank(),
        keys=SigningKeys.generate(),
    )
    anyio.run(records.schema.migrate)
    clusters = ("ACCOUNT_BASIC", "BILLS", "REWARDS", "TAX", "IMAGES")
    client = replace(CLIENT, logo_uri=f"{base}/static/demo-recipient-logo.svg", clusters=clusters)
    anyio.run(records.clients.put, client)
    with serving(Starlette(routes=routes(services)), sock):
        yield Running(base, services)


def _push(services: Services, key: str) -> str:
    pushed = PushedRequest(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        state="browser-state",
        scope=tuple(services.policy.scopes_for([*ASKED.clusters, *ASKED.optional_clusters])),
        code_challenge=CHALLENGE,
        consent=ASKED,
        created_at=time.time(),
    )
    anyio.run(lambda: services.state.put(Kind.PAR, key, pushed.to_dict(), ttl=60))
    return REQUEST_URI_PREFIX + key


@pytest.mark.parametrize(("locale", "labels", "titles"), LANGUAGES, ids=["en", "ja"])
def test_the_screen_offers_the_covered_data_clusters(
    server: Running, locale: str, labels: tuple[str, str, str], titles: tuple[str, ...]
) -> None:
    """Each new cluster appears with its title and its plain-words releases; check images are
    an unticked optional choice; nothing on the page fails to load."""
    from playwright.sync_api import sync_playwright

    request_uri = _push(server.services, f"browser-par-{locale}")
    user, password, sign_in = labels
    policy = server.services.policy
    lang = locale[:2]
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(locale=locale, viewport={"width": 900, "height": 900})
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            # Chromium asks for /favicon.ico on its own; the screens have none to offer.
            page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
            page.goto(
                f"{server.base}/oauth/authorize?client_id={CLIENT_ID}&request_uri={request_uri}"
            )
            page.get_by_label(user).fill("alice")
            page.get_by_label(password).fill("sandbox-alice")
            page.get_by_role("button", name=sign_in).click()
            clusters = page.locator("fieldset.clusters")
            clusters.wait_for()
            # What each cluster includes is folded (a phone reaches the decision sooner): open it.
            for fold in page.locator("fieldset.clusters details summary").all():
                fold.click()
            text = clusters.inner_text()
            optional = page.locator('input[name="cluster:IMAGES"]')
            optional_checked = optional.is_checked()
        finally:
            browser.close()

    for title in titles:
        assert title in text
    for name in ("BILLS", "REWARDS", "TAX", "IMAGES"):
        for item in policy.clusters[name].wording(lang).releases:
            assert item in text
    assert not optional_checked
    assert problems == []

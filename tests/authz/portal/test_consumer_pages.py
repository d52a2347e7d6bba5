"""Every consumer page in a real Chromium, in each language, on a desktop and a phone:
axe-core finds no serious or critical accessibility problem, the phone layout keeps choices
tappable and the decision within reach, the flows work from the keyboard alone, and each page
is saved as a screenshot under var/screenshots/consumer/.

axe-core comes from npm (``tests/a11y``, installed with ``npm ci`` once per lock file) and is
injected into each page by Playwright; the pages' Content-Security-Policy forbids scripts, so
the test context bypasses it (the gateway's own pages never run any).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from authz.consent import lifecycle
from authz.notices.store import DeletionRequest, Notice
from tests.authz.portal.test_browser import (  # noqa: F401 (fixtures)
    SCREENSHOTS,
    Running,
    Tab,
    browser,
    server,
    sign_in,
)
from tests.authz.screens.conftest import ACCOUNTS, CUSTOMER, PASSWORD, USERNAME
from tests.served import CHROMIUM

A11Y = Path(__file__).resolve().parents[2] / "a11y"
AXE = A11Y / "node_modules" / "axe-core" / "axe.min.js"
STAMP = A11Y / "node_modules" / ".lock-sha256"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
LABELS = {
    "en": ("User ID", "Password", "Sign in"),
    "ja": ("ユーザーID", "パスワード", "ログイン"),
    "es": ("ID de usuario", "Contraseña", "Iniciar sesión"),
}
LOCALES = {"en": "en-GB", "ja": "ja-JP", "es": "es-ES"}
LONG_NAME = "Premier Household Everyday Checking Account With An Unusually Long Product Name"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="Debian Chromium is not installed at /usr/bin/chromium"
    ),
]


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def axe() -> Path:
    """axe-core's script, installed from the lock file when it changed."""
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm is needed for axe-core")
    assert npm is not None
    digest = hashlib.sha256((A11Y / "package-lock.json").read_bytes()).hexdigest()
    if not AXE.is_file() or not STAMP.is_file() or STAMP.read_text(encoding="utf-8") != digest:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=A11Y,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            unavailable(f"npm ci failed: {done.stderr.strip()[-300:]}")
        STAMP.write_text(digest, encoding="utf-8")
    return AXE


@pytest.fixture
def long_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """One of the consumer's accounts has a very long name."""
    accounts = [dict(a) for a in ACCOUNTS[CUSTOMER]]
    accounts[0]["productName"] = LONG_NAME
    monkeypatch.setitem(ACCOUNTS, CUSTOMER, accounts)


def serious(page: Any, axe: Path) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    page.add_script_tag(path=str(axe))
    result = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map("
        "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' '))})))"
    )
    return [
        f"{v['id']} ({v['impact']}): {', '.join(v['nodes'][:3])}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def shot(page: Any, name: str) -> None:
    folder = SCREENSHOTS / "consumer"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def scene(running: Running) -> dict[str, str]:
    """Consents in every state a page shows: active and used, stopped with a deletion asked,
    and messages in the inbox. Returns the portal paths to visit."""
    active = running.grant(period=90, granted_days_ago=80)
    running.fdx_accounts(active)
    stopped = running.grant(period=90)
    running.run(
        lambda: lifecycle.revoke(
            running.services, stopped.id, actor="INDIVIDUAL", reason="USER_ACTION"
        )
    )
    notices = running.services.notices
    running.run(
        notices.deletions.ask,
        DeletionRequest(stopped.id, stopped.client_id, CUSTOMER, asked_at=stopped.created_at),
    )
    running.run(
        notices.inbox.post,
        Notice("n-1", CUSTOMER, "granted", stopped.created_at, "You connected Budget <App>",
               "You agreed.\n\nWhat: Transactions", "k-1", consent_id=active.id),
    )  # fmt: skip
    return {
        "apps": "/consumer",
        "history": "/consumer/history",
        "notices": "/consumer/notices",
        "consent": f"/consumer/consents/{active.id}",
        "stopped": f"/consumer/consents/{stopped.id}",
        "revoke": f"/consumer/consents/{active.id}/revoke",
        "renew": f"/consumer/consents/{active.id}/renew",
        "receipt": f"/consumer/consents/{active.id}/receipts/1",
        "not-found": "/consumer/consents/no-such-consent",
    }


def at_the_app(route: Any) -> None:
    """The recipient's redirect URI, answered inside the browser."""
    route.fulfill(status=200, content_type="text/html", body="<p>back at the app</p>")


@pytest.fixture
def contexts(browser: Any) -> Iterator[Any]:  # noqa: F811
    opened: list[Any] = []

    def open_context(lang: str, size: str) -> Any:
        context = browser.new_context(
            locale=LOCALES[lang],
            viewport=SIZES[size],
            bypass_csp=True,  # to inject axe-core; the pages themselves run no script
        )
        opened.append(context)
        context.route("https://budget.example/**", at_the_app)
        return context.new_page()

    yield open_context
    for context in opened:
        context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "ja", "es"])
def test_every_consumer_page_has_no_serious_accessibility_problem(
    server: Running,  # noqa: F811
    contexts: Any,
    axe: Path,
    long_names: None,
    lang: str,
    size: str,
) -> None:
    paths = scene(server)
    page = contexts(lang, size)
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == lang
        shot(page, f"{name}-{lang}-{size}")
        found[name] = serious(page, axe)

    page.goto(server.push())  # the language from the browser's Accept-Language
    check("consent-sign-in")
    sign_in(Tab(page, [], []), LABELS[lang])
    page.locator("form.consent").wait_for()
    check("consent-screen")
    page.goto(f"{server.base}/consumer?lang={lang}")
    if page.locator("form[action='/consumer/login']").count():
        check("portal-sign-in")
        sign_in(Tab(page, [], []), LABELS[lang])
    for name, path in paths.items():
        page.goto(server.base + path)
        check("portal-" + name)

    assert {name: v for name, v in found.items() if v} == {}


def test_on_a_phone_choices_are_tappable_and_the_decision_is_within_reach(
    server: Running,  # noqa: F811
    contexts: Any,
    long_names: None,
) -> None:
    page = contexts("en", "phone")
    page.goto(server.push())
    sign_in(Tab(page, [], []))
    page.locator("form.consent").wait_for()

    boxes = [
        page.locator(f"#account-{n}").bounding_box() for n in (1, 2)
    ]  # one with a long name, one short
    assert boxes[0] is not None
    assert boxes[1] is not None
    assert (boxes[0]["width"], boxes[0]["height"]) == (boxes[1]["width"], boxes[1]["height"])
    assert boxes[0]["x"] == boxes[1]["x"]
    assert boxes[0]["width"] >= 20
    for target in page.locator("label.choice, button, summary, header a").all():
        box = target.bounding_box()
        assert box is not None
        assert box["height"] >= 44, f"{target.inner_text()!r} is {box['height']} px high"
    approve = page.get_by_role("button", name="Approve").bounding_box()
    assert approve is not None
    assert approve["y"] + approve["height"] <= 3 * SIZES["phone"]["height"]
    page.get_by_label(LONG_NAME).check()  # the long name's whole row is its checkbox
    assert page.locator("#account-1").is_checked()
    shot(page, "consent-screen-phone-ticked")


def focus_on(page: Any, role: str, name: str, limit: int = 80) -> None:
    """Press Tab until the element with this role and name has the focus."""
    target = page.get_by_role(role, name=name)
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"{role} {name!r} never got the focus")


def test_the_consent_flow_and_a_revocation_by_keyboard_alone(
    server: Running,  # noqa: F811
    contexts: Any,
) -> None:
    page = contexts("en", "desktop")
    page.goto(server.push())
    focus_on(page, "textbox", "User ID")
    page.keyboard.type(USERNAME)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.locator("form.consent").wait_for()
    focus_on(page, "checkbox", "Everyday Checking")
    page.keyboard.press("Space")
    focus_on(page, "button", "Approve")
    page.keyboard.press("Enter")
    page.get_by_text("back at the app").wait_for()  # the app's redirect URI, in the browser
    assert page.url.startswith("https://budget.example/callback")
    [consent] = server.consents()
    assert consent.account_ids == ("acc-checking",)

    page.goto(f"{server.base}/consumer")
    focus_on(page, "link", "Stop sharing with Budget <App>")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Stop sharing with Budget <App>?").wait_for()
    focus_on(page, "button", "Stop sharing")
    page.keyboard.press("Enter")
    page.get_by_text("You stopped sharing with Budget <App>.").wait_for()
    assert server.consent(consent.id).status.value == "REVOKED"
    assert server.run(server.services.notices.deletions.get, consent.id) is not None

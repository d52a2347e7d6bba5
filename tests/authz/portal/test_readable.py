"""Consumer pages people read at a glance: refusals shown as refusals, an ended consent says when
and by whom, dates in words in the consumer's language and zone."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace

import anyio
import pytest
from starlette.testclient import TestClient

from authz.consent import lifecycle
from authz.consent.model import Consent
from authz.store.base import AuditEvent
from config.settings import Settings, SettingsError
from gateway.app import create_app
from tests.authz.portal.conftest import BASE, OTHER_CLIENT, Portal, build
from tests.authz.screens.conftest import CLIENT, FakeClock

DAY = 86400


def attempt(portal: Portal, consent: Consent, status: int, *, at: float | None = None) -> None:
    event = AuditEvent(
        id=secrets.token_hex(8),
        time=portal.clock() if at is None else at,
        consent_id=consent.id,
        client_id=consent.client_id,
        customer_id=consent.customer_id,
        endpoint="GET /accounts/{accountId}/transactions",
        account_ids=("acc-checking",),
        clusters=("TRANSACTIONS",),
        record_count=0,
        status=status,
        interaction_id=secrets.token_hex(8),
    )
    portal.run(portal.services.records.audit.append, [event])


def log_of(html: str) -> str:
    return html[html.index('class="data access-log"') :]


def test_refused_attempts_are_shown_as_refused(signed_in: Portal) -> None:
    consent = signed_in.grant()
    signed_in.access(consent, count=5)
    attempt(signed_in, consent, 404)  # an account it was not given
    signed_in.clock.advance(60)
    anyio.run(
        lambda: lifecycle.revoke(
            signed_in.services, consent.id, actor="INDIVIDUAL", reason="USER_ACTION"
        )
    )
    signed_in.clock.advance(60)
    attempt(signed_in, consent, 401)  # after the end

    log = log_of(signed_in.client.get(f"/consumer/consents/{consent.id}").text)

    rows = log.split("<tr")[2:]  # after the header row
    assert "<strong>Blocked: sharing had stopped</strong>" in rows[0]
    assert '<td class="number">–</td>' in rows[0]
    assert "<strong>Blocked: not shared</strong>" in rows[1]
    assert '<td class="number">5</td>' in rows[2]
    assert "Blocked" not in rows[2]


def test_a_stopped_consent_says_when_and_by_whom_never_a_future_end(signed_in: Portal) -> None:
    consent = signed_in.grant()  # would run 90 days, to 1 April 2026
    signed_in.clock.advance(1200)
    anyio.run(
        lambda: lifecycle.revoke(
            signed_in.services, consent.id, actor="DATA_RECIPIENT", reason="USER_ACTION"
        )
    )

    html = signed_in.client.get(f"/consumer/consents/{consent.id}").text
    facts = html[html.index('<dl class="facts">') : html.index("</dl>")]

    assert "<dt>Ended on</dt>\n  <dd>1 January 2026, 00:20 UTC</dd>" in facts
    assert "<dt>Ended by</dt>\n  <dd>Budget &lt;App&gt;</dd>" in facts
    assert "April 2026" not in facts
    assert "Sharing ends" not in facts


def test_an_expired_consent_ends_when_its_time_ran_out(signed_in: Portal) -> None:
    consent = signed_in.grant(period=1)
    signed_in.clock.advance(DAY + 60)
    assert signed_in.sign_in().status_code == 303
    html = signed_in.client.get(f"/consumer/consents/{consent.id}").text
    facts = html[html.index('<dl class="facts">') : html.index("</dl>")]
    assert "<dd>2 January 2026, 00:00 UTC</dd>" in facts
    assert "<dd>The agreed time ran out</dd>" in facts


@pytest.fixture
def tokyo() -> Iterator[Portal]:
    clock = FakeClock()
    services = build(Settings(issuer=BASE, profile="sandbox", display_timezone="Asia/Tokyo"), clock)
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        portal = Portal(services, clock, client)
        assert portal.sign_in().status_code == 303
        yield portal


def test_dates_are_in_the_consumers_language_and_zone(tokyo: Portal) -> None:
    consent = tokyo.grant()
    html = tokyo.client.get("/consumer?lang=ja").text
    assert "2026年4月1日 9:00 JST" in html  # 90 days on, midnight UTC is 9:00 in Tokyo
    english = tokyo.client.get(f"/consumer/consents/{consent.id}?lang=en").text
    assert "1 April 2026, 09:00 JST" in english
    assert "UTC" not in english


def test_an_unknown_display_timezone_is_refused() -> None:
    with pytest.raises(SettingsError, match="display_timezone"):
        replace(Settings(), display_timezone="Mars/Olympus")


def test_one_card_per_app_listing_its_consents(signed_in: Portal) -> None:
    first = signed_in.grant(accounts=("acc-checking",))
    second = signed_in.grant(accounts=("acc-savings",), purpose="Saves for you.")
    other = signed_in.grant(client_id=OTHER_CLIENT.client_id)

    html = signed_in.client.get("/consumer").text

    assert html.count('<li class="card"') == 2
    assert html.count("<h2 id=") == 2
    cards = html.split('<li class="card"')[1:]
    [budget] = [c for c in cards if "Budget &lt;App&gt;</h2>" in c]
    assert first.id in budget
    assert second.id in budget
    assert other.id not in budget
    assert budget.count('<section class="consent-item"') == 2


def test_a_consent_unused_for_30_days_is_flagged(signed_in: Portal) -> None:
    used = signed_in.grant(accounts=("acc-checking",))
    idle = signed_in.grant(accounts=("acc-savings",))
    signed_in.clock.advance(31 * DAY)
    signed_in.access(used)
    attempt(signed_in, idle, 403)  # a refused attempt is not a use
    assert signed_in.sign_in().status_code == 303

    html = signed_in.client.get("/consumer").text

    assert html.count("Budget &lt;App&gt; has not used this yet.") == 1
    flagged = html.index("has not used this yet")
    assert (
        html.index(idle.id, flagged) < html.find(used.id, flagged) or used.id not in html[flagged:]
    )
    signed_in.clock.advance(31 * DAY)
    assert signed_in.sign_in().status_code == 303
    later = signed_in.client.get("/consumer").text
    assert "Budget &lt;App&gt; has not used this for more than 30 days." in later


def test_apps_are_named_in_the_consumers_language(signed_in: Portal) -> None:
    """RFC 7591 §2.2: client_name#ja on a Japanese page; the registered name elsewhere."""
    records = signed_in.services.records
    client = signed_in.run(records.clients.get, CLIENT.client_id)
    localized = {"client_name": {"ja": "家計簿アプリ"}, "description": {"ja": "支出を分類します。"}}
    signed_in.run(records.clients.put, replace(client, extra={"localized": localized}))
    consent = signed_in.grant(purpose="")

    japanese = signed_in.client.get("/consumer?lang=ja").text
    english = signed_in.client.get("/consumer?lang=en").text
    detail = signed_in.client.get(f"/consumer/consents/{consent.id}?lang=ja").text

    assert '<h2 id="app-1">家計簿アプリ</h2>' in japanese
    assert "支出を分類します。" in japanese
    assert "Budget &lt;App&gt;</h2>" in english
    assert "<h1>家計簿アプリ</h1>" in detail

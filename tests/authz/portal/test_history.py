"""GET /consumer/history: consents that ended or were refused, with when and who ended them."""

from __future__ import annotations

import re

import anyio

from authz.consent import lifecycle
from authz.consent.model import DurationType
from tests.authz.portal.conftest import Portal

DAY = 86400


def row_of(html: str, consent_id: str) -> str:
    match = re.search(
        rf'<tr>\s*<th scope="row"><a href="/consumer/consents/{consent_id}">.*?</tr>', html, re.S
    )
    assert match, f"no history row for {consent_id}"
    return match.group(0)


def revoke(portal: Portal, consent_id: str, actor: str, reason: str = "USER_ACTION") -> None:
    anyio.run(lambda: lifecycle.revoke(portal.services, consent_id, actor=actor, reason=reason))


def test_history_names_who_ended_each_consent(signed_in: Portal) -> None:
    """You, the app or the bank, from the consent's events, with the date."""
    by_me, by_app, by_bank = signed_in.grant(), signed_in.grant(), signed_in.grant()
    signed_in.clock.advance(60)
    revoke(signed_in, by_me.id, "INDIVIDUAL")
    revoke(signed_in, by_app.id, "DATA_RECIPIENT")
    revoke(signed_in, by_bank.id, "DATA_PROVIDER", "BUSINESS_RULE")

    html = signed_in.client.get("/consumer/history").text

    assert "<td>You</td>" in row_of(html, by_me.id)
    assert "<td>Budget &lt;App&gt;</td>" in row_of(html, by_app.id)
    assert "<td>Sandbox Bank</td>" in row_of(html, by_bank.id)
    assert "<td>1 January 2026, 00:01 UTC</td>" in row_of(html, by_me.id)
    assert "<td>Stopped</td>" in row_of(html, by_me.id)


def test_an_expired_consent_is_history_even_before_anyone_recorded_it(signed_in: Portal) -> None:
    """Expiry is checked on use: past expires_at it is listed as ended by time, at expires_at."""
    consent = signed_in.grant(period=1)
    signed_in.clock.advance(2 * DAY)
    signed_in.sign_in()

    html = signed_in.client.get("/consumer/history").text

    row = row_of(html, consent.id)
    assert "Ended: the agreed time ran out" in row
    assert "<td>2 January 2026, 00:00 UTC</td>" in row
    assert "<td>The agreed time ran out</td>" in row


def test_a_recorded_expiry_is_dated_when_it_happened(signed_in: Portal) -> None:
    """The EXPIRED event is written when first seen; history shows the moment sharing ended."""
    consent = signed_in.grant(period=1)
    signed_in.clock.advance(3 * DAY)
    signed_in.sign_in()
    current = signed_in.consent(consent.id)
    anyio.run(lifecycle.expire_if_due, signed_in.services, current)

    row = row_of(signed_in.client.get("/consumer/history").text, consent.id)

    assert "<td>2 January 2026, 00:00 UTC</td>" in row


def test_a_refused_request_is_in_the_history(signed_in: Portal) -> None:
    """Deny on the consent screen leaves a DENIED consent, shown as refused by you."""
    from authz.pushed import ConsentRequest

    consent, event = lifecycle.deny(
        consent_id="c-denied",
        request=ConsentRequest(DurationType.TIME_BOUND, 30, 30, ("ACCOUNT_BASIC",)),
        client_id="budget-app",
        customer_id="cust-alice",
        purpose="Budgets",
        now=signed_in.clock(),
    )
    anyio.run(signed_in.services.records.consents.create, consent, event)

    row = row_of(signed_in.client.get("/consumer/history").text, "c-denied")

    assert "<td>Refused</td>" in row
    assert "<td>You</td>" in row


def test_active_consents_and_other_customers_are_not_history(signed_in: Portal) -> None:
    """Only this customer's ended consents."""
    active = signed_in.grant()
    bobs = signed_in.grant(customer_id="cust-bob", accounts=("acc-bob",))
    revoke(signed_in, bobs.id, "INDIVIDUAL")

    html = signed_in.client.get("/consumer/history").text

    assert active.id not in html
    assert bobs.id not in html
    assert "You have no past connections." in html


def test_an_ended_consents_page_stays_readable(signed_in: Portal) -> None:
    """History links to the consent's page: its log and receipts remain, without actions."""
    consent = signed_in.grant()
    signed_in.access(consent)
    revoke(signed_in, consent.id, "INDIVIDUAL")

    html = signed_in.client.get(f"/consumer/consents/{consent.id}").text

    assert "Stopped" in html
    assert "Sharing stopped" in html
    assert "/revoke" not in html
    assert "/renew" not in html
    assert "/receipts/2" in html

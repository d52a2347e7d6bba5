"""GET /consumer: one card per active consent of the signed-in customer."""

from __future__ import annotations

from authz.consent.model import DurationType
from tests.authz.portal.conftest import OTHER_CLIENT, Portal


def test_each_active_consent_is_a_card_with_what_it_shares(signed_in: Portal) -> None:
    """Name, logo, purpose, clusters in plain words, masked accounts, dates, last access."""
    consent = signed_in.grant(accounts=("acc-checking", "acc-savings"))
    signed_in.clock.advance(600)
    signed_in.access(consent)

    html = signed_in.client.get("/consumer").text

    assert '<h2 id="app-1">Budget &lt;App&gt;</h2>' in html
    assert '<span class="logo initials small" aria-hidden="true">B</span>' in html
    assert "Shows your spending by category." in html
    assert "Basic account information" in html
    assert "<strong>Transactions</strong>" in html
    assert "Everyday Checking" in html
    assert "••••1234" in html
    assert "••••5678" in html
    assert "1 January 2026" in html  # granted
    assert "1 April 2026, 00:00 UTC" in html  # 90 days later
    assert "1 January 2026, 00:10 UTC" in html  # last accessed
    assert f'href="/consumer/consents/{consent.id}/revoke"' in html


def test_an_app_that_never_read_anything_says_never(signed_in: Portal) -> None:
    """No audit event yet: "Never"."""
    signed_in.grant()

    html = signed_in.client.get("/consumer").text

    assert "<dt>Last accessed</dt>\n      <dd>Never</dd>" in html


def test_an_account_the_bank_no_longer_returns_is_shown_by_its_id(signed_in: Portal) -> None:
    """The card never depends on the bank still knowing the account."""
    signed_in.grant(accounts=("acc-gone-42",))

    response = signed_in.client.get("/consumer")

    assert response.status_code == 200
    assert "Account acc-gone-42 (no longer listed at Sandbox Bank)" in response.text


def test_other_customers_and_ended_consents_are_not_listed(signed_in: Portal) -> None:
    """Only this customer's consents that are active now."""
    signed_in.grant(customer_id="cust-bob", accounts=("acc-bob",), client_id=OTHER_CLIENT.client_id)
    ended = signed_in.grant(duration=DurationType.TIME_BOUND, period=1)
    signed_in.clock.advance(2 * 86400)
    live = signed_in.grant()
    signed_in.sign_in()  # the session did not outlive two days either

    html = signed_in.client.get("/consumer").text

    assert live.id in html
    assert ended.id not in html
    assert "Tax Helper" not in html


def test_with_no_connected_app_the_page_says_so(signed_in: Portal) -> None:
    """An empty list is a sentence, not a blank page."""
    html = signed_in.client.get("/consumer").text

    assert "No app can see your data right now." in html

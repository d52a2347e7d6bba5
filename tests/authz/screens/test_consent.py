"""The consent screen and the decision: what is shown, what is stored, where the browser goes."""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

from authz.consent.model import ConsentResource, ConsentStatus, DurationType
from authz.pushed import AuthorizationCode
from authz.screens.session import SESSION_COOKIE
from authz.store.base import Kind
from tests.authz.screens.conftest import (
    CHALLENGE,
    CLIENT_ID,
    CONSENT_REQUEST,
    CUSTOMER,
    REDIRECT_URI,
    World,
    csrf_of,
)

APPROVE = {"decision": "approve", "account:acc-checking": "yes"}


def consents(world: World):
    return world.run(lambda: world.services.records.consents.find(customer_id=CUSTOMER))


def test_approving_stores_the_consent_issues_a_code_and_redirects(world: World) -> None:
    """The whole path: ticked accounts × required+ticked clusters, a bound code, code/state/iss."""
    path, html = world.consent_page()

    response = world.decide(
        path,
        html,
        decision="approve",
        **{"account:acc-checking": "yes", "account:acc-savings": "yes"},
        **{"cluster:ACCOUNT_DETAILED": "yes"},
    )

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == "https://budget.example/callback"
    )
    query = parse_qs(location.query)
    assert query["from"] == ["bank"]
    assert query["state"] == ["af0ifjsldkj"]
    assert query["iss"] == ["http://127.0.0.1:8000"]
    [consent] = consents(world)
    clusters = ("ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS")
    assert consent.status is ConsentStatus.ACTIVE
    assert consent.resources == (
        ConsentResource("ACCOUNT", "acc-checking", clusters),
        ConsentResource("ACCOUNT", "acc-savings", clusters),
    )
    assert (consent.client_id, consent.customer_id) == (CLIENT_ID, CUSTOMER)
    assert consent.expires_at == world.clock() + 90 * 86400
    assert consent.purpose == "Shows your spending by category."
    assert "offline_access" in consent.scope
    assert "openid" in consent.scope
    payload = world.run(world.services.state.get, Kind.CODE, query["code"][0])
    code = AuthorizationCode.from_dict(payload)
    assert (code.client_id, code.redirect_uri, code.code_challenge) == (
        CLIENT_ID,
        REDIRECT_URI,
        CHALLENGE,
    )
    assert (code.consent_id, code.customer_id, code.scope) == (consent.id, CUSTOMER, consent.scope)


def test_an_unticked_optional_cluster_is_not_granted(world: World) -> None:
    """Consent is opt-in: an optional cluster left unticked is absent from the consent."""
    path, html = world.consent_page()

    world.decide(path, html, **APPROVE)

    [consent] = consents(world)
    assert consent.resources == (
        ConsentResource("ACCOUNT", "acc-checking", ("ACCOUNT_BASIC", "TRANSACTIONS")),
    )
    assert "fdx:accountdetailed:read" not in consent.scope


def test_denying_records_the_refusal_and_tells_the_app(world: World) -> None:
    """Deny: access_denied with state and iss (RFC 9207), and a DENIED record."""
    path, html = world.consent_page()

    response = world.decide(path, html, decision="deny")

    assert response.status_code == 303
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query == {
        "from": ["bank"],
        "error": ["access_denied"],
        "state": ["af0ifjsldkj"],
        "iss": ["http://127.0.0.1:8000"],
    }
    [consent] = consents(world)
    assert consent.status is ConsentStatus.DENIED
    assert consent.resources == ()
    events = world.run(world.services.records.consents.events, consent.id)
    assert [(e.event, e.actor) for e in events] == [("denied", "INDIVIDUAL")]


def test_a_decision_is_single_use(world: World) -> None:
    """After approving, the same form cannot be posted again."""
    path, html = world.consent_page()
    world.decide(path, html, **APPROVE)

    again = world.decide(path, html, **APPROVE)

    assert again.status_code == 400
    assert len(consents(world)) == 1


def test_no_state_means_no_state_in_the_redirect(world: World) -> None:
    """state is echoed only when the app sent one."""
    path, html = world.consent_page(state=None)

    response = world.decide(path, html, **APPROVE)

    assert "state" not in parse_qs(urlsplit(response.headers["location"]).query)


def test_approving_without_an_account_asks_again(world: World) -> None:
    """At least one account: the screen comes back with a clear message, 400."""
    path, html = world.consent_page()

    response = world.decide(path, html, decision="approve", **{"cluster:ACCOUNT_DETAILED": "yes"})

    assert response.status_code == 400
    assert "Choose at least one account" in response.text
    assert re.search(r'name="cluster:ACCOUNT_DETAILED" value="yes"\s+checked', response.text)
    assert consents(world) == []


def test_another_customers_account_cannot_be_injected(world: World) -> None:
    """Only the customer's own open accounts can be shared."""
    path, html = world.consent_page()

    response = world.decide(path, html, decision="approve", **{"account:acc-bob": "yes"})

    assert response.status_code == 400
    assert "not available" in response.text
    assert consents(world) == []


def test_a_closed_account_is_neither_offered_nor_accepted(world: World) -> None:
    """Closed accounts are not on the screen, and posting one anyway is refused."""
    path, html = world.consent_page()

    response = world.decide(path, html, decision="approve", **{"account:acc-closed": "yes"})

    assert "acc-closed" not in html
    assert response.status_code == 400


def test_a_cluster_that_was_not_offered_is_refused(world: World) -> None:
    """Optional clusters must be among those the app offered."""
    path, html = world.consent_page()

    response = world.decide(path, html, **APPROVE, **{"cluster:CUSTOMER_PERSONAL": "yes"})

    assert response.status_code == 400
    assert consents(world) == []


def test_a_decision_without_the_csrf_value_is_forbidden(world: World) -> None:
    """A post without the form's CSRF value gets a 403 page."""
    path, _ = world.consent_page()

    response = world.client.post(path + "/consent", data=APPROVE)

    assert response.status_code == 403
    assert consents(world) == []


def test_a_decision_with_a_wrong_csrf_value_is_forbidden(world: World) -> None:
    """A CSRF value from another interaction does not fit this one."""
    path, _ = world.consent_page()
    _, other = world.consent_page()

    response = world.client.post(path + "/consent", data={"csrf": csrf_of(other), **APPROVE})

    assert response.status_code == 403


def test_a_decision_needs_the_session_of_the_customer_who_signed_in(world: World) -> None:
    """Without the session cookie the decision is refused."""
    path, html = world.consent_page()
    world.client.cookies.delete(SESSION_COOKIE)

    response = world.decide(path, html, **APPROVE)

    assert response.status_code == 403
    assert consents(world) == []


def test_the_screen_says_what_is_shared_in_plain_words_and_exact_fields(world: World) -> None:
    """Each cluster's title and summary, and what it releases in plain words, folded in
    <details>; never the raw FDX field names (they stay in the export and the receipt file)."""
    _, html = world.consent_page()

    for title in ("Basic account information", "Transactions", "Balances and account details"):
        assert title in html
    assert "Masked account number (last 4 digits)" in html
    assert "<details>" in html
    assert "accountNumberDisplay" not in html
    assert "transactionId" not in html
    assert html.count("Required</span>") == 2
    assert html.count('name="cluster:') == 1


def test_the_screen_says_who_why_how_long_how_far_back_and_how_to_stop(world: World) -> None:
    """Recipient, purpose, provider, duration, exact expiry, look-back start, revocation path."""
    _, html = world.consent_page()

    assert "Share your data with Budget &lt;App&gt;?" in html
    assert '<span class="logo initials" aria-hidden="true">B</span>' in html  # authz.screens.logos
    assert 'href="https://budget.example/"' in html
    assert "Shows your spending by category." in html
    assert "Sandbox Bank will send the data to Budget &lt;App&gt;" in html
    assert "For 90 days." in html
    assert "1 April 2026, 00:00 UTC" in html  # 2026-01-01 + 90 days
    assert "Transactions from 2 December 2025 on." in html  # 30 days back
    assert (
        "You can stop sharing at any time in Sandbox Bank&#39;s portal at "
        "http://127.0.0.1:8000/consumer, or ask Budget &lt;App&gt; to disconnect." in html
    )
    assert '<a href="http://127.0.0.1:8000/consumer">' in html


def test_the_screen_lists_open_accounts_unticked(world: World) -> None:
    """One checkbox per open account, none pre-ticked, type in plain words, masked number."""
    _, html = world.consent_page()

    assert html.count('name="account:') == 2
    assert "Everyday Checking" in html
    assert "Checking account" in html
    assert "*1234" in html
    assert "Rainy day" in html
    assert "Savings account" in html
    assert not re.search(r'name="account:[^"]+" value="yes"\s+checked', html)


def test_approve_and_deny_are_equal_buttons(world: World) -> None:
    """Refusing is as easy as approving: two submit buttons of the same class."""
    _, html = world.consent_page()

    buttons = re.findall(
        r'<button type="submit" name="decision" value="(\w+)" class="([^"]+)"', html
    )
    assert buttons == [("approve", "button"), ("deny", "button")]


def test_persistent_and_one_time_durations_read_plainly(world: World) -> None:
    """PERSISTENT: until you stop it, yearly renewal; ONE_TIME: one time only; no limit: all."""
    persistent = replace(
        CONSENT_REQUEST,
        duration_type=DurationType.PERSISTENT,
        duration_period=None,
        lookback_period=None,
    )
    one_time = replace(CONSENT_REQUEST, duration_type=DurationType.ONE_TIME, duration_period=None)

    _, html_persistent = world.consent_page(consent=persistent)
    _, html_one_time = world.consent_page(consent=one_time)

    assert "Until you stop it" in html_persistent
    assert "1 January 2027, 00:00 UTC" in html_persistent
    assert "All available history." in html_persistent
    assert "One time only." in html_one_time
    assert "1 January 2026, 00:06 UTC" in html_one_time


def test_a_one_time_consent_grants_no_offline_access(world: World) -> None:
    """ONE_TIME: no refresh token, so no offline_access scope."""
    one_time = replace(CONSENT_REQUEST, duration_type=DurationType.ONE_TIME, duration_period=None)
    path, html = world.consent_page(consent=one_time)

    world.decide(path, html, **APPROVE)

    [consent] = consents(world)
    assert "offline_access" not in consent.scope
    assert consent.expires_at == world.clock() + 360


def test_the_app_is_named_in_the_screen_language_or_says_it_is_not(world: World) -> None:
    """RFC 7591 §2.2: client_name#ja shown on a Japanese screen; without one, the registered
    name and a note saying the app gave none in Japanese."""
    _, plain = world.consent_page()
    assert "has not given its name" not in plain
    world.client.cookies.set("lang", "ja")
    _, untranslated = world.consent_page()
    assert "Budget &lt;App&gt;は日本語の名称と利用目的を登録していない" in untranslated
    records = world.services.records
    client = world.run(records.clients.get, CLIENT_ID)
    localized = {"localized": {"client_name": {"ja": "家計簿アプリ"}}}
    world.run(records.clients.put, replace(client, extra=localized))
    _, translated = world.consent_page()
    assert "<h1>家計簿アプリにデータを共有しますか？</h1>" in translated
    assert "登録していない" not in translated

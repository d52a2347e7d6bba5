"""Renewing a consent near its end: the button shows only then, and renewal extends the expiry."""

from __future__ import annotations

from authz.consent import lifecycle
from authz.consent.model import DurationType
from tests.authz.portal.conftest import Portal, form_csrf

DAY = 86400


def near_expiry(portal: Portal, *, days_left: float) -> str:
    """A 90-day consent seen ``days_left`` days before it ends (signed in again: sessions end)."""
    consent = portal.grant(period=90)
    portal.clock.advance((90 - days_left) * DAY)
    assert portal.sign_in().status_code == 303
    return consent.id


def test_the_renew_button_is_hidden_far_from_expiry(signed_in: Portal) -> None:
    """A consent with 60 days left shows no renew button."""
    consent_id = near_expiry(signed_in, days_left=60)

    home = signed_in.client.get("/consumer").text
    page = signed_in.client.get(f"/consumer/consents/{consent_id}").text

    assert "/renew" not in home
    assert "/renew" not in page


def test_the_renew_button_shows_within_thirty_days(signed_in: Portal) -> None:
    """With 20 days left, the card and the page offer renewal and say when sharing ends."""
    consent_id = near_expiry(signed_in, days_left=20)

    home = signed_in.client.get("/consumer").text
    page = signed_in.client.get(f"/consumer/consents/{consent_id}").text

    assert f'href="/consumer/consents/{consent_id}/renew"' in home
    assert f'href="/consumer/consents/{consent_id}/renew"' in page
    assert "Sharing ends soon, on 1 April 2026, 00:00 UTC." in home


def test_the_confirmation_restates_who_what_and_until_when(signed_in: Portal) -> None:
    """A fresh authorization of the same scope: the app, the data, the accounts, the new end."""
    consent_id = near_expiry(signed_in, days_left=20)

    html = signed_in.client.get(f"/consumer/consents/{consent_id}/renew").text

    assert "Keep sharing with Budget &lt;App&gt;?" in html
    assert "Basic account information" in html
    assert "Everyday Checking" in html
    assert "For 90 days." in html
    assert "sharing ends on 10 June 2026, 00:00 UTC at the latest" in html  # 03-12 + 90 days


def test_renewing_extends_the_expiry_from_now(signed_in: Portal) -> None:
    """POST renew: expires_at becomes now + durationPeriod; a "renewed" event by the consumer."""
    consent_id = near_expiry(signed_in, days_left=20)
    path = f"/consumer/consents/{consent_id}/renew"
    value = form_csrf(signed_in.client.get(path).text, path)

    response = signed_in.client.post(path, data={"csrf": value})

    assert response.status_code == 303
    assert response.headers["location"] == f"/consumer/consents/{consent_id}?done=renewed"
    assert signed_in.consent(consent_id).expires_at == signed_in.clock() + 90 * DAY
    last = signed_in.events(consent_id)[-1]
    assert (last.event, last.actor) == ("renewed", "INDIVIDUAL")
    page = signed_in.client.get(response.headers["location"]).text
    assert "Renewed: sharing with Budget &lt;App&gt; now ends on 10 June 2026, 00:00 UTC." in page


def test_renewing_without_the_csrf_value_is_refused(signed_in: Portal) -> None:
    """403 and the expiry is unchanged."""
    consent_id = near_expiry(signed_in, days_left=20)
    before = signed_in.consent(consent_id).expires_at

    response = signed_in.client.post(f"/consumer/consents/{consent_id}/renew", data={"x": "1"})

    assert response.status_code == 403
    assert signed_in.consent(consent_id).expires_at == before


def test_a_one_time_consent_cannot_be_renewed(signed_in: Portal) -> None:
    """One data session has nothing to renew: a friendly 409."""
    consent = signed_in.grant(duration=DurationType.ONE_TIME)

    response = signed_in.client.get(f"/consumer/consents/{consent.id}/renew")

    assert response.status_code == 409
    assert "This sharing can no longer be renewed." in response.text


def test_an_expired_consent_cannot_be_renewed(signed_in: Portal) -> None:
    """Past its end, the renewal page is refused: a new consent is needed."""
    consent_id = near_expiry(signed_in, days_left=0.5)
    signed_in.clock.advance(DAY)
    signed_in.sign_in()

    response = signed_in.client.get(f"/consumer/consents/{consent_id}/renew")

    assert response.status_code == 409
    assert signed_in.consent(consent_id).expires_at is not None


def test_a_consent_revoked_meanwhile_is_not_renewed(signed_in: Portal) -> None:
    """The confirmation was open when the app revoked: the POST gets a friendly 409."""
    consent_id = near_expiry(signed_in, days_left=20)
    path = f"/consumer/consents/{consent_id}/renew"
    value = form_csrf(signed_in.client.get(path).text, path)
    signed_in.run(
        lambda: lifecycle.revoke(
            signed_in.services, consent_id, actor="DATA_RECIPIENT", reason="USER_ACTION"
        )
    )

    response = signed_in.client.post(path, data={"csrf": value})

    assert response.status_code == 409
    assert signed_in.consent(consent_id).status.value == "REVOKED"

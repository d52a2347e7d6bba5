"""Stopping sharing from the portal: a confirmation, one POST, effective on the next FDX call."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from adapters.errors import BankUnavailable
from authz.screens.throttle import PAIR_FAILURES
from tests.authz.portal.conftest import BASE, Portal, form_csrf
from tests.authz.screens.conftest import PASSWORD, USERNAME


def revoke(portal: Portal, consent_id: str) -> object:
    path = f"/consumer/consents/{consent_id}/revoke"
    confirm = portal.client.get(path)
    assert confirm.status_code == 200, confirm.text
    return portal.client.post(path, data={"csrf": form_csrf(confirm.text, path)})


def test_the_confirmation_asks_with_two_equally_prominent_choices(signed_in: Portal) -> None:
    """ "Stop sharing with X?" with Stop sharing and Keep sharing, both plain buttons."""
    consent = signed_in.grant()

    html = signed_in.client.get(f"/consumer/consents/{consent.id}/revoke").text

    assert "<h1>Stop sharing with Budget &lt;App&gt;?</h1>" in html
    assert '<button type="submit" class="button">Stop sharing</button>' in html
    assert f'<a class="button" href="/consumer/consents/{consent.id}">Keep sharing</a>' in html


def test_revoking_stops_the_recipients_very_next_fdx_call(signed_in: Portal) -> None:
    """The token works before; after the portal revoke the same token gets 401."""
    consent = signed_in.grant()
    token = signed_in.token(consent)
    headers = {"Authorization": f"Bearer {token}"}
    assert signed_in.client.get("/fdx/v6/accounts", headers=headers).status_code == 200

    response = revoke(signed_in, consent.id)

    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == f"/consumer/consents/{consent.id}?done=revoked"  # type: ignore[attr-defined]
    assert signed_in.client.get("/fdx/v6/accounts", headers=headers).status_code == 401


def test_a_revocation_is_recorded_as_the_consumers_own_action(signed_in: Portal) -> None:
    """FDX PartyType INDIVIDUAL, ConsentUpdateReason USER_ACTION; the page confirms it."""
    consent = signed_in.grant()

    revoke(signed_in, consent.id)

    last = signed_in.events(consent.id)[-1]
    assert (last.event, last.actor, last.reason) == ("revoked", "INDIVIDUAL", "USER_ACTION")
    assert signed_in.consent(consent.id).status.value == "REVOKED"
    page = signed_in.client.get(f"/consumer/consents/{consent.id}?done=revoked").text
    assert "You stopped sharing with Budget &lt;App&gt;." in page
    assert "/revoke" not in page  # nothing left to stop


def test_revoking_without_the_csrf_value_is_refused(signed_in: Portal) -> None:
    """403, and the consent stays active."""
    consent = signed_in.grant()

    response = signed_in.client.post(
        f"/consumer/consents/{consent.id}/revoke", data={"csrf": "forged"}
    )

    assert response.status_code == 403
    assert signed_in.consent(consent.id).status.value == "ACTIVE"


def test_a_csrf_value_of_another_consents_form_does_not_revoke_this_one(
    signed_in: Portal,
) -> None:
    """Each revoke form's value is bound to its consent."""
    first, second = signed_in.grant(), signed_in.grant()
    path = f"/consumer/consents/{first.id}/revoke"
    value = form_csrf(signed_in.client.get(path).text, path)

    response = signed_in.client.post(f"/consumer/consents/{second.id}/revoke", data={"csrf": value})

    assert response.status_code == 403
    assert signed_in.consent(second.id).status.value == "ACTIVE"


def test_another_customers_consent_cannot_be_revoked(signed_in: Portal) -> None:
    """Not found, and it stays active."""
    bobs = signed_in.grant(customer_id="cust-bob", accounts=("acc-bob",))
    mine = signed_in.grant()
    path = f"/consumer/consents/{mine.id}/revoke"
    value = form_csrf(signed_in.client.get(path).text, path)

    response = signed_in.client.post(f"/consumer/consents/{bobs.id}/revoke", data={"csrf": value})

    assert response.status_code in (403, 404)
    assert signed_in.consent(bobs.id).status.value == "ACTIVE"


def test_revocation_works_while_the_bank_is_down(
    signed_in: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping never depends on the bank: the POST touches only the consent record."""
    consent = signed_in.grant()
    path = f"/consumer/consents/{consent.id}/revoke"
    value = form_csrf(signed_in.client.get(path).text, path)

    async def down(*args: object) -> None:
        raise BankUnavailable("fake")

    monkeypatch.setattr(signed_in.services.bank, "list_accounts", down)
    response = signed_in.client.post(path, data={"csrf": value})

    assert response.status_code == 303
    assert signed_in.consent(consent.id).status.value == "REVOKED"


def test_revocation_is_not_throttled_by_sign_in_failures(signed_in: Portal) -> None:
    """A locked-out user ID (someone guessing the password) cannot stop the owner revoking."""
    consent = signed_in.grant()
    path = f"/consumer/consents/{consent.id}/revoke"
    value = form_csrf(signed_in.client.get(path).text, path)
    other = TestClient(signed_in.client.app, base_url=BASE)  # another browser, no lifespan
    for _ in range(PAIR_FAILURES + 1):
        page = other.get("/consumer")
        other.post(
            "/consumer/login",
            data={"csrf": form_csrf(page.text, "/consumer/login"), "username": "alice",
                  "password": "guess"},
        )  # fmt: skip
    page = other.get("/consumer")
    locked = other.post(
        "/consumer/login",
        data={"csrf": form_csrf(page.text, "/consumer/login"), "username": USERNAME,
              "password": PASSWORD},
    )  # fmt: skip
    assert locked.status_code == 429

    response = signed_in.client.post(path, data={"csrf": value})

    assert response.status_code == 303
    assert signed_in.consent(consent.id).status.value == "REVOKED"


def test_revoking_twice_changes_nothing_more(signed_in: Portal) -> None:
    """The second POST finds the consent ended: no second event, still a friendly redirect."""
    consent = signed_in.grant()
    path = f"/consumer/consents/{consent.id}/revoke"
    value = form_csrf(signed_in.client.get(path).text, path)
    signed_in.client.post(path, data={"csrf": value})

    again = signed_in.client.post(path, data={"csrf": value})

    assert again.status_code == 303
    assert [e.event for e in signed_in.events(consent.id)] == ["granted", "revoked"]
    assert signed_in.client.get(path).status_code == 303  # the confirmation is gone too


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://127.0.0.1:8001"},
        {"Referer": "https://evil.example/page"},
    ],
    ids=["other-site", "opaque", "other-port", "referer-only"],
)
def test_a_post_from_another_origin_is_refused_with_a_valid_csrf_value(
    signed_in: Portal, headers: dict[str, str]
) -> None:
    """Origin (or, without it, Referer) must be the gateway's own: a second defence beside the
    CSRF value, should that ever leak."""
    consent = signed_in.grant()
    path = f"/consumer/consents/{consent.id}/revoke"
    value = form_csrf(signed_in.client.get(path).text, path)

    response = signed_in.client.post(path, data={"csrf": value}, headers=headers)

    assert response.status_code == 403
    assert signed_in.consent(consent.id).status.value == "ACTIVE"


@pytest.mark.parametrize(
    "headers",
    [{"Origin": BASE}, {"Origin": "HTTP://127.0.0.1:8000"}, {"Referer": f"{BASE}/consumer"}, {}],
    ids=["origin", "origin-upper-case", "referer", "neither"],
)
def test_a_post_from_the_gateways_own_pages_is_accepted(
    signed_in: Portal, headers: dict[str, str]
) -> None:
    """The gateway's own origin, in either header, or no header at all (the CSRF value decides)."""
    consent = signed_in.grant()
    path = f"/consumer/consents/{consent.id}/revoke"
    value = form_csrf(signed_in.client.get(path).text, path)

    response = signed_in.client.post(path, data={"csrf": value}, headers=headers)

    assert response.status_code == 303
    assert signed_in.consent(consent.id).status.value == "REVOKED"

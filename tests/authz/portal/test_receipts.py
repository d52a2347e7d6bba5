"""Consent receipts: signed, verifiable against /jwks alone, one per grant, renewal and
revocation, never naming the bank's customer id."""

from __future__ import annotations

import base64
import json

import anyio
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authz.consent import lifecycle, receipts
from tests.authz.portal.conftest import BASE, Portal
from tests.authz.screens.conftest import CUSTOMER

DAY = 86400


def download(portal: Portal, consent_id: str, n: int) -> str:
    response = portal.client.get(f"/consumer/consents/{consent_id}/receipts/{n}.jws")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jose"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response.text


def test_a_downloaded_receipt_verifies_with_only_the_public_jwks(signed_in: Portal) -> None:
    """joserfc, the JWKS fetched from /jwks, ES256: the signature holds and the claims match."""
    consent = signed_in.grant(accounts=("acc-checking", "acc-savings"))
    token = download(signed_in, consent.id, 1)
    jwks = signed_in.client.get("/jwks").json()

    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"])

    assert decoded.header["typ"] == "consent-receipt+jwt"
    assert decoded.header["kid"] == signed_in.services.keys.kid
    claims = decoded.claims
    assert claims["iss"] == BASE
    assert claims["consentId"] == consent.id
    assert (claims["event"], claims["actor"]) == ("granted", "INDIVIDUAL")
    assert claims["recipient"] == {"clientId": "budget-app", "name": "Budget <App>"}
    assert claims["provider"] == {"name": "Sandbox Bank"}
    assert claims["dataClusters"] == ["ACCOUNT_BASIC", "TRANSACTIONS"]
    assert claims["accounts"] == [
        {
            "accountId": "acc-checking",
            "name": "Everyday Checking",
            "accountNumberDisplay": "••••1234",
        },
        {"accountId": "acc-savings", "name": "Rainy day", "accountNumberDisplay": "••••5678"},
    ]
    assert (claims["durationType"], claims["durationPeriod"], claims["lookbackPeriod"]) == (
        "TIME_BOUND", 90, 30,
    )  # fmt: skip
    assert claims["expirationTime"] == "2026-04-01T00:00:00Z"
    assert claims["purpose"] == "Shows your spending by category."
    assert receipts.verify(token, jwks, issuer=BASE) == claims


def test_a_receipt_never_carries_the_banks_customer_id(signed_in: Portal) -> None:
    """The consumer is a pairwise subject; the internal id appears nowhere in the token."""
    consent = signed_in.grant()
    token = download(signed_in, consent.id, 1)

    header, payload, _ = token.split(".")
    decoded = [
        base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)).decode() for p in (header, payload)
    ]

    assert all(CUSTOMER not in part for part in decoded)
    assert json.loads(decoded[1])["sub"] not in ("", CUSTOMER)


def test_grant_renewal_and_revocation_each_get_a_receipt(signed_in: Portal) -> None:
    """Three events, three receipts, in order; the renewal's states the new end."""
    consent = signed_in.grant(period=90)
    signed_in.clock.advance(80 * DAY)
    anyio.run(lambda: lifecycle.renew(signed_in.services, consent.id))
    signed_in.clock.advance(DAY)
    anyio.run(
        lambda: lifecycle.revoke(
            signed_in.services, consent.id, actor="DATA_RECIPIENT", reason="USER_ACTION"
        )
    )
    signed_in.sign_in()
    jwks = signed_in.client.get("/jwks").json()

    found = [
        receipts.verify(download(signed_in, consent.id, n), jwks, issuer=BASE) for n in (1, 2, 3)
    ]

    assert [c["event"] for c in found] == ["granted", "renewed", "revoked"]
    assert found[0]["expirationTime"] == "2026-04-01T00:00:00Z"  # as granted
    assert found[1]["expirationTime"] == "2026-06-20T00:00:00Z"  # day 80 + 90
    assert found[2]["expirationTime"] == "2026-03-23T00:00:00Z"  # ended when revoked
    assert found[2]["actor"] == "DATA_RECIPIENT"
    assert len({c["jti"] for c in found}) == 3
    assert (
        signed_in.client.get(f"/consumer/consents/{consent.id}/receipts/4.jws").status_code == 404
    )


def test_the_readable_receipt_states_the_same_facts(signed_in: Portal) -> None:
    """The HTML page: event, app, data, masked accounts, dates, and where to verify."""
    consent = signed_in.grant()

    html = signed_in.client.get(f"/consumer/consents/{consent.id}/receipts/1").text

    assert "<h1>Receipt: You allowed sharing</h1>" in html
    assert "Budget &lt;App&gt;" in html
    assert "Everyday Checking" in html
    assert "••••1234" in html
    assert "1 April 2026, 00:00 UTC" in html
    assert "signed by Sandbox Bank, so anyone can check that it was not changed" in html
    assert f'href="/consumer/consents/{consent.id}/receipts/1.jws" download' in html
    assert CUSTOMER not in html
    # No ids or JOSE words on the page: they are in the signed file.
    for jargon in (consent.id, "JWS", "JSON Web", "ES256", "jwks", "<code>"):
        assert jargon not in html.split("</head>", 1)[1].replace(
            f"/consumer/consents/{consent.id}", ""
        )
    assert "@media print" in signed_in.client.get("/static/portal.css").text


@pytest.mark.parametrize("n", ["0", "2", "999999"])
def test_a_receipt_that_does_not_exist_is_not_found(signed_in: Portal, n: str) -> None:
    """Only the numbers of actual events."""
    consent = signed_in.grant()

    assert signed_in.client.get(f"/consumer/consents/{consent.id}/receipts/{n}").status_code == 404


def test_a_receipt_signed_by_another_key_does_not_verify(signed_in: Portal) -> None:
    """verify() refuses what the published keys did not sign."""
    from authz.keys import SigningKeys

    consent = signed_in.grant()
    claims = jwt.decode(download(signed_in, consent.id, 1), signed_in.services.keys.all).claims
    forged = receipts.sign(SigningKeys.generate(), claims)

    with pytest.raises(receipts.ReceiptInvalid):
        receipts.verify(forged, signed_in.client.get("/jwks").json(), issuer=BASE)


@pytest.mark.parametrize(
    ("display", "shown"),
    [
        ("*1234", "••••1234"),
        ("...7890", "••••7890"),
        ("123456789012", "••••9012"),
        ("", None),
        (None, None),
    ],
    ids=["star", "dots", "full-number", "empty", "none"],
)
def test_account_numbers_on_receipts_are_masked_to_four(
    display: str | None, shown: str | None
) -> None:
    """Even a bank that sends a full number in accountNumberDisplay."""
    assert receipts.masked(display) == shown

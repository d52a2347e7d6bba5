"""The notification body: FDX Notificationentity per kind, signed as a verifiable JWS."""

from __future__ import annotations

import pytest
from joserfc import jwt

from authz.consent.model import ConsentEvent
from authz.notifications import build, sign
from authz.notifications.message import KINDS
from tests.authz.notifications.conftest import DAY, NOW, World
from tests.conftest import FdxValidate

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("kind", "fdx_type", "field"),
    [
        ("revoked", "CONSENT_REVOKED", {"name": "INITIATOR", "value": "DATA_RECIPIENT"}),
        ("expired", "CONSENT_UPDATED", {"name": "status", "value": "EXPIRED"}),
        (
            "renewed",
            "CONSENT_UPDATED",
            {"name": "expirationTime", "value": "2028-01-15T08:00:00.000Z"},
        ),
        (
            "reauthorization_due",
            "CONSENT_UPDATED",
            {"name": "reauthorizationDue", "value": "2028-01-15T08:00:00.000Z"},
        ),
    ],
    ids=["revoked", "expired", "renewed", "reauthorization-due"],
)
async def test_each_kind_is_an_fdx_notification_about_the_consent(
    world: World, fdx_validate: FdxValidate, kind: str, fdx_type: str, field: dict[str, str]
) -> None:
    """Valid against FDX 6.2 Notificationentity, category CONSENT, the consent id as payload."""
    client = await world.client(uri="https://app.example/n")
    consent = await world.consent(expires_in=365 * DAY)
    event = ConsentEvent("c-1", NOW, kind, "DATA_RECIPIENT", "USER_ACTION")

    body = build(
        kind, consent, client, notification_id="n-1", settings=world.services.settings, event=event
    )

    fdx_validate({**body, "sentOn": "2027-01-15T08:00:00.000Z"}, "Notificationentity")
    assert (body["type"], body["category"]) == (fdx_type, "CONSENT")
    assert body["notificationPayload"] == {"id": "c-1", "idType": "CONSENT", "customFields": field}
    assert body["publisher"]["type"] == "DATA_PROVIDER"
    assert body["subscriber"] == {
        "name": "Budget App",
        "type": "DATA_RECIPIENT",
        "homeUri": "https://app.example",
    }
    assert "cust-1" not in str(body)  # never the consumer's identity
    assert kind in KINDS


async def test_the_revocation_links_to_the_revocation_history(world: World) -> None:
    """url points at GET /fdx/v6/consents/{id}/revocation for a revocation, the grant otherwise."""
    client = await world.client()
    consent = await world.consent()
    settings = world.services.settings

    revoked = build("revoked", consent, client, notification_id="n", settings=settings)
    renewed = build("renewed", consent, client, notification_id="n", settings=settings)

    assert revoked["url"]["href"] == "http://127.0.0.1:8000/fdx/v6/consents/c-1/revocation"
    assert renewed["url"]["href"] == "http://127.0.0.1:8000/fdx/v6/consents/c-1"


async def test_the_signed_notification_verifies_with_the_published_keys(world: World) -> None:
    """ES256 with the current kid and typ notification+jwt; iss, aud, iat, jti and sentOn set."""
    client = await world.client()
    consent = await world.consent()
    body = build(
        "revoked", consent, client, notification_id="n-1", settings=world.services.settings
    )
    keys = world.services.keys

    token = jwt.decode(
        sign(body, keys, issuer="https://bank.example", audience="client-1", now=NOW + 0.25),
        keys.all,
        algorithms=["ES256"],
    )

    assert token.header == {"alg": "ES256", "kid": keys.kid, "typ": "notification+jwt"}
    assert token.claims["iss"] == "https://bank.example"
    assert token.claims["aud"] == "client-1"
    assert (token.claims["iat"], token.claims["jti"]) == (int(NOW), "n-1")
    assert token.claims["sentOn"] == "2027-01-15T08:00:00.250Z"

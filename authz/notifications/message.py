"""The notification a recipient receives: an FDX Notificationentity, signed as a compact JWS.

Shape (FDX 6.2 ``POST /notifications`` body, ``Notificationentity``; docs/fdx.md §4):

- ``type``: ``CONSENT_REVOKED`` when the consent was revoked (by anyone);
  ``CONSENT_UPDATED`` when it expired, was renewed, or its reauthorization falls due. FDX has
  no CONSENT_EXPIRED type; an expiry is an update of the ConsentGrant's status, which the
  recipient reads at ``url`` (``GET /fdx/v6/consents/{id}``).
- ``category`` ``CONSENT``; ``publisher`` the bank (DATA_PROVIDER), ``subscriber`` the recipient
  (DATA_RECIPIENT); ``notificationPayload`` ``{id: consent id, idType: CONSENT, customFields}``.
- ``customFields`` is one FIAttribute ``{name, value}`` in FDX 6.2 (an object, not a list):
  revoked ``INITIATOR`` = the FDX PartyType who revoked (as in the spec's example); expired
  ``status`` = ``EXPIRED``; renewed ``expirationTime`` = the new expiry; reauthorization due
  ``reauthorizationDue`` = the expiry the consumer must renew before.
- ``deletionRequest`` (our extension, CONSENT_REVOKED only): a HATEOAS link to
  ``PUT /consents/{id}/deletion`` when the consumer, on stopping, asked the recipient to delete
  the data it already has; the recipient confirms there once it has.
- ``notificationId`` is the same on every delivery attempt (receivers drop duplicates);
  ``sentOn`` is set per attempt.

Signed (``sign``) as a JWT: header ``{"alg": "ES256", "kid", "typ": "notification+jwt"}``, claims
the Notificationentity plus ``iss`` (the issuer), ``aud`` (the recipient's client_id), ``iat`` and
``jti`` (= notificationId), verifiable with the gateway's JWKS (``GET /jwks``). It is POSTed as
the whole body with ``Content-Type: application/jose`` (RFC 7515 §9.2.1). The consumer's identity
never appears: only the consent id, which the recipient already holds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from joserfc import jwt

from authz.consent.model import Consent, ConsentEvent
from authz.keys import SIGNING_ALG, SigningKeys
from authz.store.base import ClientRecord, Payload
from config.settings import Settings

TYP: Final = "notification+jwt"
MEDIA_TYPE: Final = "application/jose"
REVOKED, EXPIRED, RENEWED, REAUTHORIZATION_DUE = (
    "revoked",
    "expired",
    "renewed",
    "reauthorization_due",
)
KINDS: Final = frozenset({REVOKED, EXPIRED, RENEWED, REAUTHORIZATION_DUE})

# kind -> (FDX NotificationType, severity, priority)
_TYPES: Final = {
    REVOKED: ("CONSENT_REVOKED", "WARNING", "HIGH"),
    EXPIRED: ("CONSENT_UPDATED", "NOTICE", "MEDIUM"),
    RENEWED: ("CONSENT_UPDATED", "INFO", "MEDIUM"),
    REAUTHORIZATION_DUE: ("CONSENT_UPDATED", "NOTICE", "MEDIUM"),
}


def fdx_type(kind: str) -> str:
    """The FDX NotificationType a notification of ``kind`` is sent as."""
    return _TYPES[kind][0]


EMITTED: Final = frozenset(t for t, _, _ in _TYPES.values())  # what a recipient may subscribe to


def build(
    kind: str,
    consent: Consent,
    client: ClientRecord,
    *,
    notification_id: str,
    settings: Settings,
    event: ConsentEvent | None = None,
) -> Payload:
    """The Notificationentity for ``kind`` (one of ``KINDS``), without ``sentOn``."""
    fdx_type, severity, priority = _TYPES[kind]
    subscriber: dict[str, Any] = {"name": client.client_name, "type": "DATA_RECIPIENT"}
    if client.client_uri:
        subscriber["homeUri"] = client.client_uri
    if client.logo_uri:
        subscriber["logoUri"] = client.logo_uri
    consent_url = f"{settings.resource_audience}/consents/{consent.id}"
    body: Payload = {
        "notificationId": notification_id,
        "type": fdx_type,
        "category": "CONSENT",
        "severity": severity,
        "priority": priority,
        "publisher": {
            "name": settings.provider_name,
            "type": "DATA_PROVIDER",
            "homeUri": settings.issuer,
        },
        "subscriber": subscriber,
        "notificationPayload": {
            "id": consent.id,
            "idType": "CONSENT",
            "customFields": _custom_field(kind, consent, event),
        },
        "url": {
            "href": consent_url + ("/revocation" if kind == REVOKED else ""),
            "action": "GET",
            "rel": "consent",
            "types": ["application/json"],
        },
    }
    if kind == REVOKED and event is not None and deletion_requested(event):
        # Our extension (docs/fdx.md): the consumer asked the recipient to delete the data it
        # already has; the recipient confirms with PUT on this link once it has.
        body["deletionRequest"] = {
            "href": consent_url + "/deletion",
            "action": "PUT",
            "rel": "deletion",
            "types": ["application/json"],
        }
    return body


DELETION_ASKED: Final = "deletion requested"  # in a "revoked" event's detail


def deletion_requested(event: ConsentEvent) -> bool:
    """The consumer asked, on stopping, that the recipient delete the data it has."""
    return event.event == "revoked" and DELETION_ASKED in (event.detail or "").split("; ")


def sign(
    notification: Payload, keys: SigningKeys, *, issuer: str, audience: str, now: float
) -> str:
    """The compact JWS of ``notification`` as sent at ``now`` to the client ``audience``."""
    claims = {
        **notification,
        "sentOn": timestamp(now),
        "iss": issuer,
        "aud": audience,
        "iat": int(now),
        "jti": notification["notificationId"],
    }
    header = {"alg": SIGNING_ALG, "kid": keys.kid, "typ": TYP}
    return jwt.encode(header, claims, keys.current, algorithms=[SIGNING_ALG])


def timestamp(ts: float) -> str:
    """FDX date-time with milliseconds, in UTC (the spec's examples: 2021-07-15T14:46:41.375Z)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _custom_field(kind: str, consent: Consent, event: ConsentEvent | None) -> dict[str, str]:
    expiry = timestamp(consent.expires_at) if consent.expires_at is not None else ""
    if kind == REVOKED:
        return {"name": "INITIATOR", "value": event.actor if event else "DATA_PROVIDER"}
    if kind == EXPIRED:
        return {"name": "status", "value": "EXPIRED"}
    if kind == RENEWED:
        return {"name": "expirationTime", "value": expiry}
    return {"name": "reauthorizationDue", "value": expiry}

"""Consent receipts: a signed record, for the consumer to keep, of each grant, renewal and
revocation of a consent.

A receipt is a compact JWS (RFC 7515) over a JSON payload, signed with the gateway's current key
and verifiable by anyone against its published JWKS (``/jwks``). The payload restates what the
consumer agreed to, in the spirit of the Kantara Consent Receipt (v1.1): who received the data,
for what purpose, which data clusters of which accounts, for how long and how far back. It names
the consumer only by a pairwise subject, never by the bank's own customer id.

Receipts are not stored: they are derived from the consent and its append-only event history, so
receipt ``n`` of a consent always states the same facts (only the signature bytes differ, ES256
signatures being randomised).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, KeySetSerialization

from adapters.base import Account, BankAdapter
from adapters.errors import AdapterError
from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentEvent
from authz.keys import SIGNING_ALG, SigningKeys
from authz.requests import ConsentRequest
from authz.services import Services
from authz.store.base import ClientRecord
from authz.tokens import pairwise_subject
from config.settings import Settings

TYP = "consent-receipt+jwt"
MEDIA_TYPE = "application/jose"  # RFC 7515 §9.2.1: a JWS in compact serialization
AUTHORIZATIONS = frozenset({"granted", "renewed"})
RECEIPT_EVENTS = AUTHORIZATIONS | {"revoked"}
SUBJECT_AUDIENCE = "consent-receipt"  # the pairwise "recipient" the subject is derived for


class ReceiptInvalid(Exception):
    """A receipt that does not verify: bad signature, unknown key, wrong type or issuer."""


@dataclass(frozen=True, slots=True)
class AccountLabel:
    """How an account is named to the consumer: product name and masked number, or only its id
    when the bank no longer returns it."""

    account_id: str
    name: str
    number: str | None

    def to_claim(self) -> dict[str, Any]:
        claim: dict[str, Any] = {"accountId": self.account_id, "name": self.name}
        if self.number:
            claim["accountNumberDisplay"] = self.number
        return claim


@dataclass(frozen=True, slots=True)
class Receipt:
    number: int  # 1-based, in event order: /consumer/consents/{id}/receipts/{number}
    event: ConsentEvent
    claims: dict[str, Any]


def receipt_events(events: Sequence[ConsentEvent]) -> list[ConsentEvent]:
    """The events that get a receipt, oldest first (their position is the receipt number)."""
    return [e for e in events if e.event in RECEIPT_EVENTS]


def masked(display: str | None) -> str | None:
    """At most the last four characters of a number, whatever the bank sent: a receipt outlives
    the screen and must never carry a full account number."""
    if not display:
        return None
    tail = [c for c in display if c.isalnum()][-4:]
    return "••••" + "".join(tail) if tail else None


async def account_labels(
    bank: BankAdapter, customer_id: str, account_ids: Sequence[str]
) -> dict[str, AccountLabel]:
    """Labels for ``account_ids``. An account the bank no longer returns, or a bank that cannot
    be reached, leaves the id as the label: showing a consent never depends on the bank."""
    try:
        accounts: Sequence[Account] = await bank.list_accounts(customer_id)
    except AdapterError:
        accounts = ()
    known = {str(a.get("accountId")): a for a in accounts}
    labels: dict[str, AccountLabel] = {}
    for account_id in account_ids:
        account = known.get(account_id)
        if account is None:
            labels[account_id] = AccountLabel(account_id, account_id, None)
            continue
        name = account.get("productName") or account.get("nickname") or account_id
        labels[account_id] = AccountLabel(
            account_id, str(name), masked(account.get("accountNumberDisplay"))
        )
    return labels


def receipt_claims(
    *,
    settings: Settings,
    secret: bytes,
    consent: Consent,
    events: Sequence[ConsentEvent],
    number: int,
    client: ClientRecord | None,
    accounts: Mapping[str, AccountLabel],
) -> dict[str, Any]:
    """The payload of receipt ``number`` (1-based) of ``consent``; IndexError if there is none."""
    eligible = receipt_events(events)
    if not 1 <= number <= len(eligible):
        raise IndexError(number)
    event = eligible[number - 1]
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "jti": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{settings.issuer}#{consent.id}/{number}")),
        "iat": int(event.time),
        "sub": pairwise_subject(secret, consent.customer_id, SUBJECT_AUDIENCE),
        "consentId": consent.id,
        "event": event.event,
        "eventTime": iso(event.time),
        "actor": event.actor,
        "recipient": {
            "clientId": consent.client_id,
            "name": client.client_name if client else consent.client_id,
        },
        "provider": {"name": settings.provider_name},
        "purpose": consent.purpose,
        "dataClusters": sorted(consent.clusters),
        "accounts": [
            (accounts.get(a) or AccountLabel(a, a, None)).to_claim() for a in consent.account_ids
        ],
        "durationType": consent.duration_type.value,
        "expirationTime": iso(_sharing_ends(consent, event, eligible, settings)),
    }
    if event.reason:
        claims["reason"] = event.reason
    if consent.duration_period is not None:
        claims["durationPeriod"] = consent.duration_period
    if consent.lookback_period is not None:
        claims["lookbackPeriod"] = consent.lookback_period
    return claims


async def load_receipts(services: Services, consent: Consent) -> list[Receipt]:
    """Every receipt of ``consent`` (payloads only; ``sign`` makes the JWS)."""
    events = await services.records.consents.events(consent.id)
    client = await services.records.clients.get(consent.client_id)
    labels = await account_labels(services.bank, consent.customer_id, consent.account_ids)
    return [
        Receipt(
            number,
            event,
            receipt_claims(
                settings=services.settings,
                secret=services.secret,
                consent=consent,
                events=events,
                number=number,
                client=client,
                accounts=labels,
            ),
        )
        for number, event in enumerate(receipt_events(events), start=1)
    ]


def sign(keys: SigningKeys, claims: dict[str, Any]) -> str:
    """The compact JWS: ES256 with the current key, ``kid`` so a verifier picks it from JWKS."""
    header = {"alg": SIGNING_ALG, "kid": keys.kid, "typ": TYP}
    return jwt.encode(header, claims, keys.current, algorithms=[SIGNING_ALG])


def verify(token: str, jwks: KeySetSerialization, *, issuer: str) -> dict[str, Any]:
    """The claims of a receipt that verifies against ``jwks`` (a public JWK Set) and names
    ``issuer``; raises ``ReceiptInvalid`` otherwise."""
    try:
        decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=[SIGNING_ALG])
    except (JoseError, ValueError, TypeError):
        raise ReceiptInvalid("signature or format invalid") from None
    if decoded.header.get("typ") != TYP:
        raise ReceiptInvalid("not a consent receipt")
    if decoded.claims.get("iss") != issuer:
        raise ReceiptInvalid("issued by someone else")
    return dict(decoded.claims)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sharing_ends(
    consent: Consent, event: ConsentEvent, eligible: Sequence[ConsentEvent], settings: Settings
) -> float:
    """When sharing ends as of ``event``: a revocation ends it then; the latest authorization's
    end is the consent's own expiry; an earlier one (since renewed) ends by the duration rule
    applied at its time."""
    if event.event not in AUTHORIZATIONS:
        return event.time
    latest = [e for e in eligible if e.event in AUTHORIZATIONS][-1]
    if event == latest and consent.expires_at is not None:
        return consent.expires_at
    rule = ConsentRequest(
        duration_type=consent.duration_type,
        duration_period=consent.duration_period,
        lookback_period=consent.lookback_period,
        clusters=(),
    )
    return lifecycle.expiry(rule, event.time, settings)


__all__ = [
    "MEDIA_TYPE",
    "SUBJECT_AUDIENCE",
    "TYP",
    "AccountLabel",
    "Receipt",
    "ReceiptInvalid",
    "account_labels",
    "iso",
    "load_receipts",
    "masked",
    "receipt_claims",
    "receipt_events",
    "sign",
    "verify",
]

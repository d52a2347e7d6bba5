"""The records the gateway keeps: frozen values, the bottom floor of ``authz``.

Everything durable is one of these: a consent (the FDX ConsentGrant, also the OAuth grant) and its
history, a registered recipient, a refresh token's hash, a data access and its link in the audit
trail, a notification to a recipient. The record store (``authz.store``) and the consent rules
(``authz.consent``) both import them; this module imports neither.

A consent is the FDX ConsentGrant (docs/fdx.md §4) plus the customer, the client, the purpose shown
on the screen, a version (bumped on every change) and a history of events. It is also the OAuth
grant: every token carries its id (``fdxConsentId`` / ``grant_id``), so ending the consent ends
every token at once, because the gateway checks it live on each call.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

Payload = dict[str, Any]  # JSON-serialisable; the only Any that crosses the storage seams


class ConsentStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    DENIED = "DENIED"  # internal: the consumer refused; never reaches a recipient as a grant


class DurationType(enum.StrEnum):
    ONE_TIME = "ONE_TIME"
    TIME_BOUND = "TIME_BOUND"
    PERSISTENT = "PERSISTENT"


@dataclass(frozen=True, slots=True)
class ConsentResource:
    resource_type: str  # ACCOUNT (FDX ConsentResourceType)
    resource_id: str
    data_clusters: tuple[str, ...]

    def to_fdx(self) -> dict[str, Any]:
        return {
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
            "dataClusters": list(self.data_clusters),
        }


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One line of a consent's history. ``actor`` is an FDX PartyType (INDIVIDUAL for the
    consumer, DATA_RECIPIENT, DATA_PROVIDER for the bank); ``reason`` an FDX ConsentUpdateReason
    (USER_ACTION, BUSINESS_RULE) where one applies."""

    consent_id: str
    time: float
    event: str  # requested | granted | denied | revoked | expired | renewed
    actor: str
    reason: str | None = None
    detail: str | None = None
    # The FDX PartyType a recipient named as having started a revocation
    # (ConsentRevocationRequest.initiator); None: the actor did.
    initiator: str | None = None


@dataclass(frozen=True, slots=True)
class Consent:
    id: str
    status: ConsentStatus
    client_id: str
    customer_id: str
    created_at: float
    updated_at: float
    expires_at: float | None  # None: PERSISTENT without a cap (never the case here)
    duration_type: DurationType
    duration_period: int | None  # days, TIME_BOUND only
    lookback_period: int | None  # days of history; None means no limit was asked
    resources: tuple[ConsentResource, ...]
    purpose: str
    version: int = 1
    scope: tuple[str, ...] = field(default=())  # OAuth scopes granted (from the clusters)

    def is_active(self, now: float) -> bool:
        """ACTIVE and not past its expiry: checked on every use, not by a background job."""
        return self.status is ConsentStatus.ACTIVE and (
            self.expires_at is None or now < self.expires_at
        )

    def clusters_for(self, account_id: str) -> frozenset[str]:
        for r in self.resources:
            if r.resource_type == "ACCOUNT" and r.resource_id == account_id:
                return frozenset(r.data_clusters)
        return frozenset()

    @property
    def account_ids(self) -> tuple[str, ...]:
        return tuple(r.resource_id for r in self.resources if r.resource_type == "ACCOUNT")

    @property
    def clusters(self) -> frozenset[str]:
        return frozenset(c for r in self.resources for c in r.data_clusters)

    def with_status(self, status: ConsentStatus, now: float) -> Consent:
        return replace(self, status=status, updated_at=now, version=self.version + 1)

    def to_fdx(self, parties: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The FDX ConsentGrant body (fdx-api-6.2 ``ConsentGrantentity``)."""
        status = ConsentStatus.REVOKED if self.status is ConsentStatus.DENIED else self.status
        body: dict[str, Any] = {
            "id": self.id,
            "status": status.value,
            "parties": parties or [],
            "createdTime": _iso(self.created_at),
            "updatedTime": _iso(self.updated_at),
            "durationType": self.duration_type.value,
            "resources": [r.to_fdx() for r in self.resources],
        }
        if self.expires_at is not None:
            body["expirationTime"] = _iso(self.expires_at)
        if self.duration_period is not None:
            body["durationPeriod"] = self.duration_period
        if self.lookback_period is not None:
            body["lookbackPeriod"] = self.lookback_period
        return body

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "client_id": self.client_id,
            "customer_id": self.customer_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "expires_at": self.expires_at,
            "duration_type": self.duration_type.value,
            "duration_period": self.duration_period,
            "lookback_period": self.lookback_period,
            "resources": [
                [r.resource_type, r.resource_id, list(r.data_clusters)] for r in self.resources
            ],
            "purpose": self.purpose,
            "version": self.version,
            "scope": list(self.scope),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Consent:
        return cls(
            id=d["id"],
            status=ConsentStatus(d["status"]),
            client_id=d["client_id"],
            customer_id=d["customer_id"],
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            expires_at=d["expires_at"],
            duration_type=DurationType(d["duration_type"]),
            duration_period=d["duration_period"],
            lookback_period=d["lookback_period"],
            resources=tuple(ConsentResource(t, i, tuple(c)) for t, i, c in d["resources"]),
            purpose=d["purpose"],
            version=d["version"],
            scope=tuple(d.get("scope", ())),
        )


def _iso(ts: float) -> str:
    """FDX Timestamp: ISO 8601 in UTC with a Z suffix."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A registered data recipient (RFC 7591 metadata plus the FDX limits it registered)."""

    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    jwks: Payload  # public JWK Set for private_key_jwt
    logo_uri: str | None = None
    client_uri: str | None = None
    description: str | None = None  # the purpose shown when a request gives none
    contacts: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()  # data clusters it may ask for (registered scope)
    duration_types: tuple[str, ...] = ("ONE_TIME", "TIME_BOUND", "PERSISTENT")
    max_duration_period: int | None = None  # days, TIME_BOUND
    max_lookback_period: int | None = None  # days
    status: str = "approved"  # pending | approved | suspended | deleted (RFC 7592 §2.3)
    notification_uri: str | None = None  # where signed FDX consent notifications are POSTed
    created_at: float = 0.0
    extra: Payload = field(default_factory=dict)  # further registered metadata, kept verbatim
    jwks_uri: str | None = None  # keys fetched from here instead of ``jwks`` (RFC 7591 §2)
    registration_token_hash: str | None = None  # RFC 7592 token, its SHA-256 only

    def to_dict(self) -> Payload:
        return {
            "client_id": self.client_id,
            "client_name": self.client_name,
            "redirect_uris": list(self.redirect_uris),
            "jwks": self.jwks,
            "logo_uri": self.logo_uri,
            "client_uri": self.client_uri,
            "description": self.description,
            "contacts": list(self.contacts),
            "clusters": list(self.clusters),
            "duration_types": list(self.duration_types),
            "max_duration_period": self.max_duration_period,
            "max_lookback_period": self.max_lookback_period,
            "status": self.status,
            "notification_uri": self.notification_uri,
            "created_at": self.created_at,
            "extra": self.extra,
            "jwks_uri": self.jwks_uri,
            "registration_token_hash": self.registration_token_hash,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClientRecord:
        return cls(
            client_id=d["client_id"],
            client_name=d["client_name"],
            redirect_uris=tuple(d["redirect_uris"]),
            jwks=d["jwks"],
            logo_uri=d.get("logo_uri"),
            client_uri=d.get("client_uri"),
            description=d.get("description"),
            contacts=tuple(d.get("contacts", ())),
            clusters=tuple(d.get("clusters", ())),
            duration_types=tuple(d.get("duration_types", ("ONE_TIME", "TIME_BOUND", "PERSISTENT"))),
            max_duration_period=d.get("max_duration_period"),
            max_lookback_period=d.get("max_lookback_period"),
            status=d.get("status", "approved"),
            notification_uri=d.get("notification_uri"),
            created_at=d.get("created_at", 0.0),
            extra=dict(d.get("extra", {})),
            jwks_uri=d.get("jwks_uri"),
            registration_token_hash=d.get("registration_token_hash"),
        )


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A refresh token as stored: only its SHA-256 hash, never the token itself."""

    token_hash: str
    consent_id: str
    client_id: str
    created_at: float
    expires_at: float
    used_at: float | None = None  # set when rotated; presenting it again is a replay
    revoked_at: float | None = None
    # RFC 9449 §5: the DPoP key (RFC 7638 thumbprint) the token is bound to; a refresh must
    # prove possession of that same key. None: not DPoP-bound.
    jkt: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One data access: who read what, through which consent, and how much."""

    id: str
    time: float
    consent_id: str
    client_id: str
    customer_id: str
    endpoint: str  # "GET /accounts/{accountId}/transactions"
    account_ids: tuple[str, ...]
    clusters: tuple[str, ...]
    record_count: int
    status: int
    interaction_id: str


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One link of the audit trail's hash chain (``authz.store.chain``).

    ``record`` is the canonical JSON (sorted keys) of the consent event or data access, exactly as
    hashed; ``hash`` = SHA-256 hex of ``prev_hash`` followed by the canonical JSON of
    ``{"kind", "record", "seq", "time"}``."""

    seq: int
    time: float
    kind: str  # consent_event | data_access
    record: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class TrailAnchor:
    """Where the kept chain starts after a retention prune: the last pruned link."""

    seq: int
    time: float
    hash: str


@dataclass(frozen=True, slots=True)
class NotificationDelivery:
    """One signed notification to a recipient and the history of its delivery.

    ``id`` is the FDX ``notificationId``, the same on every attempt so a receiver can drop
    duplicates. ``notification`` is the FDX Notificationentity without ``sentOn``, which is set
    (and the whole signed) per attempt. ``dedupe_key``, when given, is unique: a second enqueue
    with it is refused (the sweeper's notice is sent once per consent per authorization)."""

    id: str
    client_id: str
    consent_id: str
    kind: str  # revoked | expired | renewed | reauthorization_due
    notification: Payload
    created_at: float
    next_attempt_at: float
    dedupe_key: str | None = None
    attempts: int = 0
    last_status: str | None = None  # "204", "timeout", "refused: …"
    delivered_at: float | None = None
    given_up_at: float | None = None


@dataclass(frozen=True, slots=True)
class SealedSecret:
    """A signing key or the session secret as the record store keeps it: its schedule in clear,
    its secret part sealed by the key-encryption key named ``kek`` (``authz.kek``)."""

    id: str  # a signing key's kid, or "session"
    use: str  # "sig": a signing key; "session": the session secret
    created: float
    not_before: float  # when a signing key may start signing
    retire_after: float | None  # set once a newer signing key replaces it
    kek: str  # which key-encryption key sealed ``sealed``; "none": kept in clear
    sealed: bytes

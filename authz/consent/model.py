"""The consent model: what a consumer granted to a recipient, and what happened to it since.

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

"""Finding and ending consents on the bank's behalf (the admin API and ``fdxgw consents``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from authz.consent import lifecycle
from authz.consent.model import Consent
from authz.services import Services
from authz.store.base import Records


class ConsentNotFound(Exception):
    pass


class ConsentAlreadyEnded(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(f"the consent is already {status}")
        self.status = status


async def search(
    records: Records,
    *,
    customer: str | None = None,
    recipient: str | None = None,
) -> list[Consent]:
    """A customer's or a recipient's consents, newest first (exactly one of the two)."""
    if (customer is None) == (recipient is None):
        raise ValueError("search by exactly one of customer or recipient")
    return await records.consents.find(customer_id=customer, client_id=recipient)


def summary(consent: Consent) -> dict[str, Any]:
    """What an operator needs to find and judge a consent: ids, status, dates, scope."""
    return {
        "id": consent.id,
        "status": consent.status.value,
        "recipient": consent.client_id,
        "customer": consent.customer_id,
        "durationType": consent.duration_type.value,
        "createdTime": _iso(consent.created_at),
        "updatedTime": _iso(consent.updated_at),
        "expirationTime": _iso(consent.expires_at) if consent.expires_at is not None else None,
        "accounts": len(consent.account_ids),
        "dataClusters": sorted(consent.clusters),
    }


async def revoke(services: Services, consent_id: str, *, reason: str) -> Consent:
    """End the consent as the bank (FDX PartyType DATA_PROVIDER): the lifecycle records it,
    kills its refresh tokens and tells the recipient. Raises ``ConsentNotFound`` or
    ``ConsentAlreadyEnded``."""
    if reason not in lifecycle.REASONS:
        raise ValueError(f"reason must be one of {', '.join(sorted(lifecycle.REASONS))}")
    consent, revoked = await lifecycle.revoke(
        services,
        consent_id,
        actor=lifecycle.DATA_PROVIDER,
        reason=reason,
        detail="revoked by the bank's operator",
    )
    if consent is None:
        raise ConsentNotFound(consent_id)
    if not revoked:
        raise ConsentAlreadyEnded(consent.status.value)
    return consent


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

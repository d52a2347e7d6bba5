"""A recipient's notification subscription (FDX 6.2 NotificationSubscriptionentity).

The recipient asks to be told, at ``callback_url``, of one FDX NotificationType in one category;
the gateway emits the consent types (``CONSENT_REVOKED``, ``CONSENT_UPDATED``, category
``CONSENT``) and delivers them through the signed, retried outbox (authz/notifications). A
deleted subscription is kept, with ``deleted_at``, so a delivery already queued for it is
dropped rather than sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    client_id: str
    type: str  # FDX NotificationType
    category: str  # FDX NotificationCategory
    callback_url: str
    subscriber: dict[str, Any]  # FDX Party: the recipient, as the bank registered it
    effective_date: str  # YYYY-MM-DD: nothing is delivered before this day
    created_at: float
    deleted_at: float | None = None

    def to_fdx(self) -> dict[str, Any]:
        return {
            "subscriptionId": self.id,
            "type": self.type,
            "category": self.category,
            "callbackUrl": self.callback_url,
            "subscriber": self.subscriber,
            "effectiveDate": self.effective_date,
        }

    def row(self) -> tuple[Any, ...]:
        """The columns, in the tables' order; ``subscriber`` as JSON text by the caller."""
        return (
            self.id,
            self.client_id,
            self.type,
            self.category,
            self.callback_url,
            self.effective_date,
            self.created_at,
            self.deleted_at,
        )

"""The seam for notification subscriptions: one small record family with a store of its own.

Kept apart from the ``Records``: a subscription is the recipient's, not a consent's, and is
read only when a notification is queued or delivered. Every backend (memory, SQLite, PostgreSQL)
passes ``tests/contracts/test_subscription_store.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from authz.subscriptions.model import Subscription


class SubscriptionStore(Protocol):
    async def migrate(self) -> None:
        """Create the family's table if it is missing; safe to run on every start."""

    async def create(self, subscription: Subscription) -> None:
        """Store a new subscription; a duplicate id raises ``ValueError``."""

    async def get(self, subscription_id: str) -> Subscription | None:
        """The subscription, deleted or not; None if there never was one."""

    async def list_for_client(self, client_id: str) -> Sequence[Subscription]:
        """The client's live (not deleted) subscriptions, oldest first."""

    async def delete(self, subscription_id: str, *, now: float) -> bool:
        """Mark deleted; False if unknown or deleted already."""

    async def aclose(self) -> None: ...

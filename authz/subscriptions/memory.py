"""Subscriptions in a dict: tests and ``memory://``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from authz.subscriptions.model import Subscription


class MemorySubscriptionStore:
    def __init__(self) -> None:
        self._rows: dict[str, Subscription] = {}

    async def migrate(self) -> None:
        return None

    async def create(self, subscription: Subscription) -> None:
        if subscription.id in self._rows:
            raise ValueError("duplicate subscription id")
        self._rows[subscription.id] = subscription

    async def get(self, subscription_id: str) -> Subscription | None:
        return self._rows.get(subscription_id)

    async def list_for_client(self, client_id: str) -> Sequence[Subscription]:
        live = (s for s in self._rows.values() if s.client_id == client_id and s.deleted_at is None)
        return sorted(live, key=lambda s: (s.created_at, s.id))

    async def delete(self, subscription_id: str, *, now: float) -> bool:
        found = self._rows.get(subscription_id)
        if found is None or found.deleted_at is not None:
            return False
        self._rows[subscription_id] = replace(found, deleted_at=now)
        return True

    async def aclose(self) -> None:
        return None

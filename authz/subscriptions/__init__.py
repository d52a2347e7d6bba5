"""Notification subscriptions: the record family, its store seam and backends, chosen by URL."""

from __future__ import annotations

from authz.subscriptions.model import Subscription
from authz.subscriptions.store import SubscriptionStore


def open_subscriptions(url: str) -> SubscriptionStore:
    """The store for ``database_url`` (the record store's): the same database, its own table."""
    if url.startswith("postgresql://"):
        from authz.subscriptions.postgres import PostgresSubscriptionStore

        return PostgresSubscriptionStore(url)
    if url.startswith("sqlite:///"):
        from authz.subscriptions.sqlite import SqliteSubscriptionStore

        return SqliteSubscriptionStore(url.removeprefix("sqlite:///"))
    if url == "memory://":
        from authz.subscriptions.memory import MemorySubscriptionStore

        return MemorySubscriptionStore()
    raise ValueError("database_url: no subscription store for this URL")


__all__ = ["Subscription", "SubscriptionStore", "open_subscriptions"]

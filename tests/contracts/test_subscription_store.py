"""The SubscriptionStore contract, over every backend (memory, SQLite, PostgreSQL).

SQLite and PostgreSQL hold the family in the record store's database, beside its tables: the
record store is migrated first, as ``fdxgw init`` does, and is none the worse for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from authz.store.base import Records
from authz.subscriptions import Subscription, SubscriptionStore
from authz.subscriptions.memory import MemorySubscriptionStore
from authz.subscriptions.postgres import PostgresSubscriptionStore
from authz.subscriptions.sqlite import SqliteSubscriptionStore

pytestmark = pytest.mark.anyio


@pytest.fixture
async def subscriptions(
    record_backend: str, record_location: str, records: Records
) -> AsyncIterator[SubscriptionStore]:
    store: SubscriptionStore
    if record_backend == "memory":
        store = MemorySubscriptionStore()
    elif record_backend == "sqlite":
        store = SqliteSubscriptionStore(record_location)
    else:
        store = PostgresSubscriptionStore(record_location)
    await store.migrate()
    yield store
    await store.aclose()


def _subscription(n: int, client_id: str = "client-1", **changes: object) -> Subscription:
    values: dict[str, object] = {
        "id": f"sub-{n}",
        "client_id": client_id,
        "type": "CONSENT_REVOKED",
        "category": "CONSENT",
        "callback_url": f"https://app.example/hooks/{n}",
        "subscriber": {"name": "App", "type": "DATA_RECIPIENT"},
        "effective_date": "2026-03-15",
        "created_at": 1_700_000_000.0 + n,
    }
    values.update(changes)
    return Subscription(**values)  # type: ignore[arg-type]


async def test_a_created_subscription_reads_back_whole(subscriptions: SubscriptionStore) -> None:
    """Every field, the subscriber's party included, survives the round trip."""
    created = _subscription(1)

    await subscriptions.create(created)

    assert created == await subscriptions.get("sub-1")
    assert None is await subscriptions.get("sub-unknown")


async def test_a_duplicate_id_is_refused(subscriptions: SubscriptionStore) -> None:
    """Ids are the recipient's handle: never two of one."""
    await subscriptions.create(_subscription(1))

    with pytest.raises(ValueError, match="duplicate"):
        await subscriptions.create(_subscription(1, callback_url="https://other.example/"))


async def test_a_client_lists_its_live_subscriptions_oldest_first(
    subscriptions: SubscriptionStore,
) -> None:
    """Another client's and deleted ones are left out."""
    for n, client in ((3, "client-1"), (1, "client-1"), (2, "client-2"), (4, "client-1")):
        await subscriptions.create(_subscription(n, client))
    await subscriptions.delete("sub-4", now=1_700_000_100.0)

    listed = await subscriptions.list_for_client("client-1")

    assert ["sub-1", "sub-3"] == [s.id for s in listed]


async def test_delete_marks_once_and_keeps_the_record(subscriptions: SubscriptionStore) -> None:
    """The first delete wins; the record stays, with when it was deleted."""
    await subscriptions.create(_subscription(1))

    first = await subscriptions.delete("sub-1", now=1_700_000_500.0)
    again = await subscriptions.delete("sub-1", now=1_700_000_600.0)
    unknown = await subscriptions.delete("sub-9", now=1_700_000_600.0)

    assert (True, False, False) == (first, again, unknown)
    deleted = await subscriptions.get("sub-1")
    assert deleted is not None
    assert 1_700_000_500.0 == deleted.deleted_at


async def test_migrate_twice_is_harmless(
    subscriptions: SubscriptionStore, records: Records
) -> None:
    """Run on every start: the second run changes nothing, and the records' schema holds."""
    await subscriptions.create(_subscription(1))

    await subscriptions.migrate()

    assert await subscriptions.get("sub-1") is not None
    await records.schema.check()

"""The Records contract for the notification outbox and the sweeper's consent query."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authz.consent.model import ConsentStatus
from authz.store.base import NotificationDelivery, Records
from tests.contracts.test_record_store import T0, consent, event

pytestmark = pytest.mark.anyio


def delivery(
    delivery_id: str = "n-1", *, due: float = T0, **changes: object
) -> NotificationDelivery:
    base = NotificationDelivery(
        id=delivery_id,
        client_id="client-1",
        consent_id="consent-1",
        kind="revoked",
        notification={"notificationId": delivery_id, "type": "CONSENT_REVOKED"},
        created_at=due,
        next_attempt_at=due,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_a_delivery_round_trips(records: Records) -> None:
    """enqueue then get returns an equal record; unknown ids are None."""
    assert await records.outbox.enqueue(delivery())
    assert await records.outbox.get("n-1") == delivery()
    assert await records.outbox.get("nope") is None


async def test_a_dedupe_key_is_used_once(records: Records) -> None:
    """A second delivery with the same dedupe_key is refused and not stored."""
    assert await records.outbox.enqueue(delivery("n-1", dedupe_key="k"))
    assert not await records.outbox.enqueue(delivery("n-2", dedupe_key="k"))
    assert await records.outbox.get("n-2") is None
    assert await records.outbox.enqueue(delivery("n-3"))
    assert await records.outbox.enqueue(delivery("n-4"))


async def test_claim_takes_due_rows_earliest_first_and_leases_them(records: Records) -> None:
    """Only due rows, at most limit; a claimed row is not claimed again until its lease ends."""
    await records.outbox.enqueue(delivery("late", due=T0 + 100))
    await records.outbox.enqueue(delivery("second", due=T0 + 2))
    await records.outbox.enqueue(delivery("first", due=T0 + 1))

    claimed = await records.outbox.claim(T0 + 10, limit=5, lease=60)
    again = await records.outbox.claim(T0 + 20, limit=5, lease=60)
    after_lease = await records.outbox.claim(T0 + 71, limit=5, lease=60)

    assert [d.id for d in claimed] == ["first", "second"]
    assert again == []
    assert sorted(d.id for d in after_lease) == ["first", "second"]


async def test_attempts_are_counted_until_delivered(records: Records) -> None:
    """A failed attempt schedules a retry; a delivered one is never claimed again."""
    await records.outbox.enqueue(delivery())
    await records.outbox.record_attempt(
        "n-1", now=T0 + 1, status="503", delivered=False, retry_at=T0 + 31
    )
    retrying = await records.outbox.get("n-1")
    assert await records.outbox.claim(T0 + 30, limit=5, lease=60) == []
    await records.outbox.record_attempt(
        "n-1", now=T0 + 32, status="204", delivered=True, retry_at=None
    )

    done = await records.outbox.get("n-1")
    assert retrying is not None
    assert (retrying.attempts, retrying.last_status, retrying.next_attempt_at) == (
        1,
        "503",
        T0 + 31,
    )
    assert done is not None
    assert (done.attempts, done.last_status, done.delivered_at, done.given_up_at) == (
        2,
        "204",
        T0 + 32,
        None,
    )
    assert await records.outbox.claim(T0 + 1e6, limit=5, lease=60) == []


async def test_a_failure_without_retry_gives_up(records: Records) -> None:
    """No retry_at and not delivered: given_up_at is set and the row is done."""
    await records.outbox.enqueue(delivery())
    await records.outbox.record_attempt(
        "n-1", now=T0 + 5, status="refused: not an https url", delivered=False, retry_at=None
    )
    got = await records.outbox.get("n-1")
    assert got is not None
    assert (got.attempts, got.given_up_at, got.delivered_at) == (1, T0 + 5, None)
    assert await records.outbox.claim(T0 + 1e6, limit=5, lease=60) == []


async def test_list_notifications_is_per_consent_oldest_first(records: Records) -> None:
    """Deliveries of one consent, by creation time."""
    await records.outbox.enqueue(delivery("b", due=T0 + 2))
    await records.outbox.enqueue(delivery("a", due=T0 + 1))
    await records.outbox.enqueue(delivery("other", consent_id="consent-2"))
    assert [d.id for d in await records.outbox.of_consent("consent-1")] == ["a", "b"]


async def test_consents_expiring_lists_active_ones_before_a_time(records: Records) -> None:
    """ACTIVE consents ending before the horizon, soonest first; ended ones are left out."""
    for cid, created in (("c-late", T0 + 50), ("c-soon", T0), ("c-gone", T0 + 10)):
        await records.consents.create(consent(cid, created_at=created), event(cid))
    gone = consent("c-gone", created_at=T0 + 10).with_status(ConsentStatus.REVOKED, T0 + 11)
    await records.consents.update(gone, event("c-gone", "revoked"), expected_version=1)
    ninety = 90 * 86400

    assert [c.id for c in await records.consents.expiring(T0 + ninety + 60, limit=10)] == [
        "c-soon",
        "c-late",
    ]
    assert [c.id for c in await records.consents.expiring(T0 + ninety + 1, limit=10)] == ["c-soon"]
    assert [c.id for c in await records.consents.expiring(T0 + ninety + 60, limit=1)] == ["c-soon"]


async def test_consents_expiring_pages_by_expiry_then_id(records: Records) -> None:
    """Keyset paging: ``after`` = the last (expires_at, id) seen; consents sharing an expiry
    are split across pages by id, none twice and none skipped."""
    for cid, created in (("c-b", T0), ("c-a", T0), ("c-c", T0), ("c-late", T0 + 50)):
        await records.consents.create(consent(cid, created_at=created), event(cid))
    horizon = T0 + 90 * 86400 + 60

    first = await records.consents.expiring(horizon, limit=2)
    assert ["c-a", "c-b"] == [c.id for c in first]
    last = first[-1]
    assert last.expires_at is not None
    rest = await records.consents.expiring(horizon, limit=2, after=(last.expires_at, last.id))
    assert ["c-c", "c-late"] == [c.id for c in rest]
    end = rest[-1]
    assert end.expires_at is not None
    assert [] == await records.consents.expiring(horizon, limit=2, after=(end.expires_at, end.id))

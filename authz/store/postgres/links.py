"""The audit trail's links as PostgreSQL stores them, appended in the caller's transaction.

One hash chain (``authz.store.chain``) for every instance: a link is appended in the same
transaction as its record, after ``pg_advisory_xact_lock``, so writers in any process append one
after another and nothing is stored without its link.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authz.records import AuditEvent, Consent, ConsentEvent
from authz.store import chain
from authz.store.postgres.connection import Conn, fetch_one
from authz.store.schema import APPLICATION_ID

# pg_advisory_xact_lock(APPLICATION_ID, n): one lock per serialised activity, per database.
LOCK_MIGRATE = 1
LOCK_TRAIL = 2
LOCK_SECRETS = 3  # authz/store/postgres/secrets.py: a first key per use
TRAIL_LOCK = (APPLICATION_ID, LOCK_TRAIL)

_INSERT_EVENT = (
    "INSERT INTO consent_events (consent_id, time, event, actor, reason, detail, initiator)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
# The chain's head: the last link, or the anchor when retention pruned them all (every kept
# link's seq is above the anchor's).
_TRAIL_HEAD = (
    "SELECT seq, hash FROM trail_anchor WHERE id = 1 UNION ALL"
    " (SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1) ORDER BY seq DESC LIMIT 1"
)
_INSERT_TRAIL = (
    "INSERT INTO trail (seq, time, kind, record, prev_hash, hash) VALUES (%s, %s, %s, %s, %s, %s)"
)
_TAKE_TRAIL_LOCK = "SELECT pg_advisory_xact_lock(%s, %s)"


async def insert_event(conn: Conn, e: ConsentEvent, consent: Consent | None) -> None:
    """The event and its trail link, in the caller's transaction. Without ``consent`` (history
    that does not change it) the link records the consent as stored."""
    await conn.execute(
        _INSERT_EVENT, (e.consent_id, e.time, e.event, e.actor, e.reason, e.detail, e.initiator)
    )
    if consent is not None:
        await link(conn, [chain.consent_item_of(consent, e)])
        return
    row = await fetch_one(
        conn,
        "SELECT client_id, customer_id, status, version FROM consents WHERE id = %s",
        (e.consent_id,),
    )
    client_id, customer_id, status, version = row  # the insert above proved it exists
    item = chain.consent_item(
        e, client_id=client_id, customer_id=customer_id, status=status, version=version
    )
    await link(conn, [item])


async def link(conn: Conn, items: Sequence[chain.Item]) -> None:
    """Append links after the chain's head. The advisory lock is held to the end of the
    caller's transaction, and under READ COMMITTED the head is read by a statement that starts
    after the lock was granted, so it sees the previous holder's committed links: writers in
    every process append one after another."""
    await conn.execute(_TAKE_TRAIL_LOCK, TRAIL_LOCK)
    head = await fetch_one(conn, _TRAIL_HEAD, ())
    seq, prev = head if head is not None else (0, chain.GENESIS)
    async with conn.cursor() as cursor:
        await cursor.executemany(
            _INSERT_TRAIL,
            [
                (t.seq, t.time, t.kind, t.record, t.prev_hash, t.hash)
                for t in chain.link(seq, prev, items)
            ],
        )


async def backfill_trail(conn: Conn) -> None:
    """Link history stored before the trail existed, in time order (an upgrade, once)."""
    events = await (
        await conn.execute(
            "SELECT e.consent_id, e.time, e.event, e.actor, e.reason, e.detail, c.client_id,"
            " c.customer_id, c.status, c.version FROM consent_events e JOIN consents c"
            " ON c.id = e.consent_id ORDER BY e.time, e.id"
        )
    ).fetchall()
    items = [
        chain.consent_item(
            ConsentEvent(*r[:6]), client_id=r[6], customer_id=r[7], status=r[8], version=r[9]
        )
        for r in events
    ]
    accesses = await (
        await conn.execute(
            "SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids,"
            " clusters, record_count, status, interaction_id FROM audit_events ORDER BY seq"
        )
    ).fetchall()
    items += [chain.access_item(audit_event(r)) for r in accesses]
    items.sort(key=lambda item: item[0])  # stable: equal times keep their table order
    if items:
        await link(conn, items)


def audit_event(r: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        id=r[0],
        time=r[1],
        consent_id=r[2],
        client_id=r[3],
        customer_id=r[4],
        endpoint=r[5],
        account_ids=tuple(r[6]),
        clusters=tuple(r[7]),
        record_count=r[8],
        status=r[9],
        interaction_id=r[10],
    )

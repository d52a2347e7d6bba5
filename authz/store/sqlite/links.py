"""The audit trail's links as SQLite stores them, appended in the caller's transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import orjson

from authz.records import AuditEvent, Consent, ConsentEvent
from authz.store import chain

_INSERT_TRAIL = (
    "INSERT INTO trail (seq, time, kind, record, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)"
)


def insert_event(db: sqlite3.Connection, e: ConsentEvent, consent: Consent | None) -> None:
    """The event and its trail link, in the caller's transaction. Without ``consent`` (history
    that does not change it) the link records the consent as stored."""
    db.execute(
        "INSERT INTO consent_events (consent_id, time, event, actor, reason, detail, initiator)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (e.consent_id, e.time, e.event, e.actor, e.reason, e.detail, e.initiator),
    )
    if consent is not None:
        link(db, [chain.consent_item_of(consent, e)])
        return
    row = db.execute(
        "SELECT client_id, customer_id, status, version FROM consents WHERE id = ?",
        (e.consent_id,),
    ).fetchone()
    client_id, customer_id, status, version = row  # the insert above proved it exists
    item = chain.consent_item(
        e, client_id=client_id, customer_id=customer_id, status=status, version=version
    )
    link(db, [item])


def link(db: sqlite3.Connection, items: Sequence[chain.Item]) -> None:
    """Append links after the last one. Callers hold BEGIN IMMEDIATE, so no writer in any
    process can append between reading the last hash and inserting after it."""
    last = db.execute("SELECT seq, hash FROM trail ORDER BY seq DESC LIMIT 1").fetchone()
    if last is None:
        last = db.execute("SELECT seq, hash FROM trail_anchor WHERE id = 1").fetchone()
    seq, prev = last if last is not None else (0, chain.GENESIS)
    db.executemany(_INSERT_TRAIL, chain.link_rows(seq, prev, items))


def backfill_trail(db: sqlite3.Connection) -> None:
    """Link history stored before the trail existed, in time order (an upgrade, once)."""
    events = db.execute(
        "SELECT e.consent_id, e.time, e.event, e.actor, e.reason, e.detail, c.client_id,"
        " c.customer_id, c.status, c.version FROM consent_events e JOIN consents c"
        " ON c.id = e.consent_id ORDER BY e.time, e.id"
    ).fetchall()
    items = [
        chain.consent_item(
            ConsentEvent(*r[:6]), client_id=r[6], customer_id=r[7], status=r[8], version=r[9]
        )
        for r in events
    ]
    accesses = db.execute(
        "SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids, clusters,"
        " record_count, status, interaction_id FROM audit_events ORDER BY seq"
    ).fetchall()
    items += [chain.access_item(audit_event(r)) for r in accesses]
    items.sort(key=lambda item: item[0])  # stable: equal times keep their table order
    if items:
        link(db, items)


def audit_event(r: Sequence[Any]) -> AuditEvent:
    return AuditEvent(
        id=r[0],
        time=r[1],
        consent_id=r[2],
        client_id=r[3],
        customer_id=r[4],
        endpoint=r[5],
        account_ids=tuple(orjson.loads(r[6])),
        clusters=tuple(orjson.loads(r[7])),
        record_count=r[8],
        status=r[9],
        interaction_id=r[10],
    )

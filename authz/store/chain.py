"""The audit trail's hash chain: what a link holds and how its hash is computed.

Both record stores link every consent event and every data access as they store it, in the same
transaction (SQLite with ``link_rows``; PostgreSQL hashes in SQL, where the lock is held, over
``message_parts``), and ``authz.trail.verify`` recomputes them. A link's hash is

    SHA-256( prev_hash || canonical JSON of {"kind", "record", "seq", "time"} )   (hex)

where canonical JSON is orjson with sorted keys and ``record`` is itself canonical JSON, so the
bytes hashed are fixed by the values alone. The first link follows ``GENESIS``, or after a
retention prune the anchor (the hash of the last pruned link). Changing, removing or reordering a
stored link breaks the chain at that link or the next one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

import orjson

from authz.consent.model import Consent, ConsentEvent
from authz.store.base import AuditEvent, TrailEntry

GENESIS = "0" * 64
CONSENT_EVENT = "consent_event"
DATA_ACCESS = "data_access"

Item = tuple[float, str, str]  # (time, kind, canonical record)
Row = tuple[int, float, str, str, str, str]  # (seq, time, kind, record, prev_hash, hash)
_KINDS = {k: orjson.dumps(k).decode() for k in (CONSENT_EVENT, DATA_ACCESS)}


def canonical(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def link_hash(prev_hash: str, seq: int, time: float, kind: str, record: str) -> str:
    head, tail = message_parts(time, kind, record)
    return hashlib.sha256(f"{prev_hash}{head}{seq}{tail}".encode()).hexdigest()


def message_parts(time: float, kind: str, record: str) -> tuple[str, str]:
    """The canonical JSON a link's hash covers after the previous hash, cut around ``seq``:
    the one place its layout is written (PostgreSQL completes it in SQL, where the seq is
    known: ``authz.store.postgres``). Keys in sorted order, record spliced in verbatim: equal
    to canonical() of the whole entry."""
    kind_json = _KINDS.get(kind) or orjson.dumps(kind).decode()
    head = f'{{"kind":{kind_json},"record":{record},"seq":'
    return head, f',"time":{orjson.dumps(time).decode()}}}'


def link(prev_seq: int, prev_hash: str, items: Iterable[Item]) -> Iterator[TrailEntry]:
    """The links that follow (prev_seq, prev_hash), one per item, in order."""
    for row in link_rows(prev_seq, prev_hash, items):
        yield TrailEntry(*row)


def link_rows(prev_seq: int, prev_hash: str, items: Iterable[Item]) -> list[Row]:
    """``link`` as plain ``(seq, time, kind, record, prev_hash, hash)`` tuples, the columns of
    a stored link, for a store that only inserts them (no TrailEntry built per audit event)."""
    seq, last = prev_seq, prev_hash
    rows: list[Row] = []
    for time, kind, record in items:
        seq += 1
        digest = link_hash(last, seq, time, kind, record)
        rows.append((seq, time, kind, record, last, digest))
        last = digest
    return rows


def consent_item(
    event: ConsentEvent, *, client_id: str, customer_id: str, status: str, version: int
) -> Item:
    """A consent event as linked: the event and the consent it left behind."""
    record = {
        "consent_id": event.consent_id,
        "time": event.time,
        "event": event.event,
        "actor": event.actor,
        "reason": event.reason,
        "detail": event.detail,
        "client_id": client_id,
        "customer_id": customer_id,
        "status": status,
        "version": version,
    }
    if event.initiator is not None:  # absent otherwise, so links made before it hash the same
        record["initiator"] = event.initiator
    return event.time, CONSENT_EVENT, canonical(record)


def consent_item_of(consent: Consent, event: ConsentEvent) -> Item:
    return consent_item(
        event,
        client_id=consent.client_id,
        customer_id=consent.customer_id,
        status=consent.status.value,
        version=consent.version,
    )


def access_item(e: AuditEvent) -> Item:
    record = {
        "id": e.id,
        "time": e.time,
        "consent_id": e.consent_id,
        "client_id": e.client_id,
        "customer_id": e.customer_id,
        "endpoint": e.endpoint,
        "account_ids": list(e.account_ids),
        "clusters": list(e.clusters),
        "record_count": e.record_count,
        "status": e.status,
        "interaction_id": e.interaction_id,
    }
    return e.time, DATA_ACCESS, canonical(record)

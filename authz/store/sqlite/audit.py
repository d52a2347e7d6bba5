"""Data accesses and the hash-chained audit trail in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authz.records import AuditEvent, TrailAnchor, TrailEntry
from authz.store import chain
from authz.store.sqlite.connection import SqliteDb, to_json
from authz.store.sqlite.links import audit_event, link

_INSERT = (
    "INSERT INTO audit_events (id, time, consent_id, client_id, customer_id, endpoint,"
    " account_ids, clusters, record_count, status, interaction_id)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OF_CONSENT = (
    "SELECT id, time, consent_id, client_id, customer_id, endpoint, account_ids, clusters,"
    " record_count, status, interaction_id FROM audit_events WHERE consent_id = ?"
    " ORDER BY time, rowid"
)


class SqliteAudit:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def append(self, events: Sequence[AuditEvent]) -> None:
        """One transaction per batch, appended in order (the audit trail is append-only)."""
        if not events:
            return
        links = [chain.access_item(e) for e in events]  # hashed inside, encoded out here
        with self._db.tx() as db:
            db.executemany(
                _INSERT,
                [
                    (
                        e.id,
                        e.time,
                        e.consent_id,
                        e.client_id,
                        e.customer_id,
                        e.endpoint,
                        to_json(list(e.account_ids)),
                        to_json(list(e.clusters)),
                        e.record_count,
                        e.status,
                        e.interaction_id,
                    )
                    for e in events
                ],
            )
            link(db, links)

    async def of_consent(self, consent_id: str) -> list[AuditEvent]:
        return [audit_event(r) for r in self._db.all(_OF_CONSENT, (consent_id,))]

    async def count_audit_statuses(
        self, start: float, end: float, endpoint: str | None = None
    ) -> dict[int, int]:
        """Data accesses recorded in [start, end), of ``endpoint`` if given, by HTTP status
        (gateway/response_rate.py)."""
        rows = self._db.all(
            "SELECT status, count(*) FROM audit_events WHERE time >= ? AND time < ?"
            " AND (? IS NULL OR endpoint = ?) GROUP BY status",
            (start, end, endpoint, endpoint),
        )
        return {int(status): int(n) for status, n in rows}

    async def trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        sql = "SELECT seq, time, kind, record, prev_hash, hash FROM trail WHERE seq > ?"
        params: list[Any] = [after_seq]
        if start is not None:
            sql += " AND time >= ?"
            params.append(start)
        if end is not None:
            sql += " AND time < ?"
            params.append(end)
        sql += " ORDER BY seq LIMIT ?"
        params.append(limit)
        return [TrailEntry(*r) for r in self._db.all(sql, tuple(params))]

    async def anchor(self) -> TrailAnchor | None:
        row = self._db.one("SELECT seq, time, hash FROM trail_anchor WHERE id = 1", ())
        return None if row is None else TrailAnchor(*row)

    async def prune(self, before: float) -> int:
        with self._db.tx() as db:
            first_kept = db.execute(
                "SELECT min(seq) FROM trail WHERE time >= ?", (before,)
            ).fetchone()[0]
            if first_kept is None:
                first_kept = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM trail").fetchone()[0]
            last = db.execute(
                "SELECT seq, time, hash FROM trail WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                (first_kept,),
            ).fetchone()
            if last is not None:
                db.execute(
                    "INSERT OR REPLACE INTO trail_anchor (id, seq, time, hash) VALUES (1, ?, ?, ?)",
                    last,
                )
            pruned = db.execute("DELETE FROM trail WHERE seq < ?", (first_kept,)).rowcount
            db.execute("DELETE FROM audit_events WHERE time < ?", (before,))
            return int(pruned)

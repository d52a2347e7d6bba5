"""The access log a consumer and the bank read later: one event per data access, granted or
denied (12 CFR 1033.351: records of requests, responses and denials), written before the data
leaves so no access goes unrecorded.

Writes are group-committed (``authz.store.batch.Batcher``): every request that reaches
``record`` in the same turn of the event loop joins one batch, written in one transaction, and
each waits until its batch is stored. So data is still never served before its audit record is
durable, but under load one commit serves many requests instead of one each (docs/performance.md:
"audit events are written in batches"). A batch that cannot be stored fails every request in it.

One batch is in flight at a time: requests that arrive while a batch is being written join the
next one, which is written as soon as the first is stored. On PostgreSQL a batch is a transaction
that waits for the trail's lock and for its commit to reach the disk, so writing batches side by
side only made them queue for the lock, each one small; one after another they grow with the
load instead (PostgreSQL + Redis, 16 connections: server CPU per request 1.7 → 1.1 ms, see
docs/performance.md). A lone request is written at once, as before.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable

from authz.store.base import Audit, AuditEvent
from authz.store.batch import Batcher
from gateway.access import AccessContext

MAX_BATCH = 128  # events a batch carries at most (one transaction, one trail lock)


class AuditLog:
    def __init__(self, audit: Audit, clock: Callable[[], float]) -> None:
        self._audit = audit
        self._clock = clock
        # Bounded: after a stall (PostgreSQL restarting) thousands of events may be waiting, and
        # a batch is one transaction holding the trail's lock, whose links PostgreSQL hashes in
        # a recursive query that grows faster than the batch (1,000 events: 125 ms; 3,000: ~1 s).
        self._writes = Batcher[AuditEvent, None](self._store, max_items=MAX_BATCH)

    async def record(
        self,
        ctx: AccessContext,
        endpoint: str,
        account_ids: Iterable[str],
        clusters: Iterable[str],
        record_count: int,
        status: int,
    ) -> AuditEvent:
        event = AuditEvent(
            id=secrets.token_hex(16),
            time=self._clock(),
            consent_id=ctx.consent.id,
            client_id=ctx.claims.client_id,
            customer_id=ctx.customer_id,
            endpoint=endpoint,
            account_ids=tuple(account_ids),
            clusters=tuple(sorted(clusters)),
            record_count=record_count,
            status=status,
            interaction_id=ctx.interaction_id,
        )
        await self._writes.submit(event)
        return event

    async def _store(self, batch: list[AuditEvent]) -> list[None]:
        await self._audit.append(batch)
        return [None] * len(batch)

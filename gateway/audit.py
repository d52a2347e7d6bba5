"""The access log a consumer and the bank read later: one event per data access, granted or
denied (12 CFR 1033.351: records of requests, responses and denials), written before the data
leaves so no access goes unrecorded."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable

from authz.store.base import AuditEvent, RecordStore
from gateway.access import AccessContext


class AuditLog:
    def __init__(self, records: RecordStore, clock: Callable[[], float]) -> None:
        self._records = records
        self._clock = clock

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
            id=str(uuid.uuid4()),
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
        await self._records.append_audit([event])
        return event

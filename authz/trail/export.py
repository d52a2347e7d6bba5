"""Exports of the record: the bank's by date range, and one consumer's own.

``export_range`` yields the trail's links in ``[start, end)`` as JSON-ready dicts (the record
parsed, the hashes kept so an auditor can check them). ``export_customer`` gathers one
consumer's consents with their history and data accesses, for the consumer portal's
download; it reads the stores, not the trail, so it shows exactly what the portal shows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson

from authz.consent.model import Consent
from authz.store.base import AuditEvent, Records

PAGE = 5000


async def export_range(
    records: Records, start: float, end: float, *, page: int = PAGE
) -> AsyncIterator[dict[str, Any]]:
    """Every link with ``start <= time < end``, in chain order."""
    after = 0
    while True:
        entries = await records.audit.trail(after_seq=after, limit=page, start=start, end=end)
        for e in entries:
            yield {
                "seq": e.seq,
                "time": timestamp(e.time),
                "kind": e.kind,
                "record": orjson.loads(e.record),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
        if len(entries) < page:
            return
        after = entries[-1].seq


async def export_customer(
    records: Records, customer_id: str, *, now: float | None = None
) -> dict[str, Any]:
    """One consumer's consents (FDX ConsentGrant plus recipient and purpose), each with its
    history and every data access made under it, newest consent first."""
    consents = await records.consents.find(customer_id=customer_id)
    body: dict[str, Any] = {"customerId": customer_id, "consents": []}
    if now is not None:
        body["exportedAt"] = timestamp(now)
    for consent in consents:
        body["consents"].append(await _consent(records, consent))
    return body


async def _consent(records: Records, consent: Consent) -> dict[str, Any]:
    client = await records.clients.get(consent.client_id)
    events = await records.consents.events(consent.id)
    accesses = await records.audit.of_consent(consent.id)
    return {
        "consent": consent.to_fdx(),
        "recipient": {
            "clientId": consent.client_id,
            "name": client.client_name if client is not None else None,
        },
        "purpose": consent.purpose,
        "history": [
            {
                "time": timestamp(e.time),
                "event": e.event,
                "actor": e.actor,
                "reason": e.reason,
            }
            for e in events
        ],
        "accesses": [_access(a) for a in accesses],
    }


def _access(a: AuditEvent) -> dict[str, Any]:
    return {
        "time": timestamp(a.time),
        "endpoint": a.endpoint,
        "accountIds": list(a.account_ids),
        "dataClusters": list(a.clusters),
        "recordCount": a.record_count,
        "status": a.status,
        "interactionId": a.interaction_id,
    }


def timestamp(ts: float) -> str:
    """ISO 8601 in UTC with milliseconds (FDX date-time)."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

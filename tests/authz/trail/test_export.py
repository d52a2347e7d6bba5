"""Exports: the bank's by date range, and one consumer's consents with history and accesses."""

from __future__ import annotations

import pytest

from authz.consent.model import ConsentStatus
from authz.store.base import Records
from authz.store.memory import memory_records
from authz.trail import export_customer, export_range
from tests.contracts.test_record_store import T0, audit, client, consent, event

pytestmark = pytest.mark.anyio


async def _store() -> Records:
    store = memory_records()
    await store.clients.put(client())
    await store.consents.create(consent(), event(at=T0))
    await store.consents.create(consent("other", customer_id="customer-2"), event("other", at=T0))
    await store.audit.append([audit("a1", at=T0 + 1), audit("a2", at=T0 + 2)])
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 3)
    await store.consents.update(revoked, event(name="revoked", at=T0 + 3), expected_version=1)
    return store


async def test_export_range_yields_links_in_the_range_with_hashes() -> None:
    """[start, end): the records parsed, the hashes kept, in chain order."""
    store = await _store()

    lines = [line async for line in export_range(store, T0 + 1, T0 + 3, page=1)]

    assert [line["seq"] for line in lines] == [3, 4]
    assert [line["record"]["id"] for line in lines] == ["a1", "a2"]
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    assert lines[0]["time"] == "2023-11-14T22:13:21.000Z"


async def test_export_customer_holds_only_that_consumers_consents() -> None:
    """Consent (FDX), recipient, history and accesses of the one customer asked for."""
    store = await _store()

    body = await export_customer(store, "customer-1", now=T0 + 10)

    assert body["customerId"] == "customer-1"
    assert body["exportedAt"] == "2023-11-14T22:13:30.000Z"
    [only] = body["consents"]
    assert only["consent"]["id"] == "consent-1"
    assert only["consent"]["status"] == "REVOKED"
    assert only["recipient"] == {"clientId": "client-1", "name": "Budget App"}
    assert [h["event"] for h in only["history"]] == ["granted", "revoked"]
    assert [a["interactionId"] for a in only["accesses"]] == ["i-a1", "i-a2"]

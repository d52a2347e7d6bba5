"""Records contract: the counts read by /metrics and the §1033 figures, over every store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authz.consent.model import ConsentStatus
from authz.store.base import Records
from gateway.response_rate import audit_counts
from tests.contracts.test_record_store import T0, audit, consent, event

pytestmark = pytest.mark.anyio


async def test_active_consents_count_only_active_and_unexpired_ones(records: Records) -> None:
    """REVOKED ones and ACTIVE ones past their expiry are not active; the rest are."""
    await records.consents.create(consent("live-1"), event("live-1"))
    await records.consents.create(consent("live-2"), event("live-2"))
    await records.consents.create(consent("ended"), event("ended"))
    ended = consent("ended")
    await records.consents.update(
        replace(ended, status=ConsentStatus.REVOKED, version=2),
        event("ended", "revoked"),
        expected_version=1,
    )
    soon = replace(consent("soon"), expires_at=T0 + 10)
    await records.consents.create(soon, event("soon"))

    assert 3 == await records.consents.count_active(T0)
    assert 2 == await records.consents.count_active(T0 + 10)


async def test_an_empty_store_has_no_active_consents(records: Records) -> None:
    """Zero, not None or an error, before anyone consented."""
    assert 0 == await records.consents.count_active(T0)


async def test_audit_events_are_counted_by_status_within_a_time_range(
    records: Records,
) -> None:
    """[start, end): the start is in, the end is out; each status has its own count."""
    await records.audit.append(
        [
            audit("a1", at=T0),
            replace(audit("a2", at=T0 + 5), status=404),
            replace(audit("a3", at=T0 + 9), status=503),
            audit("a4", at=T0 + 10),
        ]
    )

    counts = audit_counts(records.audit)

    assert {200: 1, 404: 1, 503: 1} == await counts.count_audit_statuses(T0, T0 + 10)
    assert {503: 1, 200: 1} == await counts.count_audit_statuses(T0 + 9, T0 + 11)
    assert {} == await counts.count_audit_statuses(T0 + 20, T0 + 30)


async def test_audit_events_are_counted_for_one_endpoint(records: Records) -> None:
    """With an endpoint, only its accesses: the figures of one FDX operation."""
    await records.audit.append(
        [
            audit("b1", at=T0),
            replace(audit("b2", at=T0 + 1), endpoint="GET /accounts", status=500),
        ]
    )

    counts = audit_counts(records.audit)

    assert {500: 1} == await counts.count_audit_statuses(T0, T0 + 10, "GET /accounts")
    assert {200: 1} == await counts.count_audit_statuses(
        T0, T0 + 10, "GET /accounts/{accountId}/transactions"
    )
    assert {} == await counts.count_audit_statuses(T0, T0 + 10, "GET /customers/current")

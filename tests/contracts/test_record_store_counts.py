"""Records contract: the counts read by the metrics endpoint, over every implementation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authz.consent.model import ConsentStatus
from authz.store.base import Records
from tests.contracts.test_record_store import T0, consent, event

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

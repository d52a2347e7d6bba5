"""The Records contract for the audit trail: every stored consent event and data access is
linked into one hash chain, in order, and retention keeps the chain verifiable."""

from __future__ import annotations

import orjson
import pytest

from authz.consent.model import ConsentStatus
from authz.store.base import Records, TrailEntry
from authz.store.chain import GENESIS, link_hash
from tests.contracts.test_record_store import T0, audit, consent, event

pytestmark = pytest.mark.anyio


def _holds(entries: list[TrailEntry], start_seq: int = 0, start_hash: str = GENESIS) -> bool:
    seq, prev = start_seq, start_hash
    for e in entries:
        if e.seq != seq + 1 or e.prev_hash != prev:
            return False
        if link_hash(prev, e.seq, e.time, e.kind, e.record) != e.hash:
            return False
        seq, prev = e.seq, e.hash
    return True


async def test_an_empty_store_has_no_trail_and_no_anchor(records: Records) -> None:
    """Nothing stored, nothing linked."""
    assert await records.audit.trail() == []
    assert await records.audit.anchor() is None


async def test_every_consent_write_and_access_is_linked_in_order(records: Records) -> None:
    """create, update, consents.append_event and audit.append each add links, from genesis."""
    await records.consents.create(consent(), event())
    await records.audit.append([audit("a1", at=T0 + 1), audit("a2", at=T0 + 2)])
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 3)
    await records.consents.update(revoked, event(name="revoked", at=T0 + 3), expected_version=1)
    await records.consents.append_event(event(name="replay_seen", at=T0 + 4))

    trail = await records.audit.trail()

    assert [e.kind for e in trail] == [
        "consent_event",
        "data_access",
        "data_access",
        "consent_event",
        "consent_event",
    ]
    assert [e.seq for e in trail] == [1, 2, 3, 4, 5]
    assert _holds(trail)
    last = orjson.loads(trail[-1].record)
    assert (last["event"], last["status"], last["version"]) == ("replay_seen", "REVOKED", 2)


async def test_a_refused_write_adds_no_link(records: Records) -> None:
    """A stale update and an event for an unknown consent leave the trail as it was."""
    await records.consents.create(consent(), event())
    stale = consent().with_status(ConsentStatus.REVOKED, T0 + 1)
    await records.consents.update(stale, event(name="revoked"), expected_version=1)
    assert not await records.consents.update(
        stale.with_status(ConsentStatus.REVOKED, T0 + 2), event(name="x"), expected_version=1
    )
    with pytest.raises(ValueError, match="unknown consent"):
        await records.consents.append_event(event("nobody"))
    assert len(await records.audit.trail()) == 2


async def test_list_trail_pages_and_filters_by_time(records: Records) -> None:
    """after_seq and limit page through; start and end select [start, end)."""
    await records.audit.append([audit(f"a{i}", at=T0 + i) for i in range(10)])

    page = await records.audit.trail(after_seq=3, limit=4)
    ranged = await records.audit.trail(start=T0 + 2, end=T0 + 5)

    assert [e.seq for e in page] == [4, 5, 6, 7]
    assert [e.time for e in ranged] == [T0 + 2, T0 + 3, T0 + 4]


async def test_prune_keeps_an_anchor_the_rest_verifies_from(records: Records) -> None:
    """Links before the cutoff go (with their accesses); the anchor is the last one pruned."""
    await records.consents.create(consent(), event(at=T0))
    await records.audit.append([audit(f"a{i}", at=T0 + i) for i in range(1, 6)])
    before = await records.audit.trail()

    pruned = await records.audit.prune(T0 + 3)

    kept = await records.audit.trail()
    anchor = await records.audit.anchor()
    assert pruned == 3
    assert anchor is not None
    assert (anchor.seq, anchor.hash) == (before[2].seq, before[2].hash)
    assert [e.seq for e in kept] == [4, 5, 6]
    assert _holds(kept, anchor.seq, anchor.hash)
    assert [a.id for a in await records.audit.of_consent("consent-1")] == ["a3", "a4", "a5"]


async def test_links_after_a_prune_of_everything_follow_the_anchor(records: Records) -> None:
    """Pruning the whole trail leaves the anchor; the next link chains from it."""
    await records.audit.append([audit("a1", at=T0), audit("a2", at=T0 + 1)])
    assert await records.audit.prune(T0 + 100) == 2
    anchor = await records.audit.anchor()
    assert anchor is not None

    await records.audit.append([audit("a3", at=T0 + 200)])

    kept = await records.audit.trail()
    assert [e.seq for e in kept] == [3]
    assert _holds(kept, anchor.seq, anchor.hash)


async def test_pruning_nothing_keeps_no_anchor(records: Records) -> None:
    """A cutoff before every link deletes nothing and sets no anchor."""
    await records.audit.append([audit("a1", at=T0)])
    assert await records.audit.prune(T0 - 1) == 0
    assert await records.audit.anchor() is None
    assert len(await records.audit.trail()) == 1

"""The gate's cache (authz/store/live.py) across a loss of the stamp store, with fake stamps and a
fake version source whose reply can be held back: the interleavings a real Redis gives only by
chance are set up here step by step."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import replace

import pytest

from authz.records import ConsentStatus
from authz.store.base import Stored
from authz.store.live import LiveConsents, consent_stamp
from tests.contracts.test_record_store import consent

pytestmark = pytest.mark.anyio

CONSENT = consent()
REVOKED = replace(CONSENT, status=ConsentStatus.REVOKED, version=CONSENT.version + 1)


class Source:
    """The stored consent; ``hold`` makes the next read answer with what was stored when it
    started, but only once the event is set (a late reply)."""

    def __init__(self) -> None:
        self.stored = CONSENT
        self.hold: asyncio.Event | None = None

    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        now, gate, self.hold = self.stored, self.hold, None
        if gate is not None:
            await gate.wait()
        document = None if held[now.id] == now.version else now.to_dict()
        return {now.id: Stored(now.version, document, "approved")}


class FakeStamps:
    def __init__(self) -> None:
        self.epoch = 0
        self.data: dict[str, str] = {}

    async def read(self, names: Sequence[str]) -> list[str]:
        return [self.data.setdefault(n, f"first-{n}") for n in names]

    async def write(self, names: Sequence[str], value: str) -> None:
        for n in names:
            self.data[n] = value


async def test_an_entry_filled_before_the_stamps_were_lost_is_not_trusted_after() -> None:
    source, stamps = Source(), FakeStamps()
    live = LiveConsents(source, stamps=stamps)
    await live.live(CONSENT.id)
    await live.live(CONSENT.id)  # cached under the first stamps
    stamps.data[consent_stamp(CONSENT.id)] = "S1"  # an earlier change moves the stamp
    before_loss = dict(stamps.data)
    source.hold = gate = asyncio.Event()
    late = asyncio.create_task(live.live(CONSENT.id))  # reads S1, then the database (active)
    await asyncio.sleep(0)
    # Another instance revokes: pending stamp, commit, fresh stamp, acknowledged.
    stamps.data[consent_stamp(CONSENT.id)] = "pending:x"
    source.stored = REVOKED
    stamps.data[consent_stamp(CONSENT.id)] = "S2"
    # The stamp store comes back from a snapshot older than the revocation's stamps.
    stamps.data = before_loss
    stamps.epoch += 1
    after = await live.live(CONSENT.id)  # sees the epoch move, clears, reads the database
    assert after is not None
    assert after.consent.status is ConsentStatus.REVOKED
    gate.set()
    await late  # the late reply (active, read under S1) is stored after the clearing
    again = await live.live(CONSENT.id)  # the restored S1 must not vouch for it
    assert again is not None
    assert again.consent.status is ConsentStatus.REVOKED

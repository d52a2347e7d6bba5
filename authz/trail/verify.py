"""Recompute the audit trail's hash chain and name the first link that does not hold.

The chain (``authz.store.chain``) starts at ``GENESIS``, or after a retention prune at the
anchor. A link holds when its seq follows the previous one, its ``prev_hash`` is the previous
link's hash, and its ``hash`` is what its content hashes to. An edited link fails its own hash;
a removed one breaks the link after the gap; a rewritten tail is caught only against a head hash
kept elsewhere, which is why the report gives the head (``Verification.head``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from authz.store.base import Records, TrailEntry
from authz.store.chain import GENESIS, link_hash

PAGE = 5000


@dataclass(frozen=True, slots=True)
class Broken:
    seq: int
    time: float
    kind: str
    reason: str  # "hash mismatch", "prev_hash mismatch", "missing link before it"


@dataclass(frozen=True, slots=True)
class Verification:
    count: int  # links checked
    head: str  # the last good hash (GENESIS or the anchor when there are none)
    anchored: bool  # started from a retention anchor, not from genesis
    broken: Broken | None = None

    @property
    def ok(self) -> bool:
        return self.broken is None


async def verify_chain(
    records: Records,
    *,
    page: int = PAGE,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Check every link, oldest first; stop at the first that does not hold.
    ``progress(count)`` is called after each page, for long runs."""
    anchor = await records.audit.anchor()
    seq, prev = (anchor.seq, anchor.hash) if anchor is not None else (0, GENESIS)
    count = 0
    while True:
        entries = await records.audit.trail(after_seq=seq, limit=page)
        for entry in entries:
            reason = _fault(entry, seq, prev)
            if reason is not None:
                broken = Broken(entry.seq, entry.time, entry.kind, reason)
                return Verification(count, prev, anchor is not None, broken)
            seq, prev = entry.seq, entry.hash
            count += 1
        if progress is not None and entries:
            progress(count)
        if len(entries) < page:
            return Verification(count, prev, anchor is not None)


def _fault(entry: TrailEntry, prev_seq: int, prev_hash: str) -> str | None:
    if entry.seq != prev_seq + 1:
        return "missing link before it"
    if entry.prev_hash != prev_hash:
        return "prev_hash mismatch"
    if link_hash(prev_hash, entry.seq, entry.time, entry.kind, entry.record) != entry.hash:
        return "hash mismatch"
    return None

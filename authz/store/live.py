"""The freshness rule of the FDX gate, written once for every backend.

The product's promise is that a revoked consent stops the very next request: a change to a
consent (or a recipient's suspension) acknowledged to any writer, in any process, before a
request's check began is seen by that check. Parsing a consent's document costs more than
reading it, so each process keeps the consents it parsed; the rule is what makes that safe:

- nothing is served from the cache without a read that starts after the question was asked:
  of the stored version (``ConsentVersions.versions``, each backend's one narrow primitive), or,
  where a shared ``Stamps`` store is configured, of the consent's and its recipient's stamps;
- a cached copy is served only when that read found the same version (writers raise the version
  on every change: ``Consents.update``), or the same stamps it was cached under; the recipient's
  status comes from the same read as the consent;
- a consent the read did not find is forgotten.

Stamps (``authz.store.stamped``) take the database off the common request: every writer of a
consent or a client sets a *pending* stamp before its commit and a fresh random one after it,
before the change is acknowledged. A cached entry remembers the stamps read *before* the
database read that filled it, so a change committed after that read moves the stamps and the
next question reads the database again; a pending stamp is never trusted (the writer may have
committed and died before its second stamp). Redis stamps are random, never counted, so a stamp
store that lost its data (a restart, a failover) cannot hand back a stamp an entry was cached
under; SQLite's (``authz.store.sqlite.stamps``) are the file's own count of other connections'
commits beside this process's count of its own changes, and hold while its connection does; and
whenever the stamp store was lost or its connections were made anew, every entry is dropped all
the same. An entry also records the epoch its stamps were read in and is trusted only in
that epoch: a read that began before the loss may store its entry after the clearing, and a
stamp store restored from an old snapshot can hand back the very stamps it was filled under.
When the stamps cannot be read the question goes to the database.

Backends answer the primitive as cheaply as they can (an indexed select on SQLite, one batched
query for many requests on PostgreSQL, a dict in memory); none keeps a cache of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from authz.records import Consent
from authz.store.base import LiveConsent, StateUnavailable, Stored

_CACHED = 10_000  # parsed consents kept per process (~2 kB each)
PENDING = "pending:"  # a stamp a writer set before its commit: never trusted


class ConsentVersions(Protocol):
    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        """For each asked consent id (mapped to the version the caller holds, -1 for none): what
        is stored now, read by a statement that starts after this call was made. Ids that are
        not stored are absent from the answer."""


class Stamps(Protocol):
    """Shared, fast stamps (Redis): one random value per consent and per client."""

    @property
    def epoch(self) -> int:
        """Moves whenever the stamps may have been lost: a failure, a new connection."""

    async def read(self, names: Sequence[str]) -> list[str]:
        """The current stamp of each name, read after the call; a name without one gets a
        fresh random stamp (set only if still absent), which is returned."""

    async def write(self, names: Sequence[str], value: str) -> None:
        """Set each name's stamp to ``value``."""


def consent_stamp(consent_id: str) -> str:
    return f"consent:{consent_id}"


def client_stamp(client_id: str) -> str:
    return f"client:{client_id}"


@dataclass(frozen=True, slots=True)
class _Entry:
    live: LiveConsent
    stamps: tuple[str, str] | None  # (consent, client) as read before the filling read
    epoch: int  # the stamp store's epoch those stamps were read in


class LiveConsents:
    """``Consents.live`` over a backend's ``versions``, with the per-process parsed cache, and
    over ``stamps`` when given."""

    def __init__(
        self, source: ConsentVersions, *, stamps: Stamps | None = None, size: int = _CACHED
    ) -> None:
        self._source = source
        self._stamps = stamps
        self._size = size
        self._entries: dict[str, _Entry] = {}
        self._epoch = stamps.epoch if stamps is not None else 0

    async def live(self, consent_id: str) -> LiveConsent | None:
        entry = self._entries.get(consent_id)
        stamps: tuple[str, str] | None = None
        epoch = self._epoch
        if self._stamps is not None and entry is not None:
            # Asked before any other await, so it joins the pipeline of this turn's other Redis
            # commands (the gate's revoked-token read).
            stamps = await self._read_stamps(consent_id, entry.live.consent.client_id)
            epoch = self._epoch
            entry = self._entries.get(consent_id)  # dropped meanwhile if the epoch moved
            # An entry is trusted only under the epoch its stamps were read in: one filled from
            # stamps read before the stamp store was lost may be stored after the cache was
            # cleared for the new epoch, and a restored old stamp must not vouch for it.
            if (
                entry is not None
                and stamps is not None
                and entry.epoch == epoch
                and entry.stamps == stamps
            ):
                return entry.live
        return await self._read(consent_id, entry, stamps, epoch)

    async def _read_stamps(self, consent_id: str, client_id: str) -> tuple[str, str] | None:
        assert self._stamps is not None
        try:
            read = await self._stamps.read([consent_stamp(consent_id), client_stamp(client_id)])
        except StateUnavailable:
            read = None
        if self._stamps.epoch != self._epoch:  # lost or reconnected: nothing cached is trusted
            self._epoch = self._stamps.epoch
            self._entries.clear()
            return None
        if read is None or any(s.startswith(PENDING) for s in read):
            return None
        return read[0], read[1]

    async def _read(
        self, consent_id: str, entry: _Entry | None, stamps: tuple[str, str] | None, epoch: int
    ) -> LiveConsent | None:
        held = entry.live.consent if entry is not None else None
        found = await self._source.versions({consent_id: -1 if held is None else held.version})
        stored = found.get(consent_id)
        if stored is None:
            self._entries.pop(consent_id, None)
            return None
        if stored.document is not None:
            consent = Consent.from_dict(stored.document)
        elif held is not None and held.version == stored.version:
            consent = held
        else:  # the primitive owes a document for a version the caller does not hold
            raise RuntimeError(f"versions() answered {consent_id} without its document")
        live = LiveConsent(consent, stored.recipient_status)
        if self._stamps is not None and self._stamps.epoch != epoch:
            stamps = None  # the epoch moved during the read: these stamps vouch for nothing
        self._remember(consent_id, _Entry(live, stamps, epoch))
        return live

    def forget(self) -> None:
        """Drop every parsed consent (the next questions read afresh)."""
        self._entries.clear()

    def _remember(self, consent_id: str, entry: _Entry) -> None:
        if consent_id not in self._entries and len(self._entries) >= self._size:
            self._entries.pop(next(iter(self._entries)))
        self._entries[consent_id] = entry


__all__ = [
    "PENDING",
    "ConsentVersions",
    "LiveConsents",
    "Stamps",
    "Stored",
    "client_stamp",
    "consent_stamp",
]

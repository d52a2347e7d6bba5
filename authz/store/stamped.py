"""Record families whose changes move shared stamps, so the gate can trust its cache
(``authz.store.live``) without a database read on every request.

Every write that can change what the gate answers (a consent's update, a client's put) goes
``pending`` stamp → the write → a fresh random stamp, and only then returns (is acknowledged):

- the pending stamp is set before the commit, and a failure to set it fails the write before
  anything is stored (503: nothing was acknowledged, nothing changed);
- after the commit the fresh stamp replaces it; if that fails (the stamp store went away
  meanwhile, the process died) the pending stamp stays, and readers, who never trust a pending
  stamp, read the database until the next write of that consent or client stamps it afresh.
  So the write is acknowledged all the same: the gate sees it.

Every writer must go through these families: ``authz.store.open_records`` wraps a backend's
families whenever it is given stamps, and the gateway, its CLI and its admin commands open the
record store that way (``gateway.app.build_services``, ``gateway.cli``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import replace

from authz.records import ClientRecord, Consent, ConsentEvent
from authz.store.base import Clients, Consents, LiveConsent, Records
from authz.store.live import PENDING, LiveConsents, Stamps, Stored, client_stamp, consent_stamp


def with_stamps(records: Records, stamps: Stamps) -> Records:
    """``records`` whose consent and client writes move ``stamps`` and whose ``live`` trusts
    them."""
    return replace(
        records,
        consents=StampedConsents(records.consents, stamps),
        clients=StampedClients(records.clients, stamps),
    )


async def _changing(stamps: Stamps, names: Sequence[str]) -> str:
    """Mark ``names`` pending (before a write); returns the fresh stamp to set after it."""
    await stamps.write(names, PENDING + secrets.token_hex(8))
    return secrets.token_hex(16)


async def _changed(stamps: Stamps, names: Sequence[str], fresh: str) -> None:
    try:
        await stamps.write(names, fresh)
    except Exception:
        return


class StampedConsents:
    def __init__(self, inner: Consents, stamps: Stamps) -> None:
        self._inner = inner
        self._stamps = stamps
        self._live = LiveConsents(inner, stamps=stamps)

    async def live(self, consent_id: str) -> LiveConsent | None:
        return await self._live.live(consent_id)

    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        return await self._inner.versions(held)

    async def update(self, consent: Consent, event: ConsentEvent, *, expected_version: int) -> bool:
        names = [consent_stamp(consent.id)]
        fresh = await _changing(self._stamps, names)
        try:
            return await self._inner.update(consent, event, expected_version=expected_version)
        finally:
            await _changed(self._stamps, names, fresh)

    async def create(self, consent: Consent, event: ConsentEvent) -> None:
        await self._inner.create(consent, event)  # nobody holds a stamp of a new consent

    async def get(self, consent_id: str) -> Consent | None:
        return await self._inner.get(consent_id)

    async def find(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        return await self._inner.find(customer_id=customer_id, client_id=client_id)

    async def events(self, consent_id: str) -> list[ConsentEvent]:
        return await self._inner.events(consent_id)

    async def append_event(self, event: ConsentEvent) -> None:
        await self._inner.append_event(event)

    async def expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        return await self._inner.expiring(before, limit=limit, after=after)

    async def count_active(self, now: float) -> int:
        return await self._inner.count_active(now)


class StampedClients:
    def __init__(self, inner: Clients, stamps: Stamps) -> None:
        self._inner = inner
        self._stamps = stamps

    async def put(self, client: ClientRecord) -> None:
        names = [client_stamp(client.client_id)]
        fresh = await _changing(self._stamps, names)
        try:
            await self._inner.put(client)
        finally:
            await _changed(self._stamps, names, fresh)

    async def get(self, client_id: str) -> ClientRecord | None:
        return await self._inner.get(client_id)

    async def status(self, client_id: str) -> str | None:
        return await self._inner.status(client_id)

    async def all(self) -> list[ClientRecord]:
        return await self._inner.all()


__all__ = ["StampedClients", "StampedConsents", "with_stamps"]

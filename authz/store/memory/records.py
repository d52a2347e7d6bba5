"""The record families in dicts: for tests, and ``memory://`` on a throwaway node.

Every method is ``async`` to match the seams but never awaits, so within one event loop each call
runs to completion without interleaving: that is what makes ``RefreshTokens.use`` atomic here.
Records are frozen dataclasses; clients (whose jwks/extra are dicts) are kept serialised so a
caller cannot reach into the store through a returned record. Integrity rules match the SQL
stores: ValueError for a duplicate consent id, or for an event or refresh token of a consent that
does not exist.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import orjson

from authz.records import (
    AuditEvent,
    ClientRecord,
    Consent,
    ConsentEvent,
    ConsentStatus,
    RefreshToken,
    TrailAnchor,
    TrailEntry,
)
from authz.store import chain
from authz.store.base import LiveConsent, Records
from authz.store.live import LiveConsents, Stored
from authz.store.memory.outbox import MemoryOutbox
from authz.store.memory.secrets import MemorySecrets


@dataclass(eq=False)
class _Data:
    """Everything stored, shared by the families (as the tables of one database are)."""

    clients: dict[str, bytes] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    consents: dict[str, tuple[int, Consent]] = field(default_factory=dict)  # id -> (seq, consent)
    events: dict[str, list[ConsentEvent]] = field(default_factory=dict)
    refresh: dict[str, RefreshToken] = field(default_factory=dict)
    audit: dict[str, list[AuditEvent]] = field(default_factory=dict)
    seq: itertools.count[int] = field(default_factory=itertools.count)
    trail: list[TrailEntry] = field(default_factory=list)
    anchor: TrailAnchor | None = None

    def link(self, items: list[chain.Item]) -> None:
        if self.trail:
            seq, prev = self.trail[-1].seq, self.trail[-1].hash
        elif self.anchor is not None:
            seq, prev = self.anchor.seq, self.anchor.hash
        else:
            seq, prev = 0, chain.GENESIS
        self.trail.extend(chain.link(seq, prev, items))


class MemorySchema:
    async def migrate(self) -> None:
        return None

    async def check(self) -> None:
        return None  # no schema to disagree with: a fresh store is ready for use


class MemoryClients:
    def __init__(self, data: _Data | None = None) -> None:
        self._d = data if data is not None else _Data()  # alone: a family of its own (tests)

    async def put(self, client: ClientRecord) -> None:
        self._d.clients[client.client_id] = orjson.dumps(client.to_dict())
        self._d.statuses[client.client_id] = client.status

    async def get(self, client_id: str) -> ClientRecord | None:
        raw = self._d.clients.get(client_id)
        return None if raw is None else ClientRecord.from_dict(orjson.loads(raw))

    async def status(self, client_id: str) -> str | None:
        return self._d.statuses.get(client_id)

    async def all(self) -> list[ClientRecord]:
        stored = self._d.clients
        return [ClientRecord.from_dict(orjson.loads(stored[k])) for k in sorted(stored)]


class MemoryConsents:
    def __init__(self, data: _Data | None = None) -> None:
        self._d = data if data is not None else _Data()  # alone: a family of its own (tests)
        self._live = LiveConsents(self)

    async def create(self, consent: Consent, event: ConsentEvent) -> None:
        if consent.id in self._d.consents:
            raise ValueError("consent already exists")
        self._d.consents[consent.id] = (next(self._d.seq), consent)
        self._d.events[consent.id] = [event]
        self._d.link([chain.consent_item_of(consent, event)])

    async def get(self, consent_id: str) -> Consent | None:
        row = self._d.consents.get(consent_id)
        return None if row is None else row[1]

    async def live(self, consent_id: str) -> LiveConsent | None:
        return await self._live.live(consent_id)

    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        found: dict[str, Stored] = {}
        for consent_id, version in held.items():
            row = self._d.consents.get(consent_id)
            if row is not None:
                c = row[1]
                document = None if c.version == version else c.to_dict()
                found[consent_id] = Stored(c.version, document, self._d.statuses.get(c.client_id))
        return found

    async def update(self, consent: Consent, event: ConsentEvent, *, expected_version: int) -> bool:
        if consent.version <= expected_version:
            raise ValueError("a consent update must raise its version")
        row = self._d.consents.get(consent.id)
        if row is None or row[1].version != expected_version:
            return False
        self._d.consents[consent.id] = (row[0], consent)
        self._d.events[consent.id].append(event)
        self._d.link([chain.consent_item_of(consent, event)])
        return True

    async def find(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        rows = [
            row
            for row in self._d.consents.values()
            if (customer_id is None or row[1].customer_id == customer_id)
            and (client_id is None or row[1].client_id == client_id)
        ]
        rows.sort(key=lambda r: (r[1].created_at, r[0]), reverse=True)
        return [c for _, c in rows]

    async def events(self, consent_id: str) -> list[ConsentEvent]:
        return sorted(self._d.events.get(consent_id, ()), key=lambda e: e.time)  # stable

    async def append_event(self, event: ConsentEvent) -> None:
        if event.consent_id not in self._d.consents:
            raise ValueError("event for an unknown consent")
        self._d.events[event.consent_id].append(event)
        self._d.link([chain.consent_item_of(self._d.consents[event.consent_id][1], event)])

    async def expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        rows = [
            c
            for _, c in self._d.consents.values()
            if c.status is ConsentStatus.ACTIVE
            and c.expires_at is not None
            and c.expires_at < before
            and (after is None or (c.expires_at, c.id) > after)
        ]
        rows.sort(key=lambda c: (c.expires_at or 0.0, c.id))
        return rows[:limit]

    async def count_active(self, now: float) -> int:
        return sum(1 for _, c in self._d.consents.values() if c.is_active(now))


class MemoryRefreshTokens:
    def __init__(self, data: _Data | None = None) -> None:
        self._d = data if data is not None else _Data()  # alone: a family of its own (tests)

    async def put(self, token: RefreshToken) -> None:
        if token.consent_id not in self._d.consents or token.token_hash in self._d.refresh:
            raise ValueError("refresh token for an unknown consent or reused hash")
        self._d.refresh[token.token_hash] = token

    async def get(self, token_hash: str) -> RefreshToken | None:
        return self._d.refresh.get(token_hash)

    async def use(self, token_hash: str, now: float) -> tuple[RefreshToken | None, bool]:
        token = self._d.refresh.get(token_hash)
        if token is None:
            return None, False
        if token.used_at is not None or token.revoked_at is not None:
            return token, False
        self._d.refresh[token_hash] = replace(token, used_at=now)
        return token, True

    async def revoke_all(self, consent_id: str, now: float) -> int:
        count = 0
        for h, token in self._d.refresh.items():
            if (
                token.consent_id == consent_id
                and token.revoked_at is None
                and token.used_at is None
            ):
                self._d.refresh[h] = replace(token, revoked_at=now)
                count += 1
        return count


class MemoryAudit:
    def __init__(self, data: _Data | None = None) -> None:
        self._d = data if data is not None else _Data()  # alone: a family of its own (tests)

    async def append(self, events: Sequence[AuditEvent]) -> None:
        for e in events:
            self._d.audit.setdefault(e.consent_id, []).append(e)
        self._d.link([chain.access_item(e) for e in events])

    async def of_consent(self, consent_id: str) -> list[AuditEvent]:
        rows = self._d.audit.get(consent_id, [])
        return sorted(rows, key=lambda e: e.time)  # stable: same time keeps insertion order

    async def trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        links = self._d.trail
        first = links[0].seq if links else 1
        found: list[TrailEntry] = []
        for entry in links[max(0, after_seq + 1 - first) :]:
            if (start is None or entry.time >= start) and (end is None or entry.time < end):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found

    async def anchor(self) -> TrailAnchor | None:
        return self._d.anchor

    async def count_audit_statuses(
        self, start: float, end: float, endpoint: str | None = None
    ) -> dict[int, int]:
        """Data accesses recorded in [start, end), of ``endpoint`` if given, by HTTP status
        (gateway/response_rate.py)."""
        out: dict[int, int] = {}
        for rows in self._d.audit.values():
            for e in rows:
                if start <= e.time < end and endpoint in (None, e.endpoint):
                    out[e.status] = out.get(e.status, 0) + 1
        return out

    async def prune(self, before: float) -> int:
        links = self._d.trail
        cut = next((i for i, e in enumerate(links) if e.time >= before), len(links))
        if cut:
            last = links[cut - 1]
            self._d.anchor = TrailAnchor(last.seq, last.time, last.hash)
            del links[:cut]
        for consent_id, rows in self._d.audit.items():
            self._d.audit[consent_id] = [e for e in rows if e.time >= before]
        return cut


def memory_records(clock: Callable[[], float] | None = None) -> Records:
    """A complete record store in dicts. ``clock`` is unused today; kept so ``open_records`` can
    pass one to every backend."""
    data = _Data()

    async def close() -> None:
        return None

    return Records(
        schema=MemorySchema(),
        clients=MemoryClients(data),
        consents=MemoryConsents(data),
        refresh_tokens=MemoryRefreshTokens(data),
        audit=MemoryAudit(data),
        outbox=MemoryOutbox(),  # no other family reads the outbox
        secrets=MemorySecrets(),  # nor the secrets
        closer=close,
    )

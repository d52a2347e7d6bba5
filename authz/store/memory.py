"""In-process stores: the default ``StateStore`` of a single node, and a ``RecordStore`` for tests.

Every method is ``async`` to match the seams but never awaits, so within one event loop each call
runs to completion without interleaving: that is what makes ``consume``, ``add_once`` and
``use_refresh_token`` atomic here. Payloads are kept as orjson bytes, as Redis would keep them, so a
caller can never mutate stored state through a returned dict and a non-JSON payload fails at once.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from authz.consent.model import Consent, ConsentEvent, ConsentStatus
from authz.store import chain
from authz.store.base import (
    AuditEvent,
    ClientRecord,
    Kind,
    NotificationDelivery,
    Payload,
    RefreshToken,
    TrailAnchor,
    TrailEntry,
)

_PURGE_PER_WRITE = 16  # expired entries dropped per write: amortised, so memory stays bounded


class MemoryStateStore:
    """Short-lived state in a dict keyed by (kind, key); expiry is checked on every read.

    Each entry is ``(value, expires_at)`` where value is a JSON payload (bytes) or, for ``incr``,
    an int. Expired entries are dropped lazily on read and a few at a time on every write, from a
    heap of expiry times, so a flood of never-read keys (e.g. assertion jtis) cannot grow memory
    beyond what is live within the longest TTL.

    Keys, entries and heap rows are tuples of strings and numbers only (the kind as its plain
    string value), which the garbage collector stops tracking: a DPoP replay cache of ~200,000
    live jtis (one per request over its TTL) otherwise made every full collection walk them all,
    a 40–60 ms stall every few seconds (the DPoP benchmark's p99, docs/performance.md).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._items: dict[tuple[str, str], tuple[Any, float]] = {}
        self._expiries: list[tuple[float, int, str, str]] = []
        self._seq = itertools.count()  # heap tie-break, so Kind/str are never compared

    # -------------------------------------------------------------------- StateStore

    async def put(self, kind: Kind, key: str, payload: Payload, *, ttl: float) -> None:
        self._set(kind, key, orjson.dumps(payload), ttl)

    async def get(self, kind: Kind, key: str) -> Payload | None:
        entry = self._live(kind, key)
        if entry is None:
            return None
        return _load(entry[0])

    async def consume(self, kind: Kind, key: str, *, at: float | None = None) -> Payload | None:
        entry = self._live(kind, key)
        if entry is None:
            return None
        before = _load(entry[0])
        after = dict(before)
        after.setdefault("consumed_at", self._clock() if at is None else at)
        # The entry keeps its expiry (StateStore.consume).
        self._items[(kind.value, key)] = (orjson.dumps(after), entry[1])
        return before

    async def add_once(self, kind: Kind, key: str, *, ttl: float) -> bool:
        if self._live(kind, key) is not None:
            return False
        self._set(kind, key, b"{}", ttl)
        return True

    async def delete(self, kind: Kind, key: str) -> None:
        self._items.pop((kind.value, key), None)

    async def incr(self, kind: Kind, key: str, *, ttl: float) -> int:
        entry = self._live(kind, key)
        if entry is None or not isinstance(entry[0], int):
            self._set(kind, key, 1, ttl)
            return 1
        count = entry[0] + 1
        self._items[(kind.value, key)] = (count, entry[1])
        return int(count)

    async def incr_many(self, kind: Kind, keys: Sequence[str], *, ttl: float) -> list[int]:
        return [await self.incr(kind, key, ttl=ttl) for key in keys]

    async def aclose(self) -> None:
        self._items.clear()
        self._expiries.clear()

    # -------------------------------------------------------------------- internals

    def __len__(self) -> int:
        """Entries held, live or not yet purged (for tests of the bound)."""
        return len(self._items)

    def _live(self, kind: Kind, key: str) -> tuple[Any, float] | None:
        entry = self._items.get((kind.value, key))
        if entry is None:
            return None
        if self._clock() >= entry[1]:
            del self._items[(kind.value, key)]
            return None
        return entry

    def _set(self, kind: Kind, key: str, value: bytes | int, ttl: float) -> None:
        now = self._clock()
        self._purge(now)
        expires_at = now + ttl
        self._items[(kind.value, key)] = (value, expires_at)
        heapq.heappush(self._expiries, (expires_at, next(self._seq), kind.value, key))

    def _purge(self, now: float) -> None:
        heap = self._expiries
        for _ in range(_PURGE_PER_WRITE):
            if not heap or heap[0][0] > now:
                return
            expires_at, _seq, kind, key = heapq.heappop(heap)
            entry = self._items.get((kind, key))
            # Only drop it if it was not rewritten with a later expiry since this heap row.
            if entry is not None and entry[1] <= expires_at:
                del self._items[(kind, key)]


def _load(raw: bytes | int) -> Payload:
    if isinstance(raw, int):
        return {"count": raw}  # a counter read through get()/consume()
    value: Payload = orjson.loads(raw)
    return value


class MemoryRecordStore:
    """A complete ``RecordStore`` in dicts: for tests, and ``memory://`` on a throwaway node.

    Records are frozen dataclasses; clients (whose jwks/extra are dicts) are kept serialised so a
    caller cannot reach into the store through a returned record. Integrity rules match
    ``SqliteRecordStore``: ValueError for a duplicate consent id, or for an event or refresh token
    of a consent that does not exist.
    """

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock  # unused today; kept so open_records() can pass one to every store
        self._clients: dict[str, bytes] = {}
        self._statuses: dict[str, str] = {}
        self._consents: dict[str, tuple[int, Consent]] = {}  # id -> (insertion seq, consent)
        self._events: dict[str, list[ConsentEvent]] = {}
        self._refresh: dict[str, RefreshToken] = {}
        self._audit: dict[str, list[AuditEvent]] = {}
        self._seq = itertools.count()
        self._trail: list[TrailEntry] = []
        self._anchor: TrailAnchor | None = None
        self._deliveries: dict[str, NotificationDelivery] = {}  # insertion order is age
        self._dedupe: set[str] = set()

    async def migrate(self) -> None:
        return None

    async def check_schema(self) -> None:
        return None  # no schema to disagree with: a fresh store is ready for use

    # clients
    async def put_client(self, client: ClientRecord) -> None:
        self._clients[client.client_id] = orjson.dumps(client.to_dict())
        self._statuses[client.client_id] = client.status

    async def client_status(self, client_id: str) -> str | None:
        return self._statuses.get(client_id)

    async def get_client(self, client_id: str) -> ClientRecord | None:
        raw = self._clients.get(client_id)
        return None if raw is None else ClientRecord.from_dict(orjson.loads(raw))

    async def list_clients(self) -> list[ClientRecord]:
        return [
            ClientRecord.from_dict(orjson.loads(self._clients[k])) for k in sorted(self._clients)
        ]

    # consents
    async def create_consent(self, consent: Consent, event: ConsentEvent) -> None:
        if consent.id in self._consents:
            raise ValueError("consent already exists")
        self._consents[consent.id] = (next(self._seq), consent)
        self._events[consent.id] = [event]
        self._link([chain.consent_item_of(consent, event)])

    async def get_consent(self, consent_id: str) -> Consent | None:
        row = self._consents.get(consent_id)
        return None if row is None else row[1]

    async def update_consent(
        self, consent: Consent, event: ConsentEvent, *, expected_version: int
    ) -> bool:
        _check_bumped(consent, expected_version)
        row = self._consents.get(consent.id)
        if row is None or row[1].version != expected_version:
            return False
        self._consents[consent.id] = (row[0], consent)
        self._events[consent.id].append(event)
        self._link([chain.consent_item_of(consent, event)])
        return True

    async def list_consents(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        rows = [
            row
            for row in self._consents.values()
            if (customer_id is None or row[1].customer_id == customer_id)
            and (client_id is None or row[1].client_id == client_id)
        ]
        rows.sort(key=lambda r: (r[1].created_at, r[0]), reverse=True)
        return [c for _, c in rows]

    async def consent_events(self, consent_id: str) -> list[ConsentEvent]:
        return sorted(self._events.get(consent_id, ()), key=lambda e: e.time)  # stable

    async def append_consent_event(self, event: ConsentEvent) -> None:
        if event.consent_id not in self._consents:
            raise ValueError("event for an unknown consent")
        self._events[event.consent_id].append(event)
        self._link([chain.consent_item_of(self._consents[event.consent_id][1], event)])

    # refresh tokens
    async def put_refresh_token(self, token: RefreshToken) -> None:
        if token.consent_id not in self._consents or token.token_hash in self._refresh:
            raise ValueError("refresh token for an unknown consent or reused hash")
        self._refresh[token.token_hash] = token

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        return self._refresh.get(token_hash)

    async def use_refresh_token(
        self, token_hash: str, now: float
    ) -> tuple[RefreshToken | None, bool]:
        token = self._refresh.get(token_hash)
        if token is None:
            return None, False
        if token.used_at is not None or token.revoked_at is not None:
            return token, False
        self._refresh[token_hash] = replace(token, used_at=now)
        return token, True

    async def revoke_refresh_tokens(self, consent_id: str, now: float) -> int:
        count = 0
        for h, token in self._refresh.items():
            if (
                token.consent_id == consent_id
                and token.revoked_at is None
                and token.used_at is None
            ):
                self._refresh[h] = replace(token, revoked_at=now)
                count += 1
        return count

    # audit
    async def append_audit(self, events: Sequence[AuditEvent]) -> None:
        for e in events:
            self._audit.setdefault(e.consent_id, []).append(e)
        self._link([chain.access_item(e) for e in events])

    async def list_audit(self, *, consent_id: str) -> list[AuditEvent]:
        rows = self._audit.get(consent_id, [])
        return sorted(rows, key=lambda e: e.time)  # stable: same time keeps insertion order

    # audit trail
    async def list_trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        first = self._trail[0].seq if self._trail else 1
        found: list[TrailEntry] = []
        for entry in self._trail[max(0, after_seq + 1 - first) :]:
            if (start is None or entry.time >= start) and (end is None or entry.time < end):
                found.append(entry)
                if len(found) >= limit:
                    break
        return found

    async def trail_anchor(self) -> TrailAnchor | None:
        return self._anchor

    async def prune_trail(self, before: float) -> int:
        cut = next((i for i, e in enumerate(self._trail) if e.time >= before), len(self._trail))
        if cut:
            last = self._trail[cut - 1]
            self._anchor = TrailAnchor(last.seq, last.time, last.hash)
            del self._trail[:cut]
        for consent_id, rows in self._audit.items():
            self._audit[consent_id] = [e for e in rows if e.time >= before]
        return cut

    def _link(self, items: list[chain.Item]) -> None:
        if self._trail:
            seq, prev = self._trail[-1].seq, self._trail[-1].hash
        elif self._anchor is not None:
            seq, prev = self._anchor.seq, self._anchor.hash
        else:
            seq, prev = 0, chain.GENESIS
        self._trail.extend(chain.link(seq, prev, items))

    # notifications
    async def enqueue_notification(self, delivery: NotificationDelivery) -> bool:
        if delivery.dedupe_key is not None:
            if delivery.dedupe_key in self._dedupe:
                return False
            self._dedupe.add(delivery.dedupe_key)
        if delivery.id in self._deliveries:
            return False
        self._deliveries[delivery.id] = _copy(delivery)
        return True

    async def claim_notifications(
        self, now: float, *, limit: int, lease: float
    ) -> list[NotificationDelivery]:
        due = sorted(
            (
                d
                for d in self._deliveries.values()
                if d.delivered_at is None and d.given_up_at is None and d.next_attempt_at <= now
            ),
            key=lambda d: d.next_attempt_at,
        )[:limit]
        for d in due:
            self._deliveries[d.id] = replace(d, next_attempt_at=now + lease)
        return [_copy(d) for d in due]

    async def record_notification_attempt(
        self,
        delivery_id: str,
        *,
        now: float,
        status: str,
        delivered: bool,
        retry_at: float | None,
    ) -> None:
        d = self._deliveries.get(delivery_id)
        if d is None:
            return
        self._deliveries[delivery_id] = replace(
            d,
            attempts=d.attempts + 1,
            last_status=status,
            delivered_at=now if delivered else None,
            given_up_at=now if not delivered and retry_at is None else None,
            next_attempt_at=retry_at if retry_at is not None else d.next_attempt_at,
        )

    async def get_notification(self, delivery_id: str) -> NotificationDelivery | None:
        d = self._deliveries.get(delivery_id)
        return None if d is None else _copy(d)

    async def list_notifications(self, *, consent_id: str) -> list[NotificationDelivery]:
        rows = [_copy(d) for d in self._deliveries.values() if d.consent_id == consent_id]
        return sorted(rows, key=lambda d: d.created_at)  # stable: insertion order on ties

    async def consents_expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        rows = [
            c
            for _, c in self._consents.values()
            if c.status is ConsentStatus.ACTIVE
            and c.expires_at is not None
            and c.expires_at < before
            and (after is None or (c.expires_at, c.id) > after)
        ]
        rows.sort(key=lambda c: (c.expires_at or 0.0, c.id))
        return rows[:limit]

    async def count_active_consents(self, now: float) -> int:
        return sum(1 for _, c in self._consents.values() if c.is_active(now))

    async def count_audit_statuses(
        self, start: float, end: float, endpoint: str | None = None
    ) -> dict[int, int]:
        """Data accesses recorded in [start, end), of ``endpoint`` if given, by HTTP status
        (gateway/response_rate.py)."""
        out: dict[int, int] = {}
        for rows in self._audit.values():
            for e in rows:
                if start <= e.time < end and endpoint in (None, e.endpoint):
                    out[e.status] = out.get(e.status, 0) + 1
        return out

    async def aclose(self) -> None:
        return None


def _copy(d: NotificationDelivery) -> NotificationDelivery:
    """A delivery whose payload the caller cannot mutate the store through."""
    return replace(d, notification=orjson.loads(orjson.dumps(d.notification)))


def _check_bumped(consent: Consent, expected_version: int) -> None:
    if consent.version <= expected_version:
        raise ValueError("a consent update must raise its version")

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

from authz.consent.model import Consent, ConsentEvent
from authz.store.base import AuditEvent, ClientRecord, Kind, Payload, RefreshToken

_PURGE_PER_WRITE = 16  # expired entries dropped per write: amortised, so memory stays bounded


class MemoryStateStore:
    """Short-lived state in a dict keyed by (kind, key); expiry is checked on every read.

    Each entry is ``[value, expires_at]`` where value is a JSON payload (bytes) or, for ``incr``,
    an int. Expired entries are dropped lazily on read and a few at a time on every write, from a
    heap of expiry times, so a flood of never-read keys (e.g. assertion jtis) cannot grow memory
    beyond what is live within the longest TTL.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._items: dict[tuple[Kind, str], list[Any]] = {}
        self._expiries: list[tuple[float, int, Kind, str]] = []
        self._seq = itertools.count()  # heap tie-break, so Kind/str are never compared

    # -------------------------------------------------------------------- StateStore

    async def put(self, kind: Kind, key: str, payload: Payload, *, ttl: float) -> None:
        self._set(kind, key, orjson.dumps(payload), ttl)

    async def get(self, kind: Kind, key: str) -> Payload | None:
        entry = self._live(kind, key)
        if entry is None:
            return None
        return _load(entry[0])

    async def consume(self, kind: Kind, key: str) -> Payload | None:
        entry = self._live(kind, key)
        if entry is None:
            return None
        before = _load(entry[0])
        after = dict(before)
        after.setdefault("consumed_at", self._clock())
        entry[0] = orjson.dumps(after)  # the entry keeps its expiry (StateStore.consume)
        return before

    async def add_once(self, kind: Kind, key: str, *, ttl: float) -> bool:
        if self._live(kind, key) is not None:
            return False
        self._set(kind, key, b"{}", ttl)
        return True

    async def delete(self, kind: Kind, key: str) -> None:
        self._items.pop((kind, key), None)

    async def incr(self, kind: Kind, key: str, *, ttl: float) -> int:
        entry = self._live(kind, key)
        if entry is None or not isinstance(entry[0], int):
            self._set(kind, key, 1, ttl)
            return 1
        entry[0] += 1
        return int(entry[0])

    async def aclose(self) -> None:
        self._items.clear()
        self._expiries.clear()

    # -------------------------------------------------------------------- internals

    def __len__(self) -> int:
        """Entries held, live or not yet purged (for tests of the bound)."""
        return len(self._items)

    def _live(self, kind: Kind, key: str) -> list[Any] | None:
        entry = self._items.get((kind, key))
        if entry is None:
            return None
        if self._clock() >= entry[1]:
            del self._items[(kind, key)]
            return None
        return entry

    def _set(self, kind: Kind, key: str, value: bytes | int, ttl: float) -> None:
        now = self._clock()
        self._purge(now)
        expires_at = now + ttl
        self._items[(kind, key)] = [value, expires_at]
        heapq.heappush(self._expiries, (expires_at, next(self._seq), kind, key))

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

    async def list_audit(self, *, consent_id: str) -> list[AuditEvent]:
        rows = self._audit.get(consent_id, [])
        return sorted(rows, key=lambda e: e.time)  # stable: same time keeps insertion order

    async def aclose(self) -> None:
        return None


def _check_bumped(consent: Consent, expected_version: int) -> None:
    if consent.version <= expected_version:
        raise ValueError("a consent update must raise its version")

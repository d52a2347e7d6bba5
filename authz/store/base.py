"""The two storage seams and the errors they raise.

``Records`` keeps what must last, one small Protocol per record family (clients, consents,
refresh tokens, audit and its trail, the notification outbox, the schema): SQLite by default,
PostgreSQL at scale, in memory for tests. ``StateStore`` keeps short-lived, hot state (PAR
request URIs, codes, interactions, sessions, jti caches, counters): in-process by default, Redis
at scale. Callers depend on these Protocols only; ``authz.store.open_records`` and ``open_state``
pick the implementation from a URL. The records themselves are ``authz.records``.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from authz.records import (
    AuditEvent,
    ClientRecord,
    Consent,
    ConsentEvent,
    NotificationDelivery,
    Payload,
    RefreshToken,
    SealedSecret,
    TrailAnchor,
    TrailEntry,
)


class SchemaError(Exception):
    """The database holds a schema this code does not know (newer, or not ours)."""


class StateUnavailable(Exception):
    """The state store cannot be reached or cannot answer in time (Redis down, timed out, failing
    over). Callers fail closed: the gateway answers 503 rather than guess at single-use state."""


class RecordsUnavailable(Exception):
    """The record store cannot be reached or cannot answer (PostgreSQL down, restarting, no
    connection free in time). Callers fail closed: the gateway answers 503 rather than serve data
    whose consent it cannot check, or report a write it cannot confirm."""


# ---------------------------------------------------------------------------- durable records


class Schema(Protocol):
    async def migrate(self) -> None:
        """Create the schema, or upgrade it; raise SchemaError on a schema newer than the code."""

    async def check(self) -> None:
        """Raise SchemaError unless the schema is exactly the one this code knows."""


class Clients(Protocol):
    async def put(self, client: ClientRecord) -> None:
        """Insert or replace."""

    async def get(self, client_id: str) -> ClientRecord | None: ...

    async def status(self, client_id: str) -> str | None:
        """The client's ``status`` alone, None if unknown; never stale (a suspension by any
        writer is seen by the next read). The FDX gate reads it with the consent
        (``Consents.live``); this is for callers without a consent."""

    async def all(self) -> list[ClientRecord]:
        """By client id."""


@dataclass(frozen=True, slots=True)
class LiveConsent:
    """What the FDX gate asks on every call: the consent as stored, and its recipient's status
    (None when the recipient is unknown), both read after the question was asked."""

    consent: Consent
    recipient_status: str | None


@dataclass(frozen=True, slots=True)
class Stored:
    """One consent as the primitive read it: its version, its document unless the caller already
    holds that version, and its recipient's status (None when the recipient is unknown)."""

    version: int
    document: Payload | None
    recipient_status: str | None


class Consents(Protocol):
    async def create(self, consent: Consent, event: ConsentEvent) -> None:
        """ValueError if the id is taken."""

    async def get(self, consent_id: str) -> Consent | None: ...

    async def live(self, consent_id: str) -> LiveConsent | None:
        """The gate's one question, under the freshness rule (``authz.store.live``): a change
        acknowledged to any writer before this call began is seen."""

    async def versions(self, held: Mapping[str, int]) -> dict[str, Stored]:
        """The primitive under ``live`` (``authz.store.live.ConsentVersions``); only the
        freshness rule calls it."""

    async def update(self, consent: Consent, event: ConsentEvent, *, expected_version: int) -> bool:
        """Store ``consent`` (and append ``event``) only if the stored version is
        ``expected_version``; False if another writer got there first. ``consent.version`` must
        be higher (ValueError otherwise): readers trust an unchanged version to mean an
        unchanged consent."""

    async def find(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        """Newest first."""

    async def events(self, consent_id: str) -> list[ConsentEvent]:
        """Oldest first."""

    async def append_event(self, event: ConsentEvent) -> None:
        """History that does not change the consent itself (e.g. a denial, a replay seen)."""

    async def expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        """ACTIVE consents whose ``expires_at`` is before ``before``, ordered by
        ``(expires_at, id)``; with ``after``, only those past that key (keyset paging, so a
        sweep reads each row once however many there are). The sweeper's notices; never used
        to decide access."""

    async def count_active(self, now: float) -> int:
        """How many consents are ACTIVE and not past their expiry at ``now`` (the
        ``fdxgw_active_consents`` gauge, read at each metrics scrape: keep it to one count)."""


class RefreshTokens(Protocol):
    """RFC 6749 §10.4: rotated on every use."""

    async def put(self, token: RefreshToken) -> None:
        """ValueError for an unknown consent or a reused hash."""

    async def get(self, token_hash: str) -> RefreshToken | None:
        """Read without using: for revocation and introspection, which must not rotate it."""

    async def use(self, token_hash: str, now: float) -> tuple[RefreshToken | None, bool]:
        """Atomically mark the token used. Returns (the record as it was, True) for the one caller
        that wins; (record, False) when it was already used or revoked (a replay); (None, False)
        when unknown."""

    async def revoke_all(self, consent_id: str, now: float) -> int:
        """Revoke every refresh token of the consent; returns how many were live."""


class Audit(Protocol):
    """Data accesses (append-only) and the hash-chained trail: every consent event and data
    access is linked in the same transaction that stores it, so nothing is stored without its
    link (``authz.store.chain``)."""

    async def append(self, events: Sequence[AuditEvent]) -> None: ...

    async def of_consent(self, consent_id: str) -> list[AuditEvent]:
        """Oldest first."""

    async def trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        """Links with ``seq > after_seq`` (and ``start <= time < end`` when given), by seq."""

    async def anchor(self) -> TrailAnchor | None:
        """The last pruned link, or None if nothing was ever pruned."""

    async def prune(self, before: float) -> int:
        """Retention (12 CFR 1033.351): delete the oldest links, up to the first one at or after
        ``before``, and the audit events older than ``before``; keep the last deleted link as the
        anchor so the rest still verifies. Returns how many links were deleted."""


class Outbox(Protocol):
    """Recipient notifications, a durable outbox: nothing is lost across restarts."""

    async def enqueue(self, delivery: NotificationDelivery) -> bool:
        """Store a new delivery; False (and nothing stored) if its ``dedupe_key`` was used."""

    async def claim(self, now: float, *, limit: int, lease: float) -> list[NotificationDelivery]:
        """Up to ``limit`` pending deliveries due at ``now``, earliest first; each one's next
        attempt moves to ``now + lease``, so another worker (or this one after a crash) takes it
        again only once the lease has passed."""

    async def record_attempt(
        self,
        delivery_id: str,
        *,
        now: float,
        status: str,
        delivered: bool,
        retry_at: float | None,
    ) -> None:
        """Count one attempt: delivered, to be retried at ``retry_at``, or (neither) given up."""

    async def get(self, delivery_id: str) -> NotificationDelivery | None: ...

    async def of_consent(self, consent_id: str) -> list[NotificationDelivery]:
        """Oldest first."""


class Secrets(Protocol):
    """Signing keys and the session secret, shared by every instance on the store; sealed by the
    caller (``authz.keyring``), so the store never holds a secret in clear unless told to."""

    async def all(self) -> list[SealedSecret]:
        """Every record, by (created, id)."""

    async def add(self, secret: SealedSecret, *, first: bool = False) -> bool:
        """Insert; False (nothing stored) if the id is taken, or, with ``first``, if a record of
        the same ``use`` exists. Atomic: instances creating a first key at once keep one."""

    async def rotate(self, key: SealedSecret, *, retire_after: float) -> None:
        """In one transaction: every signing key without a ``retire_after`` gets this one, and
        ``key`` is inserted (ValueError if its id is taken)."""

    async def reseal(self, secret: SealedSecret) -> None:
        """Store ``secret.kek`` and ``secret.sealed`` for the record with its id; its use and
        schedule stay as stored (a rotation may have set ``retire_after`` meanwhile)."""

    async def remove(self, ids: Sequence[str]) -> None: ...


@dataclass(frozen=True, slots=True, eq=False)
class Records:
    """The record store: one value per family, all over the same data, and one way to close it."""

    schema: Schema
    clients: Clients
    consents: Consents
    refresh_tokens: RefreshTokens
    audit: Audit
    outbox: Outbox
    secrets: Secrets
    closer: Callable[[], Awaitable[None]]  # releases what the families share (connections)

    async def aclose(self) -> None:
        await self.closer()


# ---------------------------------------------------------------------------- short-lived state


class Kind(enum.StrEnum):
    PAR = "par"  # RFC 9126 request_uri, single use, 60 s
    CODE = "code"  # authorization code, single use, 60 s
    INTERACTION = "interaction"  # a login / consent screen in progress
    SESSION = "session"  # a signed-in consumer at the bank
    ASSERTION_JTI = "jti"  # RFC 7523 §3 client assertion replay cache
    REVOKED_ACCESS = "revoked"  # RFC 7009: revoked access-token jti until its exp
    LOGIN_FAILURES = "login_fail"  # counters for login throttling
    RATE = "rate"  # gateway.ratelimit: request counts per recipient and consent, per window
    DPOP_JTI = "dpop_jti"  # RFC 9449 §11.1 DPoP proof replay cache, keyed "<jkt>:<jti>"
    STAMP = "stamp"  # authz.store.live: a consent's or client's random stamp, "consent:<id>"
    SIGN_IN = "signin"  # a sign-in at the bank's OpenID Provider in progress, by its state
    OTP_STEP = "otp_step"  # a right password waiting for its one-time code
    OTP_USED = "otp_used"  # TOTP codes already accepted, per customer and time step


class StateStore(Protocol):
    """Short-lived state under ``(kind, key)``, each item with its own TTL in seconds.

    Any method may raise ``StateUnavailable`` when the backing service cannot be reached."""

    async def put(self, kind: Kind, key: str, payload: Payload, *, ttl: float) -> None: ...

    async def get(self, kind: Kind, key: str) -> Payload | None:
        """None when absent or expired."""

    async def consume(self, kind: Kind, key: str, *, at: float | None = None) -> Payload | None:
        """Atomically mark used and return the payload as it was *before* this call. A second
        consume sees ``"consumed_at"`` in the payload, so a replay can be detected and refused
        (RFC 6749 §4.1.2); None when absent or expired. The item keeps its TTL.

        ``at`` is the time stamped as ``consumed_at`` (the store's clock when None): a caller
        whose consume failed without an answer can read the item back and tell its own use
        from another's by that stamp."""

    async def add_once(self, kind: Kind, key: str, *, ttl: float) -> bool:
        """Set if absent; True for the first caller only (jti replay caches)."""

    async def delete(self, kind: Kind, key: str) -> None: ...

    async def incr(self, kind: Kind, key: str, *, ttl: float) -> int:
        """Add one and return the new count; the TTL starts with the first increment."""

    async def incr_many(self, kind: Kind, keys: Sequence[str], *, ttl: float) -> list[int]:
        """``incr`` on each key, in order, in one round trip to a remote store (the rate
        limiter's two counters per FDX call); the counts in the same order."""

    async def aclose(self) -> None: ...


__all__ = [
    "Audit",
    "AuditEvent",
    "ClientRecord",
    "Clients",
    "Consents",
    "Kind",
    "LiveConsent",
    "NotificationDelivery",
    "Outbox",
    "Payload",
    "Records",
    "RecordsUnavailable",
    "RefreshToken",
    "RefreshTokens",
    "Schema",
    "SchemaError",
    "SealedSecret",
    "Secrets",
    "StateStore",
    "StateUnavailable",
    "Stored",
    "TrailAnchor",
    "TrailEntry",
]

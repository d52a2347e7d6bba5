"""The two storage seams (design.md §4) and the records that cross them.

``RecordStore`` keeps what must last (clients, consents and their history, refresh tokens, audit
events): SQLite by default, PostgreSQL at scale. ``StateStore`` keeps short-lived, hot state
(PAR request URIs, codes, interactions, sessions, jti caches, counters): in-process by default,
Redis at scale. Callers depend on these Protocols only; ``authz.store.open_records`` and
``open_state`` pick the implementation from a URL.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from authz.consent.model import Consent, ConsentEvent

Payload = dict[str, Any]  # JSON-serialisable; the only Any that crosses these seams


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


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A registered data recipient (RFC 7591 metadata plus the FDX limits it registered)."""

    client_id: str
    client_name: str
    redirect_uris: tuple[str, ...]
    jwks: Payload  # public JWK Set for private_key_jwt
    logo_uri: str | None = None
    client_uri: str | None = None
    description: str | None = None  # the purpose shown when a request gives none
    contacts: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ()  # data clusters it may ask for (registered scope)
    duration_types: tuple[str, ...] = ("ONE_TIME", "TIME_BOUND", "PERSISTENT")
    max_duration_period: int | None = None  # days, TIME_BOUND
    max_lookback_period: int | None = None  # days
    status: str = "approved"  # pending | approved | suspended | deleted (RFC 7592 §2.3)
    notification_uri: str | None = None  # where signed FDX consent notifications are POSTed
    created_at: float = 0.0
    extra: Payload = field(default_factory=dict)  # further registered metadata, kept verbatim
    jwks_uri: str | None = None  # keys fetched from here instead of ``jwks`` (RFC 7591 §2)
    registration_token_hash: str | None = None  # RFC 7592 token, its SHA-256 only

    def to_dict(self) -> Payload:
        return {
            "client_id": self.client_id,
            "client_name": self.client_name,
            "redirect_uris": list(self.redirect_uris),
            "jwks": self.jwks,
            "logo_uri": self.logo_uri,
            "client_uri": self.client_uri,
            "description": self.description,
            "contacts": list(self.contacts),
            "clusters": list(self.clusters),
            "duration_types": list(self.duration_types),
            "max_duration_period": self.max_duration_period,
            "max_lookback_period": self.max_lookback_period,
            "status": self.status,
            "notification_uri": self.notification_uri,
            "created_at": self.created_at,
            "extra": self.extra,
            "jwks_uri": self.jwks_uri,
            "registration_token_hash": self.registration_token_hash,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ClientRecord:
        return cls(
            client_id=d["client_id"],
            client_name=d["client_name"],
            redirect_uris=tuple(d["redirect_uris"]),
            jwks=d["jwks"],
            logo_uri=d.get("logo_uri"),
            client_uri=d.get("client_uri"),
            description=d.get("description"),
            contacts=tuple(d.get("contacts", ())),
            clusters=tuple(d.get("clusters", ())),
            duration_types=tuple(d.get("duration_types", ("ONE_TIME", "TIME_BOUND", "PERSISTENT"))),
            max_duration_period=d.get("max_duration_period"),
            max_lookback_period=d.get("max_lookback_period"),
            status=d.get("status", "approved"),
            notification_uri=d.get("notification_uri"),
            created_at=d.get("created_at", 0.0),
            extra=dict(d.get("extra", {})),
            jwks_uri=d.get("jwks_uri"),
            registration_token_hash=d.get("registration_token_hash"),
        )


@dataclass(frozen=True, slots=True)
class RefreshToken:
    """A refresh token as stored: only its SHA-256 hash, never the token itself."""

    token_hash: str
    consent_id: str
    client_id: str
    created_at: float
    expires_at: float
    used_at: float | None = None  # set when rotated; presenting it again is a replay
    revoked_at: float | None = None
    # RFC 9449 §5: the DPoP key (RFC 7638 thumbprint) the token is bound to; a refresh must
    # prove possession of that same key. None: not DPoP-bound.
    jkt: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One data access: who read what, through which consent, and how much."""

    id: str
    time: float
    consent_id: str
    client_id: str
    customer_id: str
    endpoint: str  # "GET /accounts/{accountId}/transactions"
    account_ids: tuple[str, ...]
    clusters: tuple[str, ...]
    record_count: int
    status: int
    interaction_id: str


@dataclass(frozen=True, slots=True)
class TrailEntry:
    """One link of the audit trail's hash chain (``authz.store.chain``).

    ``record`` is the canonical JSON (sorted keys) of the consent event or data access, exactly as
    hashed; ``hash`` = SHA-256 hex of ``prev_hash`` followed by the canonical JSON of
    ``{"kind", "record", "seq", "time"}``."""

    seq: int
    time: float
    kind: str  # consent_event | data_access
    record: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class TrailAnchor:
    """Where the kept chain starts after a retention prune: the last pruned link."""

    seq: int
    time: float
    hash: str


@dataclass(frozen=True, slots=True)
class NotificationDelivery:
    """One signed notification to a recipient and the history of its delivery.

    ``id`` is the FDX ``notificationId``, the same on every attempt so a receiver can drop
    duplicates. ``notification`` is the FDX Notificationentity without ``sentOn``, which is set
    (and the whole signed) per attempt. ``dedupe_key``, when given, is unique: a second enqueue
    with it is refused (the sweeper's notice is sent once per consent per authorization)."""

    id: str
    client_id: str
    consent_id: str
    kind: str  # revoked | expired | renewed | reauthorization_due
    notification: Payload
    created_at: float
    next_attempt_at: float
    dedupe_key: str | None = None
    attempts: int = 0
    last_status: str | None = None  # "204", "timeout", "refused: …"
    delivered_at: float | None = None
    given_up_at: float | None = None


class RecordStore(Protocol):
    async def migrate(self) -> None:
        """Create the schema, or upgrade it; raise SchemaError on a schema newer than the code."""

    async def check_schema(self) -> None:
        """Raise SchemaError unless the schema is exactly the one this code knows."""

    # clients
    async def put_client(self, client: ClientRecord) -> None:
        """Insert or replace."""

    async def get_client(self, client_id: str) -> ClientRecord | None: ...

    async def client_status(self, client_id: str) -> str | None:
        """The client's ``status`` alone, None if unknown. Read by the FDX gate on every call
        (a suspended recipient is refused on its next request), so implementations keep it
        cheap, and never stale: a change by any writer is seen by the next read."""

    async def list_clients(self) -> list[ClientRecord]: ...

    # consents
    async def create_consent(self, consent: Consent, event: ConsentEvent) -> None: ...

    async def get_consent(self, consent_id: str) -> Consent | None: ...

    async def update_consent(
        self, consent: Consent, event: ConsentEvent, *, expected_version: int
    ) -> bool:
        """Store ``consent`` (and append ``event``) only if the stored version is
        ``expected_version``; False if another writer got there first. ``consent.version`` must
        be higher (ValueError otherwise): readers trust an unchanged version to mean an
        unchanged consent."""

    async def list_consents(
        self, *, customer_id: str | None = None, client_id: str | None = None
    ) -> list[Consent]:
        """Newest first."""

    async def consent_events(self, consent_id: str) -> list[ConsentEvent]:
        """Oldest first."""

    async def append_consent_event(self, event: ConsentEvent) -> None:
        """History that does not change the consent itself (e.g. a denial, a replay seen)."""

    # refresh tokens (RFC 6749 §10.4, rotated on every use)
    async def put_refresh_token(self, token: RefreshToken) -> None: ...

    async def get_refresh_token(self, token_hash: str) -> RefreshToken | None:
        """Read without using: for revocation and introspection, which must not rotate it."""

    async def use_refresh_token(
        self, token_hash: str, now: float
    ) -> tuple[RefreshToken | None, bool]:
        """Atomically mark the token used. Returns (the record as it was, True) for the one caller
        that wins; (record, False) when it was already used or revoked (a replay); (None, False)
        when unknown."""

    async def revoke_refresh_tokens(self, consent_id: str, now: float) -> int:
        """Revoke every refresh token of the consent; returns how many were live."""

    # audit (append-only)
    async def append_audit(self, events: Sequence[AuditEvent]) -> None: ...

    async def list_audit(self, *, consent_id: str) -> list[AuditEvent]:
        """Oldest first."""

    # audit trail (hash-chained; every consent event and audit event is linked in the same
    # transaction that stores it, so nothing is stored without its link)
    async def list_trail(
        self,
        *,
        after_seq: int = 0,
        limit: int = 1000,
        start: float | None = None,
        end: float | None = None,
    ) -> list[TrailEntry]:
        """Links with ``seq > after_seq`` (and ``start <= time < end`` when given), by seq."""

    async def trail_anchor(self) -> TrailAnchor | None:
        """The last pruned link, or None if nothing was ever pruned."""

    async def prune_trail(self, before: float) -> int:
        """Retention (12 CFR 1033.351): delete the oldest links, up to the first one at or after
        ``before``, and the audit events older than ``before``; keep the last deleted link as the
        anchor so the rest still verifies. Returns how many links were deleted."""

    # recipient notifications (a durable outbox: nothing is lost across restarts)
    async def enqueue_notification(self, delivery: NotificationDelivery) -> bool:
        """Store a new delivery; False (and nothing stored) if its ``dedupe_key`` was used."""

    async def claim_notifications(
        self, now: float, *, limit: int, lease: float
    ) -> list[NotificationDelivery]:
        """Up to ``limit`` pending deliveries due at ``now``, earliest first; each one's next
        attempt moves to ``now + lease``, so another worker (or this one after a crash) takes it
        again only once the lease has passed."""

    async def record_notification_attempt(
        self,
        delivery_id: str,
        *,
        now: float,
        status: str,
        delivered: bool,
        retry_at: float | None,
    ) -> None:
        """Count one attempt: delivered, to be retried at ``retry_at``, or (neither) given up."""

    async def get_notification(self, delivery_id: str) -> NotificationDelivery | None: ...

    async def list_notifications(self, *, consent_id: str) -> list[NotificationDelivery]:
        """Oldest first."""

    async def consents_expiring(
        self, before: float, *, limit: int, after: tuple[float, str] | None = None
    ) -> list[Consent]:
        """ACTIVE consents whose ``expires_at`` is before ``before``, ordered by
        ``(expires_at, id)``; with ``after``, only those past that key (keyset paging, so a
        sweep reads each row once however many there are). The sweeper's notices; never used
        to decide access."""

    async def count_active_consents(self, now: float) -> int:
        """How many consents are ACTIVE and not past their expiry at ``now`` (the
        ``fdxgw_active_consents`` gauge, read at each metrics scrape: keep it to one count)."""

    async def aclose(self) -> None: ...


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

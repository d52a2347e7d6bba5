"""A consent's life, from grant to its end, each step recorded with time, actor and reason.

States (docs/fdx.md §4)::

    requested (the PAR; nothing stored) ─┬─▶ ACTIVE ──renewed──▶ ACTIVE
                                         │     ├──revoked──▶ REVOKED   (final)
                                         │     ├──expired──▶ EXPIRED   (final)
                                         │     └──used─────▶ ACTIVE, ends with its token (ONE_TIME)
                                         └─▶ DENIED (final, never usable)

``expiry``, ``grant`` and ``deny`` are pure: the caller passes ``now`` and stores what comes back
(``records.consents.create(consent, event)``). The async transitions (``revoke``, ``renew``,
``expire_if_due``, ``end_with_token``) store the change with optimistic versions
(``Records.consents.update``), retry when another writer won, and then tell every
``book.observers`` (notifications, caches) once per stored change, never on a no-op.

Expiry is exact to the second and needs no background job: ``Consent.is_active`` refuses a consent
at ``expires_at`` on every use, and whoever sees such a consent calls ``expire_if_due`` to record
the EXPIRED transition. REVOKED and EXPIRED are final: a revoked or expired consent never becomes
ACTIVE again; the recipient must ask for a new consent (which is also how a change of scope
happens). Actors are FDX PartyTypes, reasons FDX ConsentUpdateReasons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import NamedTuple

from authz.consent.book import ConsentBook
from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)
from authz.pushed import ConsentRequest
from authz.store.base import RecordsUnavailable
from config.policy import Policy
from config.settings import Settings

log = logging.getLogger("authz.consent")

DAY = 86400
INDIVIDUAL = "INDIVIDUAL"  # FDX PartyType of the consumer
DATA_RECIPIENT = "DATA_RECIPIENT"  # FDX PartyType of the fintech app
DATA_PROVIDER = "DATA_PROVIDER"  # FDX PartyType of the bank (this gateway)
ACTORS = frozenset({INDIVIDUAL, DATA_RECIPIENT, DATA_PROVIDER})
# Every FDX PartyType: who may be named as the initiator of a recipient's revocation.
PARTY_TYPES = ACTORS | {"DATA_ACCESS_PLATFORM", "MERCHANT", "VENDOR"}
_INITIATOR = "initiator="  # how events stored before schema version 4 named it
USER_ACTION = "USER_ACTION"  # FDX ConsentUpdateReason
BUSINESS_RULE = "BUSINESS_RULE"
REASONS = frozenset({USER_ACTION, BUSINESS_RULE})
ATTEMPTS = 5  # optimistic-version retries before giving up


def expiry(request: ConsentRequest, now: float, settings: Settings) -> float:
    """When a consent granted at ``now`` for ``request`` ends.

    - ONE_TIME: one data session, i.e. the code's lifetime plus one access token's
      (``code_ttl + access_token_ttl``); no refresh token is issued (docs/architecture.md §5).
    - TIME_BOUND: ``durationPeriod`` days from the grant (FDX ConsentGrant ``durationPeriod``:
      "days from the original grant"), never beyond ``max_consent_days``.
    - PERSISTENT: ``max_consent_days`` (365) days: the consumer must reauthorize within a year of
      the latest authorization (CFPB 12 CFR §1033.421(b); FDX UX guidelines).
    """
    return _ends(request.duration_type, request.duration_period, now, settings)


def _ends(
    duration_type: DurationType, duration_period: int | None, now: float, settings: Settings
) -> float:
    if duration_type is DurationType.ONE_TIME:
        return now + settings.code_ttl + settings.access_token_ttl
    days = settings.max_consent_days
    if duration_type is DurationType.TIME_BOUND and duration_period is not None:
        days = max(1, min(duration_period, settings.max_consent_days))
    return now + days * DAY


def granted_scope(
    request: ConsentRequest, clusters: Iterable[str], requested: Sequence[str], policy: Policy
) -> tuple[str, ...]:
    """The OAuth scopes of a grant: the clusters' FDX scopes (policy order), ``offline_access``
    unless ONE_TIME (no refresh token for a single session), ``openid`` if it was asked for."""
    scope = policy.scopes_for(clusters)
    if request.duration_type is not DurationType.ONE_TIME:
        scope.append("offline_access")
    if "openid" in requested:
        scope.append("openid")
    return tuple(scope)


def grant(
    *,
    consent_id: str,
    request: ConsentRequest,
    requested_scope: Sequence[str],
    client_id: str,
    customer_id: str,
    account_ids: Sequence[str],
    optional_clusters: Iterable[str],
    purpose: str,
    now: float,
    settings: Settings,
    policy: Policy,
) -> tuple[Consent, ConsentEvent]:
    """An ACTIVE consent for exactly the accounts the consumer ticked, each with the required
    clusters plus the optional ones ticked (policy order), and its "granted" event.

    Consent is specific (docs/architecture.md §1): one ConsentResource per account, never a
    blanket grant.
    The caller has already checked that the accounts are the customer's open accounts and that the
    optional clusters were offered.
    """
    chosen = set(request.clusters) | (set(optional_clusters) & set(request.optional_clusters))
    clusters = tuple(c.name for c in policy.ordered(chosen))
    consent = Consent(
        id=consent_id,
        status=ConsentStatus.ACTIVE,
        client_id=client_id,
        customer_id=customer_id,
        created_at=now,
        updated_at=now,
        expires_at=expiry(request, now, settings),
        duration_type=request.duration_type,
        duration_period=request.duration_period,
        lookback_period=request.lookback_period,
        resources=tuple(ConsentResource("ACCOUNT", a, clusters) for a in account_ids),
        purpose=purpose,
        version=1,
        scope=granted_scope(request, clusters, requested_scope, policy),
    )
    return consent, ConsentEvent(consent_id, now, "granted", INDIVIDUAL)


def deny(
    *,
    consent_id: str,
    request: ConsentRequest,
    client_id: str,
    customer_id: str,
    purpose: str,
    now: float,
) -> tuple[Consent, ConsentEvent]:
    """A DENIED consent (no resources, no scope) and its "denied" event.

    The refusal is kept like a grant so the consumer's and the bank's records show it (CFPB
    §1033.351 record keeping); it never becomes usable (``is_active`` is False for DENIED).
    """
    consent = Consent(
        id=consent_id,
        status=ConsentStatus.DENIED,
        client_id=client_id,
        customer_id=customer_id,
        created_at=now,
        updated_at=now,
        expires_at=now,
        duration_type=request.duration_type,
        duration_period=request.duration_period,
        lookback_period=request.lookback_period,
        resources=(),
        purpose=purpose,
        version=1,
        scope=(),
    )
    return consent, ConsentEvent(consent_id, now, "denied", INDIVIDUAL, reason="USER_ACTION")


async def store_grant(book: ConsentBook, consent: Consent, event: ConsentEvent) -> None:
    """Store a new consent (granted or denied) and its first event, resolving a lost commit
    acknowledgement: when the record store fails (``RecordsUnavailable``), the consent is read
    back, and if it is there the grant did complete and this returns as if nothing failed.

    Why: a PostgreSQL connection lost after its COMMIT raises although the consent is
    stored; the consent screen then deleted the code and showed "cannot be reached", so the
    consumer was told nothing was shared while the portal listed an ACTIVE consent its recipient
    could never use. Reading back turns that into what really happened: the grant stands, and
    the consumer goes on to the app with the code as if nothing failed.

    When the read fails too, nobody can know, and the outage propagates (503): the consent, if
    it was stored, stays ACTIVE-but-unused. That is deliberately left alone rather than swept:
    it is inert (its code is deleted, and a code is the only way to a token, RFC 6749 §4.1.2),
    the consumer's authorization is a record we keep (12 CFR 1033.351), the portal shows it
    with no access, and one click stops it. Ending it automatically would need a durable mark
    of "never redeemed" that the record stores do not keep.
    """
    records = book.records
    try:
        await records.consents.create(consent, event)
    except RecordsUnavailable:
        if await records.consents.get(consent.id) is None:
            raise
        log.warning("consent.commit_confirmed_after_error consent_id=%s", consent.id)
    if event.event == "granted":
        await _notify(book, consent, event)  # the consumer is told of every grant


# ---------------------------------------------------------------------------- transitions


class ConsentNotRenewable(Exception):
    """Only an ACTIVE, not yet expired TIME_BOUND or PERSISTENT consent can be renewed."""


class RevocationConflict(Exception):
    """The consent kept changing under us; its refresh tokens were revoked, its status not."""


class TransitionConflict(Exception):
    """Another writer kept bumping the consent's version; nothing was stored."""


# Given the stored consent and ``now``: the new consent and its event, or None for "no change".
Change = Callable[[Consent, float], "tuple[Consent, ConsentEvent] | None"]


class Revocation(NamedTuple):
    """What ``revoke`` did: the consent as it ends up (None when unknown), and whether this call
    ended it (False: it had already ended, or was unknown)."""

    consent: Consent | None
    changed: bool


async def revoke(
    book: ConsentBook,
    consent_id: str,
    *,
    actor: str,
    reason: str | None,
    detail: str | None = None,
    initiator: str | None = None,
) -> Revocation:
    """End the consent now and kill its refresh tokens. Revoking a consent that already ended
    changes nothing (no event, no notice) but still revokes its refresh tokens, so nothing usable
    is ever left behind. An ACTIVE consent already past its expiry is recorded EXPIRED, not
    REVOKED: that is what happened first.

    ``initiator`` is the FDX PartyType a recipient says started it (ConsentRevocationRequest),
    kept in the event (``revocation_initiator`` reads it back); by default the actor. ``reason``
    may be None: a recipient need not give one, and then none is recorded.

    Raises ``RevocationConflict`` (after revoking the refresh tokens) if writers kept racing it.
    """
    _check_party(actor, reason)
    if initiator is not None:
        if initiator not in PARTY_TYPES:
            raise ValueError(f"initiator must be an FDX PartyType among {sorted(PARTY_TYPES)}")

    def change(consent: Consent, now: float) -> tuple[Consent, ConsentEvent] | None:
        if consent.status is not ConsentStatus.ACTIVE:
            return None
        if _past_expiry(consent, now):
            return _expired(consent, now)
        event = ConsentEvent(consent.id, now, "revoked", actor, reason, detail, initiator)
        return consent.with_status(ConsentStatus.REVOKED, now), event

    records = book.records
    try:
        consent, event = await _transition(book, consent_id, change)
    except TransitionConflict:
        await records.refresh_tokens.revoke_all(consent_id, book.clock())
        raise RevocationConflict(consent_id) from None
    if consent is not None:
        await records.refresh_tokens.revoke_all(consent_id, book.clock())
    return Revocation(consent, event is not None and event.event == "revoked")


async def renew(book: ConsentBook, consent_id: str, *, actor: str = INDIVIDUAL) -> Consent:
    """A fresh authorization of the same scope (same accounts, clusters and lookback): a new
    expiry computed from now by the rules of ``expiry`` (TIME_BOUND: ``durationPeriod`` days;
    PERSISTENT: reauthorization due ``max_consent_days`` after this latest authorization; both
    capped at ``max_consent_days``), event "renewed", version bumped.

    Only an ACTIVE consent not yet past its expiry can be renewed. EXPIRED is final like REVOKED:
    recipients were told it ended (FDX 409 on revocation, notifications), so bringing it back
    would contradict them; the consumer grants a new consent instead. A ONE_TIME consent is one
    data session and has nothing to renew. Raises ``ConsentNotRenewable`` (also for an unknown
    id) or ``TransitionConflict``.
    """
    _check_party(actor, USER_ACTION)
    settings = book.settings

    def change(consent: Consent, now: float) -> tuple[Consent, ConsentEvent] | None:
        if _past_expiry(consent, now):
            return _expired(consent, now)  # recorded, then refused below
        if consent.status is not ConsentStatus.ACTIVE:
            return None
        if consent.duration_type is DurationType.ONE_TIME:
            return None
        ends = _ends(consent.duration_type, consent.duration_period, now, settings)
        renewed = replace(consent.with_status(ConsentStatus.ACTIVE, now), expires_at=ends)
        return renewed, ConsentEvent(consent.id, now, "renewed", actor, USER_ACTION)

    consent, event = await _transition(book, consent_id, change)
    if consent is None:
        raise ConsentNotRenewable(f"consent {consent_id} is unknown")
    if event is None or event.event != "renewed":
        raise ConsentNotRenewable(
            f"consent {consent_id} is {consent.status.value} ({consent.duration_type.value});"
            " only an ACTIVE TIME_BOUND or PERSISTENT consent can be renewed"
        )
    return consent


async def expire_if_due(book: ConsentBook, consent: Consent) -> Consent:
    """If ``consent`` is ACTIVE and ``now >= expires_at``, store it EXPIRED (actor DATA_PROVIDER,
    reason BUSINESS_RULE) and notify; the consent as stored. Called by whoever meets such a
    consent on use (the FDX gate, the token endpoint, the consent API), so the transition is
    recorded to the second without a background job. Cheap when nothing is due: no I/O."""
    if not _past_expiry(consent, book.clock()):
        return consent

    def change(current: Consent, now: float) -> tuple[Consent, ConsentEvent] | None:
        return _expired(current, now) if _past_expiry(current, now) else None

    stored, _ = await _transition(book, consent.id, change)
    return stored if stored is not None else consent


async def end_with_token(book: ConsentBook, consent_id: str, *, token_exp: float) -> Consent:
    """ONE_TIME: the consent is one data session and ends when its access token ends, so at the
    code exchange its ``expires_at`` becomes the token's ``exp`` (event "used"); it can never
    outlive that token. Other duration types are returned unchanged."""

    def change(consent: Consent, now: float) -> tuple[Consent, ConsentEvent] | None:
        if consent.duration_type is not DurationType.ONE_TIME:
            return None
        if consent.status is not ConsentStatus.ACTIVE or _past_expiry(consent, now):
            return None
        ends = token_exp if consent.expires_at is None else min(consent.expires_at, token_exp)
        used = replace(consent.with_status(ConsentStatus.ACTIVE, now), expires_at=ends)
        event = ConsentEvent(consent.id, now, "used", DATA_PROVIDER, BUSINESS_RULE)
        return used, event

    consent, _ = await _transition(book, consent_id, change)
    if consent is None:
        raise LookupError(consent_id)
    return consent


def reauthorization_due(consent: Consent, now: float, *, within_days: int = 30) -> bool:
    """True while a PERSISTENT consent is ACTIVE and its reauthorization falls within
    ``within_days`` (the sweeper's 30-day notice). TIME_BOUND consents end when the
    consumer said they would and ONE_TIME ones after one session: neither is "due"."""
    if consent.duration_type is not DurationType.PERSISTENT or consent.expires_at is None:
        return False
    return consent.is_active(now) and now >= consent.expires_at - within_days * DAY


def revocation_initiator(event: ConsentEvent) -> str:
    """The FDX PartyType that started a "revoked" event: the one a recipient named, else the
    actor."""
    if event.initiator is not None:
        return event.initiator
    # Events stored before the initiator had a column of its own kept it in the detail text.
    if event.detail is not None and event.detail.startswith(_INITIATOR):
        named = event.detail[len(_INITIATOR) :].split(";", 1)[0]
        if named in PARTY_TYPES:
            return named
    return event.actor


# ---------------------------------------------------------------------------- helpers


def _past_expiry(consent: Consent, now: float) -> bool:
    return (
        consent.status is ConsentStatus.ACTIVE
        and consent.expires_at is not None
        and now >= consent.expires_at
    )


def _expired(consent: Consent, now: float) -> tuple[Consent, ConsentEvent]:
    # The transition happened at expires_at; it is recorded when first seen.
    event = ConsentEvent(consent.id, now, "expired", DATA_PROVIDER, BUSINESS_RULE)
    return consent.with_status(ConsentStatus.EXPIRED, now), event


def _check_party(actor: str, reason: str | None) -> None:
    if actor not in ACTORS:
        raise ValueError(f"actor must be an FDX PartyType among {sorted(ACTORS)}")
    if reason is not None and reason not in REASONS:
        raise ValueError(f"reason must be an FDX ConsentUpdateReason among {sorted(REASONS)}")


async def _transition(
    book: ConsentBook, consent_id: str, change: Change
) -> tuple[Consent | None, ConsentEvent | None]:
    """Apply ``change`` to the stored consent with optimistic versions, retrying when another
    writer won; then notify the observers. (None, None) for an unknown id; (consent, None) when
    there was nothing to change."""
    records = book.records
    for _ in range(ATTEMPTS):
        current = await records.consents.get(consent_id)
        if current is None:
            return None, None
        proposed = change(current, book.clock())
        if proposed is None:
            return current, None
        updated, event = proposed
        if await records.consents.update(updated, event, expected_version=current.version):
            await _notify(book, updated, event)
            return updated, event
    raise TransitionConflict(consent_id)


async def _notify(book: ConsentBook, consent: Consent, event: ConsentEvent) -> None:
    """Observers enqueue and return; one that fails must not undo or hide a stored change."""
    for observer in book.observers:
        try:
            await observer.consent_changed(consent, event)
        except Exception as exc:
            # Type names only: an exception's text may carry personal data.
            log.error(
                "consent.observer_failed %s %s consent_id=%s",
                type(observer).__name__,
                type(exc).__name__,
                consent.id,
            )

"""How a consent begins: its expiry, the grant, and the recorded refusal.

Pure functions over values: the caller passes ``now`` and the new consent's id, and stores what
comes back (``records.create_consent(consent, event)``). Later steps of a consent's life (renewal,
revocation, expiry) read the same rules from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)
from authz.requests import ConsentRequest
from config.policy import Policy
from config.settings import Settings

DAY = 86400
INDIVIDUAL = "INDIVIDUAL"  # FDX PartyType of the consumer


def expiry(request: ConsentRequest, now: float, settings: Settings) -> float:
    """When a consent granted at ``now`` for ``request`` ends.

    - ONE_TIME: one data session, i.e. the code's lifetime plus one access token's
      (``code_ttl + access_token_ttl``); no refresh token is issued (design.md §5).
    - TIME_BOUND: ``durationPeriod`` days from the grant (FDX ConsentGrant ``durationPeriod``:
      "days from the original grant"), never beyond ``max_consent_days``.
    - PERSISTENT: ``max_consent_days`` (365) days: the consumer must reauthorize within a year of
      the latest authorization (CFPB 12 CFR §1033.421(b); FDX UX guidelines).
    """
    if request.duration_type is DurationType.ONE_TIME:
        return now + settings.code_ttl + settings.access_token_ttl
    days = settings.max_consent_days
    if request.duration_type is DurationType.TIME_BOUND and request.duration_period is not None:
        days = max(1, min(request.duration_period, settings.max_consent_days))
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

    Consent is specific (design.md §1): one ConsentResource per account, never a blanket grant.
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

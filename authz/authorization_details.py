"""What a recipient asks for, read from RFC 9396 ``authorization_details`` or from ``scope``.

The FDX entry is ``[{"type": "fdx_v1.0", "consentRequest": {durationType, durationPeriod,
lookbackPeriod, resources: [{resourceType, dataClusters}]}}]`` (docs/fdx.md §4); we add
``optionalDataClusters`` on a resource and ``purpose`` on the consentRequest. Everything is checked
against the cluster policy and the limits the client registered; the result is a ``ConsentRequest``
the consent screen shows. Without details, the ``fdx:*:read`` scopes name the clusters.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn

import orjson

from authz.consent.model import DurationType
from authz.errors import InvalidAuthorizationDetailsError, InvalidRequestError, InvalidScopeError
from authz.requests import ConsentRequest
from authz.store.base import ClientRecord
from config.policy import Policy
from config.settings import Settings

DETAILS_TYPE = "fdx_v1.0"
MAX_DETAILS_BYTES = 8192
MAX_PURPOSE_CHARS = 500
MAX_LOOKBACK_DAYS = 36500  # keeps date arithmetic downstream finite when a client has no limit
PLAIN_SCOPES = frozenset({"openid", "offline_access"})
_ENTRY_KEYS = frozenset({"type", "consentRequest"})
_REQUEST_KEYS = frozenset(
    {"durationType", "durationPeriod", "lookbackPeriod", "resources", "purpose"}
)
_RESOURCE_KEYS = frozenset({"resourceType", "dataClusters", "optionalDataClusters"})


def parse_scope(raw: str | None, client: ClientRecord, policy: Policy) -> tuple[str, ...]:
    """The requested scopes, each known and within what the client registered (RFC 6749 §3.3)."""
    if not raw:
        return ()
    scopes = tuple(dict.fromkeys(raw.split(" ")))
    for scope in scopes:
        if not scope or not all(0x21 <= ord(c) <= 0x7E and c not in '"\\' for c in scope):
            raise InvalidScopeError(description="scope is malformed")
        if scope in PLAIN_SCOPES:
            continue
        cluster = policy.cluster_for_scope(scope)
        if cluster is None:
            raise InvalidScopeError(description=f"unknown scope {scope[:60]}")
        if cluster not in client.clusters:
            raise InvalidScopeError(description=f"scope {scope} is not registered for this client")
    return scopes


def consent_request(
    details: str | None,
    scopes: Sequence[str],
    client: ClientRecord,
    policy: Policy,
    settings: Settings,
) -> ConsentRequest:
    """From ``authorization_details`` if present, else from validated ``scopes``."""
    if details is not None:
        return from_details(details, client, policy, settings)
    return from_scope(scopes, client, policy)


def from_scope(scopes: Sequence[str], client: ClientRecord, policy: Policy) -> ConsentRequest:
    """``fdx:*:read`` scopes as clusters; ``offline_access`` asks for a PERSISTENT consent."""
    clusters = [c for s in scopes if (c := policy.cluster_for_scope(s)) is not None]
    if not clusters:
        raise InvalidRequestError(description="authorization_details or an fdx scope is required")
    duration = DurationType.PERSISTENT if "offline_access" in scopes else DurationType.ONE_TIME
    if duration.value not in client.duration_types:
        raise InvalidScopeError(description=f"client is not registered for {duration.value}")
    return ConsentRequest(
        duration_type=duration,
        duration_period=None,
        lookback_period=client.max_lookback_period,
        clusters=_ordered(policy, clusters),
    )


def from_details(
    raw: str, client: ClientRecord, policy: Policy, settings: Settings
) -> ConsentRequest:
    """RFC 9396 §2: exactly one ``fdx_v1.0`` entry, within the client's registered limits."""
    if len(raw.encode("utf-8")) > MAX_DETAILS_BYTES:
        _refuse(f"authorization_details exceeds {MAX_DETAILS_BYTES} bytes")
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        _refuse("authorization_details is not valid JSON")
    if not isinstance(parsed, list) or len(parsed) != 1:
        _refuse("authorization_details must be an array with exactly one entry")
    entry = parsed[0]
    if not isinstance(entry, dict) or entry.get("type") != DETAILS_TYPE:
        _refuse(f"authorization_details type must be {DETAILS_TYPE}")
    _known_keys(entry, _ENTRY_KEYS, "authorization_details entry")
    request = entry.get("consentRequest")
    if not isinstance(request, dict):
        _refuse("consentRequest must be an object")
    _known_keys(request, _REQUEST_KEYS, "consentRequest")
    duration = _duration_type(request.get("durationType"), client)
    clusters, optional = _resources(request.get("resources"), client, policy)
    return ConsentRequest(
        duration_type=duration,
        duration_period=_duration_period(request.get("durationPeriod"), duration, client, settings),
        lookback_period=_lookback(request.get("lookbackPeriod"), client),
        clusters=clusters,
        optional_clusters=optional,
        purpose=_purpose(request.get("purpose")),
    )


def _duration_type(value: Any, client: ClientRecord) -> DurationType:
    if not isinstance(value, str) or value not in DurationType.__members__:
        _refuse("durationType must be ONE_TIME, TIME_BOUND or PERSISTENT")
    if value not in client.duration_types:
        _refuse(f"client is not registered for durationType {value}")
    return DurationType(value)


def _duration_period(
    value: Any, duration: DurationType, client: ClientRecord, settings: Settings
) -> int | None:
    if duration is not DurationType.TIME_BOUND:
        if value is not None:
            _refuse("durationPeriod applies only to TIME_BOUND consents")
        return None
    if value is None:
        _refuse("durationPeriod is required for TIME_BOUND consents")
    limit = min(client.max_duration_period or settings.max_consent_days, settings.max_consent_days)
    return _days(value, "durationPeriod", 1, limit)


def _lookback(value: Any, client: ClientRecord) -> int | None:
    limit = client.max_lookback_period
    if value is None:
        # Omitting it must not mean "all history" for a client registered with a limit: the
        # consent then asks for exactly what the client registered (as a scope-only request does).
        return limit
    return _days(value, "lookbackPeriod", 0, MAX_LOOKBACK_DAYS if limit is None else limit)


def _days(value: Any, name: str, low: int, high: int) -> int:
    # bool is an int subclass in Python; JSON true is not a number of days.
    if isinstance(value, bool) or not isinstance(value, int):
        _refuse(f"{name} must be a whole number of days")
    if not low <= value <= high:
        _refuse(f"{name} must be between {low} and {high} days for this client")
    return value


def _resources(
    value: Any, client: ClientRecord, policy: Policy
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if not isinstance(value, list) or not value:
        _refuse("resources must be a non-empty array")
    required: set[str] = set()
    optional: set[str] = set()
    for resource in value:
        if not isinstance(resource, dict):
            _refuse("each resource must be an object")
        if "resourceId" in resource:
            _refuse("resources must not carry resourceId: the consumer picks the accounts")
        _known_keys(resource, _RESOURCE_KEYS, "resource")
        if resource.get("resourceType") != "ACCOUNT":
            _refuse("resourceType must be ACCOUNT")
        required |= _clusters(resource.get("dataClusters"), "dataClusters", client, policy)
        if "optionalDataClusters" in resource:
            optional |= _clusters(
                resource["optionalDataClusters"], "optionalDataClusters", client, policy
            )
    return _ordered(policy, required), _ordered(policy, optional - required)


def _clusters(value: Any, name: str, client: ClientRecord, policy: Policy) -> set[str]:
    if not isinstance(value, list) or not value:
        _refuse(f"{name} must be a non-empty array")
    out: set[str] = set()
    for cluster in value:
        if isinstance(cluster, str) and cluster in policy.withheld:
            # Defined, but the bank's adapter cannot serve it (adapters/capability.py).
            _refuse(f"data cluster {cluster} is not offered by this bank")
        if not isinstance(cluster, str) or cluster not in policy.clusters:
            _refuse(f"{name} names an unknown data cluster")
        if cluster not in client.clusters:
            _refuse(f"data cluster {cluster} is not registered for this client")
        out.add(cluster)
    return out


def _purpose(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PURPOSE_CHARS:
        _refuse(f"purpose must be text of 1 to {MAX_PURPOSE_CHARS} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        _refuse("purpose must not contain control characters")
    return value.strip()


def _known_keys(obj: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    # Refuse what we do not understand rather than grant more than the client meant to ask.
    if not set(obj) <= allowed:
        _refuse(f"{where} has unsupported members")


def _ordered(policy: Policy, clusters: Iterable[str]) -> tuple[str, ...]:
    return tuple(c.name for c in policy.ordered(clusters))


def _refuse(description: str) -> NoReturn:
    raise InvalidAuthorizationDetailsError(description=description)

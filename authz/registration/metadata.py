"""Client metadata of a registration (RFC 7591 §2 with the FDX RecipientRequest fields,
docs/fdx.md §5): validated into what a ``ClientRecord`` holds, and rendered back.

The software statement's claims take precedence over the request's (RFC 7591 §2.3), so
``merge`` lays them over the request before anything is checked. Unknown fields are ignored
(RFC 7591 §2). What we cannot honour is refused with ``invalid_client_metadata`` rather than
silently changed: client authentication is ``private_key_jwt`` only (FAPI 2.0), signed ES256 or
PS256, keys by value (``jwks``) or by reference (``jwks_uri``), exactly one of them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry

from authz.authorization_details import MAX_LOOKBACK_DAYS
from authz.notifications.sender import Refused, check_url
from authz.registration import languages
from authz.registration.errors import InvalidClientMetadataError, InvalidRedirectUriError
from authz.registration.statement import JWT_CLAIMS
from config.policy import Policy
from config.settings import Settings

AUTH_METHOD = "private_key_jwt"
SIGNING_ALGS = ("ES256", "PS256")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
DURATION_TYPES = ("ONE_TIME", "TIME_BOUND", "PERSISTENT")
REGISTRIES = ("FDX", "GLEIF", "ICANN", "PRIVATE")
PLAIN_SCOPES = frozenset({"openid", "offline_access"})
MAX_URIS = 20
MAX_URI_CHARS = 2000
MAX_ITEMS = 10
MAX_TEXT = 1000
MAX_KEYS = 10
_PRIVATE_PARTS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_LOOPBACK = ("127.0.0.1", "::1", "localhost")
# Kept verbatim in ``ClientRecord.extra`` and rendered back (RFC 7591 §3.2.1).
EXTRA_FIELDS = (
    "registry_references", "intermediaries", "grant_types", "response_types",
    "token_endpoint_auth_method", "token_endpoint_auth_signing_alg",
    "id_token_signed_response_alg", "subject_type", "software_id", "software_version",
    "software_statement",
)  # fmt: skip
# The request fields a registration reads; everything else is ignored (RFC 7591 §2).
FIELDS = frozenset(
    {
        "client_name", "redirect_uris", "logo_uri", "client_uri", "contacts", "description",
        "scope", "duration_type", "duration_period", "lookback_period", "jwks", "jwks_uri",
        "notification_uri", *EXTRA_FIELDS,
    }
)  # fmt: skip


def merge(request: Mapping[str, Any], statement: Mapping[str, Any]) -> dict[str, Any]:
    """The request's metadata with the statement's client-metadata claims laid over it
    (language-tagged names and purposes, RFC 7591 §2.2, included)."""

    def known(key: str) -> bool:
        return key in FIELDS or languages.TAGGED.fullmatch(key) is not None

    merged = {k: v for k, v in request.items() if known(k)}
    merged.update({k: v for k, v in statement.items() if known(k) and k not in JWT_CLAIMS})
    return merged


def validate(metadata: Mapping[str, Any], policy: Policy, settings: Settings) -> dict[str, Any]:
    """``ClientRecord`` keyword arguments (client_id, status and times excepted)."""
    loopback = _loopback_allowed(settings)
    jwks, jwks_uri = _keys(metadata, settings)
    durations = _durations(metadata.get("duration_type"))
    extra: dict[str, Any] = {
        "grant_types": _grant_types(metadata.get("grant_types")),
        "response_types": _response_types(metadata.get("response_types")),
        "token_endpoint_auth_method": _auth_method(metadata.get("token_endpoint_auth_method")),
        "token_endpoint_auth_signing_alg": _choice(
            metadata.get("token_endpoint_auth_signing_alg", "ES256"),
            SIGNING_ALGS,
            "token_endpoint_auth_signing_alg",
        ),
        "registry_references": _references(metadata.get("registry_references")),
        "intermediaries": _intermediaries(metadata.get("intermediaries"), loopback),
    }
    extra["scope"] = _registered_scope(metadata.get("scope"))
    if "id_token_signed_response_alg" in metadata:
        extra["id_token_signed_response_alg"] = _choice(
            metadata["id_token_signed_response_alg"], ("ES256",), "id_token_signed_response_alg"
        )
    if "subject_type" in metadata:
        extra["subject_type"] = _choice(metadata["subject_type"], ("pairwise",), "subject_type")
    for name in ("software_id", "software_version", "software_statement"):
        if name in metadata:
            extra[name] = _text(metadata[name], name, 16_384)
    localized = _localized(metadata)
    if localized:
        extra[languages.KEY] = localized
    return {
        "client_name": _text(metadata.get("client_name"), "client_name", 256, required=True),
        "redirect_uris": _redirect_uris(metadata.get("redirect_uris"), loopback),
        "jwks": jwks,
        "jwks_uri": jwks_uri,
        "logo_uri": _uri(metadata.get("logo_uri"), "logo_uri", loopback),
        "client_uri": _uri(metadata.get("client_uri"), "client_uri", loopback),
        "description": _text(metadata.get("description"), "description", MAX_TEXT),
        "contacts": _strings(metadata.get("contacts"), "contacts", 256),
        "clusters": _clusters(metadata.get("scope"), policy),
        "duration_types": durations,
        "max_duration_period": _days(
            metadata.get("duration_period"), "duration_period", settings.max_consent_days
        ),
        "max_lookback_period": _days(
            metadata.get("lookback_period"), "lookback_period", MAX_LOOKBACK_DAYS
        ),
        "notification_uri": _notification_uri(metadata.get("notification_uri"), settings),
        "extra": extra,
    }


def _localized(metadata: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """RFC 7591 §2.2: ``client_name#ja`` and ``description#ja``, checked like their untagged
    fields, tags folded to lower case."""
    found = languages.tagged(metadata)
    if sum(len(v) for v in found.values()) > languages.MAX_TAGS:
        raise _refuse(f"at most {languages.MAX_TAGS} language-tagged values")
    limits = {"client_name": 256, "description": MAX_TEXT}
    return {
        name: {tag: _text(value, f"{name}#{tag}", limits[name], required=True)
               for tag, value in values.items()}
        for name, values in found.items()
    }  # fmt: skip


def _loopback_allowed(settings: Settings) -> bool:
    """Plain-http loopback URIs only where the gateway itself runs on http loopback (the
    sandbox and local development: Settings refuses an http issuer anywhere else)."""
    return settings.issuer.startswith("http://")


def _refuse(description: str) -> InvalidClientMetadataError:
    return InvalidClientMetadataError(description=description)


def _text(value: Any, name: str, limit: int, *, required: bool = False) -> Any:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _refuse(f"{name} must be a non-empty string of at most {limit} characters")
    return value


def _strings(value: Any, name: str, limit: int) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise _refuse(f"{name} must be an array of at most {MAX_ITEMS} strings")
    return tuple(_text(v, name, limit, required=True) for v in value)


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise _refuse(f"{name} must be one of {', '.join(allowed)}")
    return str(value)


def _web_uri(value: str, loopback: bool) -> bool:
    """An absolute https URL with a host, no credentials and no fragment (or http on loopback,
    where allowed)."""
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    if not host or parts.fragment or "#" in value or parts.username or parts.password:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and loopback and _is_loopback(host)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _uri(value: Any, name: str, loopback: bool) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_URI_CHARS or not _web_uri(value, loopback):
        raise _refuse(f"{name} must be an https URL without a fragment")
    return value


def _redirect_uris(value: Any, loopback: bool) -> tuple[str, ...]:
    """RFC 6749 §3.1.2: absolute, no fragment; https (FAPI 2.0 §5.3.2.2); compared exactly."""
    if not isinstance(value, list) or not 0 < len(value) <= MAX_URIS:
        raise InvalidRedirectUriError(
            description=f"redirect_uris must be an array of 1 to {MAX_URIS} URLs"
        )
    for uri in value:
        if not isinstance(uri, str) or len(uri) > MAX_URI_CHARS or not _web_uri(uri, loopback):
            raise InvalidRedirectUriError(
                description="each redirect URI must be an https URL without a fragment"
            )
    return tuple(dict.fromkeys(value))


def _clusters(value: Any, policy: Policy) -> tuple[str, ...]:
    """FDX ``scope``: data cluster names (v5.2/v6.2) or ``fdx:*:read`` scopes (v6.3), both
    accepted (docs/fdx.md §5); openid and offline_access need no cluster."""
    if not isinstance(value, str) or not value.strip():
        raise _refuse("scope must name at least one data cluster")
    clusters: list[str] = []
    for token in value.split():
        if token in PLAIN_SCOPES:
            continue
        cluster = token if token in policy.clusters else policy.cluster_for_scope(token)
        if cluster is None:
            raise _refuse("scope names an unknown data cluster or scope")
        clusters.append(cluster)
    if not clusters:
        raise _refuse("scope must name at least one data cluster")
    return tuple(c.name for c in policy.ordered(dict.fromkeys(clusters)))


def _registered_scope(value: Any) -> str:
    """The ``scope`` as registered (each value once, in the client's order), to be answered
    back as such (RFC 7591 §3.2.1); ``_clusters`` has already checked it."""
    return " ".join(dict.fromkeys(str(value).split()))


def _notification_uri(value: Any, settings: Settings) -> str | None:
    """A URL the sender would refuse at every attempt (plain http, a loopback or private
    address, unless ``allow_insecure_notification_urls``) is refused now, not kept silently."""
    uri = _uri(value, "notification_uri", _loopback_allowed(settings))
    if uri is not None:
        try:
            check_url(uri, allow_insecure=settings.allow_insecure_notification_urls)
        except Refused as exc:
            raise _refuse(
                f"notification_uri would never be delivered to ({exc}): it must be an https"
                " URL of a public host"
            ) from None
    return uri


def _durations(value: Any) -> tuple[str, ...]:
    if value is None:
        return DURATION_TYPES
    if not isinstance(value, list) or not value or not all(v in DURATION_TYPES for v in value):
        raise _refuse("duration_type must be an array of ONE_TIME, TIME_BOUND, PERSISTENT")
    return tuple(dict.fromkeys(value))


def _days(value: Any, name: str, limit: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise _refuse(f"{name} must be a whole number of days from 1 to {limit}")
    return value


def _grant_types(value: Any) -> list[str]:
    if value is None:
        return ["authorization_code", "refresh_token"]
    if not isinstance(value, list) or not value or not all(v in GRANT_TYPES for v in value):
        raise _refuse("grant_types may hold only " + ", ".join(GRANT_TYPES))
    return list(dict.fromkeys(value))


def _response_types(value: Any) -> list[str]:
    if value is None or value == ["code"]:
        return ["code"]
    raise _refuse("response_types must be [code]")


def _auth_method(value: Any) -> str:
    # RFC 7591's default (client_secret_basic) is not offered: the default here is ours.
    if value is None or value == AUTH_METHOD:
        return AUTH_METHOD
    raise _refuse(f"token_endpoint_auth_method must be {AUTH_METHOD}")


def _keys(metadata: Mapping[str, Any], settings: Settings) -> tuple[dict[str, Any], str | None]:
    """RFC 7591 §2: ``jwks`` and ``jwks_uri`` MUST NOT both be present; one is needed here."""
    jwks, uri = metadata.get("jwks"), metadata.get("jwks_uri")
    if (jwks is None) == (uri is None):
        raise _refuse("exactly one of jwks and jwks_uri is required")
    if uri is not None:
        if not isinstance(uri, str) or len(uri) > MAX_URI_CHARS:
            raise _refuse("jwks_uri must be an https URL")
        parts = urlsplit(uri)
        fetchable = parts.scheme == "https" or (
            settings.jwks_fetch_allow_private and parts.scheme == "http"
        )
        if not fetchable or not parts.hostname or parts.fragment or parts.username:
            raise _refuse("jwks_uri must be an https URL")
        return {}, uri
    return _jwk_set(jwks), None


def _jwk_set(jwks: Any) -> dict[str, Any]:
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(entries, list) or not 0 < len(entries) <= MAX_KEYS:
        raise _refuse(f"jwks must be a JWK Set of 1 to {MAX_KEYS} keys")
    usable = 0
    for entry in entries:
        if not isinstance(entry, dict) or _PRIVATE_PARTS & entry.keys():
            raise _refuse("jwks must hold public keys only")
        if entry.get("kty") not in ("EC", "RSA") or entry.get("use", "sig") != "sig":
            continue
        try:
            JWKRegistry.import_key(entry)
        except (JoseError, ValueError, TypeError, KeyError):
            raise _refuse("jwks holds a malformed key") from None
        usable += 1
    if not usable:
        raise _refuse("jwks holds no EC or RSA signing key")
    return {"keys": entries}


def _references(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise _refuse(f"registry_references must be an array of at most {MAX_ITEMS} objects")
    out: list[dict[str, str]] = []
    for ref in value:
        if not isinstance(ref, dict):
            raise _refuse("each registry reference must be an object")
        item = {
            "registered_entity_name": _text(
                ref.get("registered_entity_name"), "registered_entity_name", 256, required=True
            ),
            "registered_entity_id": _text(
                ref.get("registered_entity_id"), "registered_entity_id", 256, required=True
            ),
            "registry": _choice(ref.get("registry"), REGISTRIES, "registry"),
        }
        out.append(item)
    return out


def _intermediaries(value: Any, loopback: bool) -> list[dict[str, Any]]:
    """FDX Intermediary: who else stands between the bank and the recipient (shown on the
    consent screen, CFPB §1033.431)."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise _refuse(f"intermediaries must be an array of at most {MAX_ITEMS} objects")
    out: list[dict[str, Any]] = []
    for item in value:
        if not isinstance(item, dict):
            raise _refuse("each intermediary must be an object")
        entry: dict[str, Any] = {
            "name": _text(item.get("name"), "intermediaries name", 256, required=True)
        }
        optional = {
            "description": _text(item.get("description"), "intermediaries description", MAX_TEXT),
            "uri": _uri(item.get("uri"), "intermediaries uri", loopback),
            "logo_uri": _uri(item.get("logo_uri"), "intermediaries logo_uri", loopback),
        }
        entry.update({k: v for k, v in optional.items() if v is not None})
        contacts = _strings(item.get("contacts"), "intermediaries contacts", 256)
        if contacts:
            entry["contacts"] = list(contacts)
        references = _references(item.get("registry_references"))
        if references:
            entry["registry_references"] = references
        out.append(entry)
    return out

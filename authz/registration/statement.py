"""Software statements (RFC 7591 §2.3): the ecosystem registry's signed word about a recipient.

Every registration carries one. It is a JWS signed by the registry (ES256 or PS256) with a key
from the registry's JWK Set, which the bank configures (``registry_jwks``). Its ``iss`` is
required; ``exp``, ``nbf`` and ``iat`` are checked when present, with the configured clock skew.
A statement whose signature no registry key verifies is *unapproved* (signed by someone the bank
does not trust); one that is malformed, expired, or fails against the key its ``kid`` names is
*invalid*. Its client-metadata claims then take precedence over the request's (§2.3).
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import orjson
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key, KeySet

from authz.registration.errors import (
    InvalidSoftwareStatementError,
    UnapprovedSoftwareStatementError,
)
from config.settings import Settings, SettingsError

ALGORITHMS = ("ES256", "PS256")
MAX_STATEMENT_CHARS = 16_384
_KEY_TYPES = {"ES256": "EC", "PS256": "RSA"}
# JWT claims about the statement itself, never client metadata (RFC 7519 §4.1).
JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti"})


def registry_file(settings: Settings) -> str | None:
    """The registry JWK Set dynamic registration trusts, or None (registration off).

    The demo registry's private key is published (config/demo), so its public key is trusted
    only by the sandbox: a gateway in front of a real bank that kept the default turns DCR off
    rather than let anyone sign statements."""
    if not settings.registry_jwks:
        return None
    demo = (Path(settings.demo_dir) / "registry-jwks.json").resolve()
    if settings.adapter != "sandbox" and Path(settings.registry_jwks).resolve() == demo:
        return None
    return settings.registry_jwks


def load_registry_keys(path: str) -> KeySet:
    """The registry's public keys from a JWK Set file; ``SettingsError`` names the setting."""
    try:
        doc = orjson.loads(Path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise SettingsError(f"registry_jwks: cannot read {path} ({type(exc).__name__})") from None
    entries = doc.get("keys") if isinstance(doc, dict) else None
    keys: list[Key] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") not in ("EC", "RSA"):
            continue
        if "d" in entry:
            raise SettingsError(f"registry_jwks: {path} holds a private key; give the public set")
        try:
            keys.append(JWKRegistry.import_key(entry))
        except (JoseError, ValueError, TypeError):
            raise SettingsError(f"registry_jwks: {path} holds a malformed key") from None
    if not keys:
        raise SettingsError(f"registry_jwks: {path} holds no EC or RSA public key")
    return KeySet(keys)


def verify_statement(raw: Any, keys: KeySet, *, now: float, leeway: int) -> dict[str, Any]:
    """The statement's claims once signature and times check out; raises the RFC 7591 errors."""
    if not isinstance(raw, str) or not raw:
        raise InvalidSoftwareStatementError(description="software_statement is required")
    if len(raw) > MAX_STATEMENT_CHARS or raw.count(".") != 2:
        raise InvalidSoftwareStatementError(description="software_statement is not a signed JWT")
    header = _header(raw)
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise InvalidSoftwareStatementError(
            description="software_statement must be signed ES256 or PS256"
        )
    kid = header.get("kid")
    candidates = [
        k for k in keys.keys if k.key_type == _KEY_TYPES[alg] and (kid is None or k.kid == kid)
    ]
    if not candidates:
        raise UnapprovedSoftwareStatementError(
            description="software_statement is not signed by a trusted registry"
        )
    for key in candidates:
        try:
            claims = dict(jwt.decode(raw, key, algorithms=[alg]).claims)
        except (JoseError, ValueError, TypeError):
            continue
        _check_claims(claims, now=now, leeway=leeway)
        return claims
    if kid is None:
        raise UnapprovedSoftwareStatementError(
            description="software_statement is not signed by a trusted registry"
        )
    raise InvalidSoftwareStatementError(description="software_statement signature is invalid")


def stored_claims(raw: str) -> dict[str, Any]:
    """The claims of a statement verified when it was registered (no second check: the stored
    record is trusted, and the registry may have rotated its key since)."""
    try:
        payload = orjson.loads(_b64(raw.split(".")[1]))
    except (IndexError, ValueError, binascii.Error):
        return {}
    return payload if isinstance(payload, dict) else {}


def _check_claims(claims: dict[str, Any], *, now: float, leeway: int) -> None:
    try:
        jwt.JWTClaimsRegistry(now=int(now), leeway=leeway, iss={"essential": True}).validate(claims)
    except JoseError:
        raise InvalidSoftwareStatementError(
            description="software_statement is expired, not yet valid, or lacks iss"
        ) from None
    if not isinstance(claims.get("iss"), str) or not claims["iss"]:
        raise InvalidSoftwareStatementError(description="software_statement lacks iss")


def _header(raw: str) -> dict[str, Any]:
    try:
        header = orjson.loads(_b64(raw.split(".")[0]))
    except (ValueError, binascii.Error):
        raise InvalidSoftwareStatementError(
            description="software_statement is not a signed JWT"
        ) from None
    if not isinstance(header, dict):
        raise InvalidSoftwareStatementError(description="software_statement is not a signed JWT")
    return header


def _b64(segment: str) -> bytes:
    if not segment or not segment.isascii():
        raise ValueError("empty or non-ASCII segment")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))

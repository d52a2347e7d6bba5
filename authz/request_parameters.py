"""Authorization request parameters the gateway takes no action on, checked for form.

OpenID Connect and RFC 8707 define ``claims``, ``prompt`` and ``resource``. The gateway always
asks for consent, releases claims by data cluster (not by the ``claims`` request,
``claims_parameter_supported`` is false) and serves one resource, so a well-formed value
changes nothing. (``max_age`` and ``acr_values``, which the bank's sign-in honours, are read by
``authz/par.py``.) A malformed one is still a broken request,
and is refused at PAR rather than silently dropped: the client learns of its bug before a
consumer meets it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from authz.errors import InvalidRequestError, InvalidTargetError

# OIDC Core §3.1.2.1, and "create" from Initiating User Registration via OpenID Connect 1.0.
PROMPTS = frozenset({"none", "login", "consent", "select_account", "create"})
CLAIMS_MEMBERS = frozenset({"userinfo", "id_token"})  # OIDC Core §5.5
# RFC 3986 §3.1 scheme ":" then printable ASCII with no space (a URI has none).
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~]+")


def check_request_parameters(form: Mapping[str, str]) -> None:
    """Raises ``InvalidRequestError`` (``InvalidTargetError`` for ``resource``) for the first
    malformed parameter among them."""
    if "claims" in form:
        _check_claims(form["claims"])
    if "prompt" in form:
        _check_prompt(form["prompt"])
    if "resource" in form:
        _check_resource(form["resource"])


def _check_claims(raw: str) -> None:
    """OIDC Core §5.5: a JSON object whose members ``userinfo`` and ``id_token`` are objects
    mapping each claim name to null or to an object (§5.5.1)."""
    try:
        claims: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequestError(description="claims must be a JSON object") from None
    if not isinstance(claims, dict):
        raise InvalidRequestError(description="claims must be a JSON object")
    for member, requested in claims.items():
        if member in CLAIMS_MEMBERS and not (
            isinstance(requested, dict)
            and all(v is None or isinstance(v, dict) for v in requested.values())
        ):
            raise InvalidRequestError(
                description=f"claims.{member} must map claim names to null or an object"
            )


def _check_prompt(raw: str) -> None:
    """OIDC Core §3.1.2.1: space-delimited known values, ``none`` only on its own."""
    values = raw.split(" ")
    if not all(values) or len(set(values)) != len(values):
        raise InvalidRequestError(description="prompt must be space-separated values, once each")
    if not PROMPTS.issuperset(values):
        raise InvalidRequestError(
            description=f"prompt values are among {', '.join(sorted(PROMPTS))}"
        )
    if "none" in values and len(values) > 1:
        raise InvalidRequestError(description="prompt none cannot be combined with other values")


def _check_resource(raw: str) -> None:
    """RFC 8707 §2: an absolute URI (RFC 3986 §4.3) without a fragment; else ``invalid_target``,
    the error RFC 8707 names for a malformed resource."""
    if not _ABSOLUTE_URI.fullmatch(raw) or "#" in raw:
        raise InvalidTargetError(description="resource must be an absolute URI, no fragment")

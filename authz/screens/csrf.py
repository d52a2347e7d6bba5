"""CSRF values for the screens' forms: an HMAC of what the form is bound to, never stored.

A consent form's value is bound to the session id and the interaction id, so it is useless in
another browser or for another request; the sign-in form's is bound to a random pre-session nonce
kept in a SameSite cookie (login CSRF: an attacker must not sign a victim in as themselves).

Forms that act for a signed-in consumer also check where the post came from (``same_origin``):
a second, independent defence (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin with
Standard Headers"), should a CSRF value ever leak.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import Headers

FIELD = "csrf"


def token(secret: bytes, binding: str, interaction_id: str) -> str:
    message = b"\x00".join([b"csrf", binding.encode(), interaction_id.encode()])
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def valid(secret: bytes, binding: str | None, interaction_id: str, presented: str | None) -> bool:
    """Constant-time comparison; False when anything is missing."""
    if not binding or not presented:
        return False
    expected = token(secret, binding, interaction_id)
    return secrets.compare_digest(expected.encode(), presented.encode("utf-8", "replace"))


_DEFAULT_PORTS = {"http": 80, "https": 443}


def same_origin(headers: Headers, issuer: str) -> bool:
    """Whether a form post came from the gateway's own pages: its ``Origin`` (RFC 6454 §7, sent
    by browsers on every POST), or when there is none its ``Referer``, names the issuer's
    origin. A post with neither (an old browser, a privacy tool) is let through to the CSRF
    check, which alone decides then; ``Origin: null`` (a sandboxed or opaque origin) is not."""
    ours = _origin(issuer)
    for name in ("origin", "referer"):
        values = headers.getlist(name)
        if values:
            return len(values) == 1 and ours is not None and _origin(values[0]) == ours
    return True


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]

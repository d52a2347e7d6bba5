"""CSRF values for the screens' forms: an HMAC of what the form is bound to, never stored.

A consent form's value is bound to the session id and the interaction id, so it is useless in
another browser or for another request; the sign-in form's is bound to a random pre-session nonce
kept in a SameSite cookie (login CSRF: an attacker must not sign a victim in as themselves).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

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

"""The "known device" cookie: which user IDs signed in successfully from this browser.

The sign-in throttle (``authz.screens.throttle``) locks a user ID for every address once it
has failed often enough from many addresses. Anyone who knows the user ID can trigger that,
and with IPv6 a stranger has addresses enough to renew it for ever, keeping the owner from
signing in, and so from ending a consent ("Stop sharing" in the portal). The owner's own
browser is the way out: after each successful sign-in the gateway sets this signed, HttpOnly
cookie naming the user ID (as a hash), and the per-user-ID lock does not apply to a browser
carrying it. The per-(user ID, address) and per-address locks still do, so a stolen cookie
gives a guesser no more tries than one address has; a stranger without it stays throttled.
docs/security.md, "Sign-in throttling", gives the reasoning.
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from authz.services import Services

KNOWN_COOKIE = "fdxgw_known"
KNOWN_TTL = 180 * 86400  # seconds: a browser used at least twice a year stays known
MAX_USERS = 5  # user IDs one browser remembers (a shared family computer)


class KnownDevices:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._serializer = URLSafeTimedSerializer(services.secret, salt="known-device")

    def knows(self, request: Request, user_id: str) -> bool:
        """Whether this browser signed in as ``user_id`` (any case) within ``KNOWN_TTL``."""
        return _digest(user_id) in self._remembered(request)

    def remember(self, request: Request, response: Response, user_id: str) -> None:
        """After a successful sign-in: this user ID first, then up to four others."""
        digest = _digest(user_id)
        kept = [d for d in self._remembered(request) if d != digest]
        value = self._serializer.dumps([digest, *kept][:MAX_USERS])
        response.set_cookie(
            KNOWN_COOKIE,
            value,
            max_age=KNOWN_TTL,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self._services.settings.secure_cookies,
        )

    def _remembered(self, request: Request) -> list[str]:
        raw = request.cookies.get(KNOWN_COOKIE)
        if not raw or len(raw) > 1024:
            return []
        try:
            value = self._serializer.loads(raw, max_age=KNOWN_TTL)
        except BadSignature:  # SignatureExpired is a BadSignature
            return []
        if not isinstance(value, list):
            return []
        return [d for d in value if isinstance(d, str)][:MAX_USERS]


def _digest(user_id: str) -> str:
    """The user ID as the throttle counts it (lower case), hashed: the cookie never shows it."""
    return hashlib.sha256(user_id.strip().lower().encode("utf-8")).hexdigest()[:32]

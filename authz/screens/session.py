"""The consumer's sign-in session at the bank: a random id in the StateStore, carried by a
signed, HttpOnly cookie.

A new id is made at every sign-in (session fixation, OWASP ASVS V3.2.1). The cookie is
SameSite=Lax: the consumer arrives by a top-level redirect from the app, which Lax allows, while
cross-site form posts carry no cookie. ``Secure`` whenever the issuer is https.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from authz.services import Services
from authz.store.base import Kind

SESSION_COOKIE = "fdxgw_session"
LOGIN_COOKIE = "fdxgw_login"  # pre-session nonce that the sign-in form's CSRF value is bound to


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    customer_id: str
    auth_time: float
    acr: str | None = None  # how the consumer signed in (OIDC Core §2), for the ID token
    amr: tuple[str, ...] = ()


class Sessions:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._session = URLSafeTimedSerializer(services.secret, salt="session")
        self._login = URLSafeTimedSerializer(services.secret, salt="login")

    async def current(self, request: Request) -> Session | None:
        """The signed-in session, or None (no cookie, bad signature, unknown or expired)."""
        sid = self._session_id(request)
        if sid is None:
            return None
        payload = await self._services.state.get(Kind.SESSION, sid)
        if payload is None:
            return None
        acr = payload.get("acr")
        return Session(
            sid,
            str(payload["customer_id"]),
            float(payload["auth_time"]),
            acr=acr if isinstance(acr, str) else None,
            amr=tuple(payload.get("amr") or ()),
        )

    async def start(
        self,
        customer_id: str,
        response: Response,
        *,
        auth_time: float | None = None,
        acr: str | None = None,
        amr: tuple[str, ...] = (),
    ) -> Session:
        """A fresh session (never the one the browser brought) and its cookie on ``response``;
        ``auth_time`` is now unless the bank's OP said when the consumer signed in there."""
        settings = self._services.settings
        when = self._services.clock() if auth_time is None else auth_time
        session = Session(secrets.token_urlsafe(32), customer_id, when, acr=acr, amr=amr)
        payload: dict[str, object] = {"customer_id": customer_id, "auth_time": session.auth_time}
        if acr is not None:
            payload["acr"] = acr
        if amr:
            payload["amr"] = list(amr)
        await self._services.state.put(Kind.SESSION, session.id, payload, ttl=settings.session_ttl)
        self._cookie(
            response, SESSION_COOKIE, self._session.dumps(session.id), settings.session_ttl
        )
        response.delete_cookie(LOGIN_COOKIE, path="/")
        return session

    async def end(self, request: Request) -> None:
        sid = self._session_id(request)
        if sid is not None:
            await self._services.state.delete(Kind.SESSION, sid)

    def login_nonce(self, request: Request) -> str | None:
        """The browser's pre-session nonce, if it brought a valid one."""
        ttl = self._services.settings.interaction_ttl
        return self._unsign(self._login, request.cookies.get(LOGIN_COOKIE), ttl)

    def set_login_nonce(self, response: Response, nonce: str) -> None:
        ttl = self._services.settings.interaction_ttl
        self._cookie(response, LOGIN_COOKIE, self._login.dumps(nonce), ttl)

    def _cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=self._services.settings.secure_cookies,
        )

    def _session_id(self, request: Request) -> str | None:
        ttl = self._services.settings.session_ttl
        return self._unsign(self._session, request.cookies.get(SESSION_COOKIE), ttl)

    @staticmethod
    def _unsign(serializer: URLSafeTimedSerializer, value: str | None, max_age: int) -> str | None:
        if not value or len(value) > 512:
            return None
        try:
            sid = serializer.loads(value, max_age=max_age)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        return sid if isinstance(sid, str) else None

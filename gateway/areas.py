"""Which protocol a path speaks, and the answers no route gives: 404, 405 and the last-resort 500.

The gateway serves three kinds of client, and each must be answered in its own terms even where
no route matched (a path beside a real one, a method a route does not take) or a bug escaped:

- ``FDX``: the FDX API (``/fdx/…``), an FDX ``Error1`` body (``gateway.errors.render``): 404/1107,
  405/1206 with ``Allow``, 500/500;
- ``SCREENS``: what a consumer's browser opens (the authorization screens, the consumer
  portal), the screens' plain-words HTML page;
- ``OAUTH``: everything else (the OAuth endpoints, registration, discovery, the keys, the
  operator's endpoints), an RFC 6749 §5.2 JSON error: ``invalid_request`` for a path or method
  that does not exist, ``server_error`` (RFC 6749 §4.1.2.1) for a bug.

Starlette's router raises ``HTTPException`` for 404 and 405 (inside an app), and its last-resort
handler gets any other exception; both are registered, once, by ``create_app``. The head limits
(``gateway/head_limits.py``) answer their 431 here too.
"""

from __future__ import annotations

import enum
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from authz.errors import InvalidRequestError, OAuth2Error, oauth_error_response
from authz.screens import i18n
from authz.screens.pages import error_page
from config.settings import Settings
from gateway.errors import (
    ExceptionHandler,
    FdxError,
    MethodNotAllowed,
    NotFound,
    interaction_id,
    render,
    where,
)

log = logging.getLogger("gateway")

# Paths a person's browser opens: they get an HTML page, not JSON.
SCREEN_PREFIXES = (
    "/oauth/authorize",
    "/oauth/interaction/",
    "/oauth/error/",
    "/oauth/login/",  # the bank's OpenID Provider sends the browser back here
    "/consumer/",
)


class Area(enum.Enum):
    FDX = "fdx"
    SCREENS = "screens"
    OAUTH = "oauth"


def area_of(path: str) -> Area:
    if path == "/fdx" or path.startswith("/fdx/"):
        return Area.FDX
    if path == "/consumer" or path.startswith(SCREEN_PREFIXES):
        return Area.SCREENS
    return Area.OAUTH


class ServerError(OAuth2Error):
    """RFC 6749 §4.1.2.1 ``server_error``, as a 500 on any OAuth-shaped path."""

    error = "server_error"
    status_code = 500


class AreaAnswers:
    """The answers of each area, for one app's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def refusal(self, request: Request, status: int, headers: dict[str, str]) -> Response:
        """404 (no such path), 405 (no such method: ``headers`` has ``Allow``) or 431 (request
        header fields too large, RFC 6585 §5) in the area's shape."""
        area = area_of(request.url.path)
        if area is Area.FDX:
            error: FdxError = _FDX_REFUSALS.get(status, NotFound)()
            error.headers.update(headers)
            return render(request, error)
        if area is Area.SCREENS:
            lang = i18n.choose(request, self.settings.languages)
            reason = "not_found" if status == 404 else "bad_request"
            page = error_page(self.settings, lang, reason, status=status)
            page.headers.update(headers)
            return page
        if status == 405:
            description = f"method not allowed; use {headers.get('Allow', 'another method')}"
        else:
            description = _OAUTH_REFUSALS.get(status, "no such endpoint")
        oauth = InvalidRequestError(description=description)
        oauth.status_code = status
        response = oauth_error_response(oauth)
        response.headers.update(headers)
        return response

    async def no_route(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return self.refusal(request, exc.status_code, dict(exc.headers or {}))

    async def unexpected(self, request: Request, exc: Exception) -> Response:
        area = area_of(request.url.path)
        if area is Area.FDX:
            return render(request, exc)  # logs it, with the interaction id
        iid = interaction_id(request)
        # Type and place only: a message or a traceback can carry personal data or a token.
        log.error("unhandled %s at %s interaction_id=%s", type(exc).__name__, where(exc), iid)
        if area is Area.SCREENS:
            lang = i18n.choose(request, self.settings.languages)
            return error_page(self.settings, lang, "server_error")
        return oauth_error_response(ServerError(description=f"interaction id {iid}"))

    def handlers(self) -> dict[type[Exception], ExceptionHandler]:
        """``exception_handlers`` entries: no route (404, 405) and the last resort (500)."""
        return {HTTPException: self.no_route, Exception: self.unexpected}


class HeadersTooLarge(FdxError):
    """RFC 6585 §5 in the FDX shape: FDX has no code of its own for it, so "Invalid Input"."""

    code, status, message = "401", 431, "Request header fields too large"


_FDX_REFUSALS: dict[int, type[FdxError]] = {
    404: NotFound,
    405: MethodNotAllowed,
    431: HeadersTooLarge,
}
_OAUTH_REFUSALS = {404: "no such endpoint", 431: "request header fields too large"}


__all__ = ["SCREEN_PREFIXES", "Area", "AreaAnswers", "HeadersTooLarge", "area_of"]

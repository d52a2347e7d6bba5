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
handler gets any other exception; both are registered here, once, by ``create_app``.
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
SCREEN_PREFIXES = ("/oauth/authorize", "/oauth/interaction/", "/oauth/error/", "/consumer/")


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


def area_handlers(settings: Settings) -> dict[type[Exception], ExceptionHandler]:
    """``exception_handlers`` entries: no route (404, 405) and the last resort (500)."""

    async def no_route(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        area = area_of(request.url.path)
        if area is Area.FDX:
            error: FdxError = MethodNotAllowed() if exc.status_code == 405 else NotFound()
            error.headers.update(headers)
            return render(request, error)
        if area is Area.SCREENS:
            lang = i18n.choose(request, settings.languages)
            reason = "bad_request" if exc.status_code == 405 else "not_found"
            page = error_page(settings, lang, reason, status=exc.status_code)
            page.headers.update(headers)
            return page
        if exc.status_code == 405:
            description = f"method not allowed; use {headers.get('Allow', 'another method')}"
        else:
            description = "no such endpoint"
        oauth = InvalidRequestError(description=description)
        oauth.status_code = exc.status_code
        response = oauth_error_response(oauth)
        response.headers.update(headers)
        return response

    async def unexpected(request: Request, exc: Exception) -> Response:
        area = area_of(request.url.path)
        if area is Area.FDX:
            return render(request, exc)  # logs it, with the interaction id
        iid = interaction_id(request)
        # Type and place only: a message or a traceback can carry personal data or a token.
        log.error("unhandled %s at %s interaction_id=%s", type(exc).__name__, where(exc), iid)
        if area is Area.SCREENS:
            lang = i18n.choose(request, settings.languages)
            return error_page(settings, lang, "server_error")
        return oauth_error_response(ServerError(description=f"interaction id {iid}"))

    return {HTTPException: no_route, Exception: unexpected}


__all__ = ["SCREEN_PREFIXES", "Area", "area_handlers", "area_of"]

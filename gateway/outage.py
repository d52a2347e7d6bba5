"""A store outage (Redis or PostgreSQL away), answered in the protocol of the path it hit.

The stores raise ``StateUnavailable`` / ``RecordsUnavailable`` and nothing below catches them:
whatever the request was doing stops there, and nothing it could not check or record is served.
This handler, registered once by ``create_app``, answers each kind of client in its own terms,
always 503 with ``Retry-After``, never a traceback:

- the FDX API (``/fdx/``): FDX 501 "Subsystem unavailable" (``gateway.errors.render``);
- the consumer's browser (authorization screens, the consumer portal): the plain-words "cannot
  be reached right now" page, with no redirect to the client (the redirect URI of a request that
  could not be loaded cannot be trusted, RFC 9126 §4);
- every other path (PAR, token, revocation, introspection, userinfo, registration): the OAuth
  error ``temporarily_unavailable`` (RFC 6749 §4.1.2.1) with ``Cache-Control: no-store``.
"""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from authz.errors import TemporarilyUnavailableError, oauth_error_response
from authz.screens import i18n
from authz.screens.pages import error_page
from config.settings import Settings
from gateway.areas import Area, area_of
from gateway.errors import OUTAGES, RETRY_AFTER_OUTAGE, ExceptionHandler, render

log = logging.getLogger("gateway.outage")


def outage_handler(settings: Settings) -> ExceptionHandler:
    async def handle(request: Request, exc: Exception) -> Response:
        path = request.url.path
        area = area_of(path)
        if area is Area.FDX:
            return render(request, exc)  # logs it, with the interaction id
        # The type only: a store's message names its host.
        log.warning("store_unavailable %s path=%s", type(exc).__name__, _route(path))
        if area is Area.SCREENS:
            lang = i18n.choose(request, settings.languages)
            page = error_page(settings, lang, "bank_unavailable", status=503)
            page.headers["Retry-After"] = str(RETRY_AFTER_OUTAGE)
            return page
        error = TemporarilyUnavailableError(
            "the service is temporarily unavailable; retry later", retry_after=RETRY_AFTER_OUTAGE
        )
        return oauth_error_response(error)

    return handle


def outage_handlers(settings: Settings) -> dict[type[Exception], ExceptionHandler]:
    """``exception_handlers`` entries for every store outage."""
    handle = outage_handler(settings)
    return dict.fromkeys(OUTAGES, handle)


def _route(path: str) -> str:
    """The path's first two segments: ids further on (interactions, consents) stay out of logs."""
    return "/".join(path.split("/")[:3])


__all__ = ["outage_handler", "outage_handlers"]

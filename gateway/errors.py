"""The FDX error tree, rendered in exactly one place (docs/architecture.md §6, docs/fdx.md §3).

Deep code raises; ``render`` turns any ``FdxError``, adapter error or unexpected exception into an
FDX ``Error1`` body ``{"code", "message", "debugMessage"}``::

    FdxError                     500 / 500
    ├── InvalidToken             401 / 603  WWW-Authenticate: Bearer error="invalid_token"
    │   ├── MissingToken         401 / 603  WWW-Authenticate: Bearer  (RFC 6750 §3.1: no error code)
    │   ├── InvalidDpopProof     401 / 603  WWW-Authenticate: DPoP error="invalid_dpop_proof"
    │   └── UseDpopNonce         401 / 603  WWW-Authenticate: DPoP error="use_dpop_nonce"
    ├── ConsentInactive          401 / 602  WWW-Authenticate: Bearer error="invalid_token"
    ├── InsufficientScope        403 / 602  WWW-Authenticate: Bearer error="insufficient_scope"
    ├── InvalidInput             400 / 401
    ├── InvalidDate              400 / 702
    ├── InvalidDateRange         400 / 703
    ├── AccountNotFound          404 / 701
    ├── StatementNotFound        404 / 1104
    ├── ImageNotFound            404 / 1103
    ├── TaxYearNotSupported      400 / 1202
    ├── ContentTypeNotSupported  406 / 1203
    ├── NotFound                 404 / 1107
    ├── MethodNotAllowed         405 / 1206 (+ Allow)
    ├── VersionNotSupported      501 / 1106
    └── SubsystemUnavailable     503 / 501  (+ Retry-After)

A store outage (``StateUnavailable``: Redis; ``RecordsUnavailable``: PostgreSQL) is rendered as
``SubsystemUnavailable``, the same 503/501 as a bank that is down (adapters/errors.py): the gate
cannot check the consent, so nothing is served (fail closed), and the client is told to retry.

On a request made with a DPoP token (or where only sender-constrained tokens are accepted, unless
the token is certificate-bound, RFC 8705) the gate marks the request with the proof algorithms
(``DPOP_CHALLENGE``) and every challenge is sent as ``DPoP`` with ``algs`` instead (RFC 9449
§7.1; ``authz.sender.Challenge`` writes them all); ``UseDpopNonce`` adds the ``DPoP-Nonce`` to
use.

Adapter errors are mapped through ``adapters.errors.fdx_code_for``, the one table. ``debugMessage``
never carries personal data, tokens, adapter messages or tracebacks: for a 500 it is only the
interaction id, which joins the response to the server log line.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import ClassVar

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from adapters.errors import AdapterError, ScheduledMaintenance, fdx_code_for
from authz.sender import Challenge
from authz.store.base import RecordsUnavailable, StateUnavailable
from gateway.responses import fdx_json

log = logging.getLogger("gateway.fdx")

INTERACTION_ID_HEADER = "x-fapi-interaction-id"
DPOP_CHALLENGE = "fdx.dpop_challenge"  # scope key: the algs of a DPoP challenge
_INVALID_TOKEN = Challenge("invalid_token")
# A store that is away: Redis or PostgreSQL. Both stores fail fast while their server is away and
# reconnect by themselves (authz/store/redis.py, postgres.py), so a retry a few seconds later is
# the right advice.
OUTAGES: tuple[type[Exception], ...] = (StateUnavailable, RecordsUnavailable)
RETRY_AFTER_OUTAGE = 5  # seconds
CLIENT_CLOSED_REQUEST = 499  # nginx's status for a client gone before the answer


class FdxError(Exception):
    code: ClassVar[str] = "500"
    status: ClassVar[int] = 500
    message: ClassVar[str] = "Internal server error"
    challenge: ClassVar[Challenge | None] = None  # RFC 6750 §3 WWW-Authenticate, at render

    def __init__(
        self, debug: str | None = None, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(debug or self.message)
        self.debug = debug or self.message
        self.headers = dict(headers or {})


class InvalidToken(FdxError):
    code, status, message = "603", 401, "Authentication failed"
    challenge = _INVALID_TOKEN


class MissingToken(InvalidToken):
    """RFC 6750 §3.1: a request without credentials gets a bare challenge, no error code."""

    challenge = Challenge()


class InvalidDpopProof(InvalidToken):
    """RFC 9449 §7.1: the DPoP proof is missing, malformed, or not for this request or token."""

    challenge = Challenge("invalid_dpop_proof", dpop_only=True)


class UseDpopNonce(InvalidToken):
    """RFC 9449 §9: retry with the server nonce in ``DPoP-Nonce``."""

    challenge = Challenge("use_dpop_nonce", dpop_only=True)

    def __init__(self, debug: str | None = None, *, nonce: str) -> None:
        super().__init__(debug, headers={"DPoP-Nonce": nonce})


class ConsentInactive(FdxError):
    code, status, message = "602", 401, "Consent is revoked or expired"
    challenge = _INVALID_TOKEN


class InsufficientScope(FdxError):
    code, status, message = "602", 403, "Customer not authorized for this data"
    challenge = Challenge("insufficient_scope")


class InvalidInput(FdxError):
    code, status, message = "401", 400, "Invalid Input"


class InvalidDate(FdxError):
    code, status, message = "702", 400, "Invalid start or end date"


class InvalidDateRange(FdxError):
    code, status, message = "703", 400, "Invalid date range"


class AccountNotFound(FdxError):
    code, status, message = "701", 404, "Account not found"


class StatementNotFound(FdxError):
    code, status, message = "1104", 404, "Statement id not found"


class ImageNotFound(FdxError):
    code, status, message = "1103", 404, "Image Id not found for Transaction"


class TaxYearNotSupported(FdxError):
    code, status, message = "1202", 400, "Tax Year not Supported"


class ContentTypeNotSupported(FdxError):
    """406: nothing in ``Accept`` is a type this operation can answer in (RFC 9110 §15.5.7)."""

    code, status, message = "1203", 406, "Content Type not Supported"


class NotFound(FdxError):
    code, status, message = "1107", 404, "Data not found for request parameters"


class MethodNotAllowed(FdxError):
    code, status, message = "1206", 405, "Method Not Allowed"

    def __init__(self, debug: str | None = None) -> None:
        super().__init__(debug, headers={"Allow": "GET"})


class VersionNotSupported(FdxError):
    code, status, message = "1106", 501, "FdxVersion not supported or not implemented"


class SubsystemUnavailable(FdxError):
    """A store the gate needs is away: FDX 501 "Subsystem unavailable", sent as HTTP 503 so
    clients retry (adapters/errors.py; RFC 9110 §15.6.4)."""

    code, status, message = "501", 503, "Subsystem unavailable"

    def __init__(self, debug: str | None = None) -> None:
        super().__init__(debug, headers={"Retry-After": str(RETRY_AFTER_OUTAGE)})


def interaction_id(request: Request) -> str:
    """The id the middleware put in the scope; one is made up if the middleware is absent."""
    iid = request.scope.get("fdx.interaction_id")
    if not isinstance(iid, str):
        iid = str(uuid.uuid4())
        request.scope["fdx.interaction_id"] = iid
    return iid


def client_gone(request: Request) -> Response:
    """The answer to a request whose client went away while sending its body (Starlette's
    ``ClientDisconnect``): nobody reads it, so it is empty, with nginx's 499 "client closed
    request" for the metrics; logged at INFO, since it is the client's doing, not a fault."""
    log.info("request.client_disconnected %s", request.method)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def handle_client_gone(request: Request, exc: Exception) -> Response:
    return client_gone(request)


def render(request: Request, exc: BaseException) -> Response:
    """The one place an FDX error becomes a response."""
    if isinstance(exc, ClientDisconnect):
        return client_gone(request)
    iid = interaction_id(request)
    headers: dict[str, str] = {INTERACTION_ID_HEADER: iid}
    if isinstance(exc, OUTAGES):
        # The type only: the store's message names a host.
        log.warning("fdx.store_unavailable %s interaction_id=%s", type(exc).__name__, iid)
        exc = SubsystemUnavailable()
    if isinstance(exc, FdxError):
        status, code, message, debug = exc.status, exc.code, exc.message, exc.debug
        headers.update(exc.headers)
        if exc.challenge is not None:
            algs = request.scope.get(DPOP_CHALLENGE)
            headers["WWW-Authenticate"] = exc.challenge.header(algs)
    elif isinstance(exc, AdapterError):
        mapped = fdx_code_for(exc)
        status, code, message = mapped.status, mapped.code, mapped.message
        debug = message  # the adapter's own text stays in the log: it may name a customer
        if isinstance(exc, ScheduledMaintenance):
            headers["Retry-After"] = str(exc.retry_after)  # RFC 9110 §10.2.3
        if status >= 500:
            log.warning("fdx.adapter_error %s interaction_id=%s", type(exc).__name__, iid)
    else:
        # Type and place only: an exception's message or a full traceback can carry personal
        # data or a token, and logs must carry neither.
        log.error("fdx.unhandled %s at %s interaction_id=%s", type(exc).__name__, where(exc), iid)
        status, code, message = 500, "500", FdxError.message
        debug = f"interaction id {iid}"
    return fdx_json({"code": code, "message": message, "debugMessage": debug}, status, headers)


async def handle_fdx_exception(request: Request, exc: Exception) -> Response:
    return render(request, exc)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    """Starlette's last-resort handler: FDX shape under /fdx, Starlette's plain 500 elsewhere."""
    if request.url.path.startswith("/fdx/"):
        return render(request, exc)
    return PlainTextResponse("Internal Server Error", status_code=500)


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]

fdx_exception_handlers: dict[type[Exception], ExceptionHandler] = {
    FdxError: handle_fdx_exception,
    AdapterError: handle_fdx_exception,
    ClientDisconnect: handle_client_gone,
    Exception: handle_unexpected,
}


def where(exc: BaseException) -> str:
    """``file:line`` of the innermost frame, for finding the bug without logging its data."""
    tb = exc.__traceback__
    if tb is None:
        return "?"
    while tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"

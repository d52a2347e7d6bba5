"""Reading ``application/x-www-form-urlencoded`` bodies for OAuth endpoints and screens.

Parsing is the stdlib's (``urllib.parse.parse_qsl``); what this adds is what the RFCs ask of an
authorization server: a size limit before parsing, UTF-8 only, and no repeated parameters
(RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once").
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.requests import Request

from authz.errors import InvalidRequestError, RequestTooLargeError

FORM = "application/x-www-form-urlencoded"
MAX_PARAMS = 64


async def read_form(request: Request, *, max_bytes: int) -> dict[str, str]:
    """The form's parameters; raises ``InvalidRequestError`` (400) or ``RequestTooLargeError``."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise InvalidRequestError(description=f"Content-Type must be {FORM}")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
        raise RequestTooLargeError(description="request body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise RequestTooLargeError(description="request body too large")
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=False, max_num_fields=MAX_PARAMS
        )
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError(description="malformed form body") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise InvalidRequestError(description=f"parameter {_shown(key)} repeated")
        form[key] = value
    return form


def single_query(request: Request, allowed: frozenset[str] | None = None) -> dict[str, str]:
    """Query parameters, refusing repeats (RFC 6749 §3.1) and, if given, any not in ``allowed``."""
    items = request.query_params.multi_items()
    out: dict[str, str] = {}
    for key, value in items:
        if key in out:
            raise InvalidRequestError(description=f"parameter {_shown(key)} repeated")
        if allowed is not None and key not in allowed:
            raise InvalidRequestError(description=f"parameter {_shown(key)} not allowed here")
        out[key] = value
    return out


def _shown(name: str) -> str:
    """A parameter name safe for ``error_description`` (RFC 6749 §5.2 allows only some ASCII)."""
    if name and all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in name):
        return "'" + name[:40] + "'"
    return "(unprintable name)"

"""x-fapi-interaction-id on every request and response (FAPI 1.0 Baseline §6.2.1 items 11-13,
docs/fdx.md §6): the client's value is echoed when it is a sane id, otherwise one is made.

The same pass over the response headers is the safety net of the browser-facing hardening
(docs/security.md): an HTML response that did not set its own security headers (the screens
do; /docs sets its CSP) gets a strict default for each, and with an https issuer every response
carries HSTS (RFC 6797), which browsers ignore over plain http anyway."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logging import INTERACTION_ID

HEADER = b"x-fapi-interaction-id"
_VALID = re.compile(rb"[A-Za-z0-9-]{1,64}")
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
# For HTML that set none of its own: no script, no framing, no referrer, no sniffing.
HTML_DEFAULTS = (
    (
        b"content-security-policy",
        b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        b" frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class InteractionIdMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts  # the issuer is https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        iid = _from_request(scope) or str(uuid.uuid4())
        scope["fdx.interaction_id"] = iid
        scope.setdefault("state", {})["interaction_id"] = iid

        raw = iid.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The raw ASGI list, not MutableHeaders: this runs on every response.
                headers = []
                html = hsts = False
                for k, v in message.get("headers", ()):
                    name = k.lower()
                    if name == HEADER:
                        continue
                    if name == b"content-type":
                        html = v.startswith(b"text/html")
                    elif name == HSTS[0]:
                        hsts = True
                    headers.append((k, v))
                headers.append((HEADER, raw))
                if self.hsts and not hsts:
                    headers.append(HSTS)
                if html:
                    _harden_html(headers)
                message["headers"] = headers
            await send(message)

        # Log lines written while this request runs carry its id (gateway.logging).
        token = INTERACTION_ID.set(iid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            INTERACTION_ID.reset(token)


def _harden_html(headers: list[tuple[bytes, bytes]]) -> None:
    present = {k.lower() for k, _ in headers}
    headers.extend(pair for pair in HTML_DEFAULTS if pair[0] not in present)


def _from_request(scope: Scope) -> str | None:
    """The client's id if exactly one was sent and it is ≤ 64 of [A-Za-z0-9-]: anything else
    could be used to inject into logs, so it is replaced rather than echoed."""
    values: list[bytes] = [v for k, v in scope["headers"] if k == HEADER]
    if len(values) == 1 and _VALID.fullmatch(values[0]):
        return values[0].decode("ascii")
    return None

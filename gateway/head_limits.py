"""Bounds on a request's head (its request line and header fields), in the gateway itself, so
that they hold whatever proxy stands in front, or none.

Two layers, because each alone falls short:

- the ASGI app (``HeadLimitMiddleware``, and ``within_limits`` on the FDX fast path) refuses a
  request with more than ``MAX_FIELDS`` header fields, a field value over ``MAX_FIELD_BYTES``
  or a head over ``MAX_HEAD_BYTES`` in all: 431 (RFC 6585 §5) in the shape of the path's
  protocol (``gateway/areas.py``). This holds under any ASGI server, but only once the server
  has read the whole head;
- the HTTP server: uvicorn with httptools (``fdxgw serve``) buffers a head of any size (llhttp
  sets no limit, and uvicorn none over it), so one 8 MB header is held in memory before the app
  can refuse it. ``HeadLimitedHttpToolsProtocol`` counts the bytes of a head as they arrive and
  closes the connection with a 431 once they pass ``MAX_SERVER_HEAD_BYTES``, above the app's
  limit so that a merely large head still gets the app's protocol-shaped answer. (uvicorn logs
  that refusal as its "Invalid HTTP request received." warning.)

The figures are the common ones: Apache's 100 fields (``LimitRequestFields``) and 8 KiB a field
(``LimitRequestFieldSize``), nginx's 32 KiB for a head (``large_client_header_buffers 4 8k``).
Nothing the gateway accepts comes near them: the largest header it reads is a DPoP proof, at
most 8192 characters (``authz/dpop.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.areas import AreaAnswers

MAX_FIELDS = 100
MAX_FIELD_BYTES = 8192
MAX_HEAD_BYTES = 32 * 1024
MAX_SERVER_HEAD_BYTES = 64 * 1024
TOO_LARGE = 431  # RFC 6585 §5


def within_limits(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """The header fields of an ASGI scope are within the app's limits."""
    count = total = 0
    for name, value in headers:
        size = len(value)
        if size > MAX_FIELD_BYTES:
            return False
        count += 1
        total += len(name) + size + 4  # ": " and CRLF, as on the wire
    return count <= MAX_FIELDS and total <= MAX_HEAD_BYTES


class HeadLimitMiddleware:
    """431 in the path's protocol for a head past the app's limits; anything else passes."""

    def __init__(self, app: ASGIApp, *, answers: AreaAnswers) -> None:
        self.app = app
        self.answers = answers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not within_limits(scope["headers"]):
            # Only the path decides the area: none of the (too large) fields is read.
            request = Request({**scope, "headers": []})
            response = self.answers.refusal(request, TOO_LARGE, {"Connection": "close"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


_REFUSAL_BODY = b'{"error":"invalid_request","error_description":"request header fields too large"}'
_REFUSAL = b"".join(
    [
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        b"content-type: application/json\r\n",
        b"cache-control: no-store\r\n",
        b"content-length: " + str(len(_REFUSAL_BODY)).encode("ascii") + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
        _REFUSAL_BODY,
    ]
)


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head past the server's ceiling."""


class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing a request whose head passes
    ``MAX_SERVER_HEAD_BYTES`` before the app is called and before the parser has buffered more
    than a read or two beyond it. Passed to uvicorn as ``http=``.

    Two counts, since httptools hands over a field only once it is whole: the fields and the
    request target as the parser completes them (exact, also within the read that ends the
    head), and the bytes of every read that leaves the head unfinished (one huge field arriving
    over many reads). uvicorn answers a callback's exception with its 400, which this class
    turns into the 431."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True  # reading a request line and header fields
        self._read_bytes = 0  # reads that left the head unfinished
        self._head_bytes = 0  # the target and the fields parsed so far
        self._too_large = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._read_bytes, self._head_bytes = True, 0, 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF, as on the wire
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        was_in_head = self._in_head
        super().data_received(data)
        # Still in the head after this read: every byte of it was head. (A read that ends a
        # head, or starts the next one on a kept-alive connection, is left to the exact count.)
        if was_in_head and self._in_head and not self.transport.is_closing():
            self._read_bytes += len(data)
            if self._read_bytes > MAX_SERVER_HEAD_BYTES:
                self._refuse()

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            self._refuse()
        else:
            super().send_400_response(msg)

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_SERVER_HEAD_BYTES:
            self._too_large = True
            raise _HeadTooLarge

    def _refuse(self) -> None:
        self.transport.write(_REFUSAL)
        self.transport.close()


__all__ = [
    "MAX_FIELDS",
    "MAX_FIELD_BYTES",
    "MAX_HEAD_BYTES",
    "MAX_SERVER_HEAD_BYTES",
    "HeadLimitMiddleware",
    "HeadLimitedHttpToolsProtocol",
    "within_limits",
]

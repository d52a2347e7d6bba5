"""The seam under ``CoreClient``: one HTTP exchange with the bank core, and nothing more.

``CoreClient`` keeps the policy (retries, breaker, what an answer means); a ``Transport`` only
sends one request and returns what came back, so the policy can be tested without a socket
(``MockTransport``) and the wire library can change without touching it. The shape is HTTPX's
transport seam, narrowed to what the client reads.

A transport speaks only the standard library's failures: ``TimeoutError`` when the core did not
answer in time, ``ConnectionError`` when it could not be reached or the exchange broke (with the
library's exception as its cause); and ``AnswerTooLarge`` when the body passed
``max_response_bytes``. ``CoreClient`` turns those into adapter errors.

aiohttp, not httpx, is the default: it costs 10-20x less CPU per call on this machine kind and
keeps the HTTP adapter near the in-process speed (docs/performance.md §5). One ``ClientSession``
per transport holds a keep-alive connection pool; it is opened on first use (a session belongs
to the running event loop) and closed by ``aclose``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson
from yarl import URL

from adapters.http.config import HttpCoreConfig


class AnswerTooLarge(Exception):
    """The core answered with a body over ``max_response_bytes``: refused while reading, so one
    broken or hostile answer cannot fill the gateway's memory."""


@dataclass(frozen=True, slots=True)
class RawAnswer:
    """What the core sent back: the status, the body, and the headers the client reads."""

    status: int
    body: bytes = b""
    media_type: str = "application/json"
    etag: str | None = None  # ETag, as sent
    retry_after: str | None = None  # Retry-After, as sent


class Transport(Protocol):
    async def send(
        self, method: str, target: str, headers: Mapping[str, str] | None, payload: Any
    ) -> RawAnswer:
        """One exchange: ``target`` is percent-encoded and relative to the core's base URL;
        ``payload``, when not None, goes as a JSON body."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Sent:
    """A request as a ``MockTransport`` handler sees it."""

    method: str
    target: str
    headers: Mapping[str, str]
    payload: Any


class MockTransport:
    """A transport that answers with ``handler(request)``: the whole fake core is a function.
    The handler may raise ``TimeoutError`` or ``ConnectionError`` to play an unreachable core."""

    def __init__(self, handler: Callable[[Sent], Awaitable[RawAnswer]]) -> None:
        self.handler = handler
        self.closed = False

    async def send(
        self, method: str, target: str, headers: Mapping[str, str] | None, payload: Any
    ) -> RawAnswer:
        return await self.handler(Sent(method, target, dict(headers or {}), payload))

    async def aclose(self) -> None:
        self.closed = True


class AiohttpTransport:
    """The network transport: a pooled aiohttp session to ``config.base_url``."""

    def __init__(self, config: HttpCoreConfig) -> None:
        self.config = config
        self._base = config.base_url.rstrip("/") + "/"
        self._timeout = aiohttp.ClientTimeout(
            total=config.timeout, sock_connect=config.connect_timeout
        )
        self._headers = {"Accept": "application/json"}
        if config.bearer_token is not None:
            self._headers["Authorization"] = f"Bearer {config.bearer_token}"
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def send(
        self, method: str, target: str, headers: Mapping[str, str] | None, payload: Any
    ) -> RawAnswer:
        # The target is percent-encoded already: yarl need not parse and re-quote it per call.
        url = URL(self._base + target, encoded=True)
        session = self._open()
        # Inline, not a context manager: this is the hot path.
        try:
            async with session.request(method, url, headers=headers, json=payload) as response:
                return RawAnswer(
                    response.status,
                    await _bounded(response, self.config.max_response_bytes),
                    response.content_type,
                    response.headers.get("ETag"),
                    response.headers.get("Retry-After"),
                )
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise TimeoutError(type(exc).__name__) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionError(type(exc).__name__) from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is not None and self._loop is not loop:
            # A session belongs to the loop that made it (e.g. a set-up run before the server
            # loop started); it cannot be closed from here, only left behind.
            self._session = None
        if self._session is None or self._session.closed:
            self._loop = loop
            connector = aiohttp.TCPConnector(
                limit=self.config.pool_size,
                ssl=self.config.ssl_context() or False,
                keepalive_timeout=30,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=self._timeout,
                json_serialize=lambda v: orjson.dumps(v).decode(),
                raise_for_status=False,
                auto_decompress=True,
                # One session serves every customer: a cookie the core sets must not travel
                # with another customer's call (and filtering the jar costs ~5 µs a call).
                cookie_jar=aiohttp.DummyCookieJar(),
                skip_auto_headers=("User-Agent",),  # nobody reads it
            )
        return self._session


async def _bounded(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """The body, refused (``AnswerTooLarge``) once it exceeds ``cap`` bytes. A declared length
    decides at once; a compressed or chunked body is counted as it is read (aiohttp decompresses
    it, and a small gzip can expand a thousandfold)."""
    declared = response.content_length
    if declared is not None and declared > cap:
        raise AnswerTooLarge(f"{declared} bytes declared")
    if declared is not None and "Content-Encoding" not in response.headers:
        return await response.read()  # the hot path: aiohttp reads exactly ``declared`` bytes
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > cap:
            raise AnswerTooLarge(f"over {cap} bytes read")
    return bytes(body)

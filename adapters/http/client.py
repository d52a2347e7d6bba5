"""``CoreClient``: the one aiohttp session to one bank core, with timeouts, retries and a breaker.

aiohttp, not httpx, on this path: it costs 10-20x less CPU per call on this machine kind and keeps
the HTTP adapter near the in-process speed (docs/performance.md §5). One ``ClientSession``
per adapter holds a keep-alive connection pool; it is opened on first use (a session belongs to
the running event loop) and closed by ``aclose``.

Every failure leaves this module as an ``adapters.errors`` type (docs/architecture.md §4: no foreign
exception crosses the package line)::

    timeout                               BankTimeout            FDX 503 / 501
    connection refused or reset, 5xx      BankUnavailable        FDX 503 / 501
    circuit open                          BankUnavailable        (at once, no call made)
    503 + Retry-After or {"maintenance"}  ScheduledMaintenance   FDX 503 / 503 + Retry-After
    404                                   the caller's "missing" error (AccountNotFound, …)
    4xx {"error": code} of the dialect    that error (AccountClosed, …)
    other 4xx, malformed JSON             BankUnavailable (logged: our request or the core is off)
    a body over max_response_bytes        BankUnavailable (not retried: the core answered)

Only GETs are retried (RFC 9110 §9.2.2: idempotent), and only after a timeout, a connection
failure or a 502/503/504 (not a 500: that is usually the same answer again); every failed attempt
counts towards the breaker, answers of any kind close it.

A GET may carry ``If-None-Match`` (RFC 9110 §13.1.2); its 304 comes back as an ``Answer`` without
a body, and the caller reuses what it kept (``HttpBank``, ``EtagCache``). A 304 to a request
without a validator is the core's mistake and an outage like any other wrong answer.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from yarl import URL

from adapters.errors import AdapterError, BankTimeout, BankUnavailable, ScheduledMaintenance
from adapters.http.backoff import Backoff
from adapters.http.breaker import CircuitBreaker
from adapters.http.config import HttpCoreConfig

log = logging.getLogger("adapters.http")

Missing = type[AdapterError]
RETRYABLE_STATUS = frozenset({502, 503, 504})
DEFAULT_RETRY_AFTER = 300
NOT_MODIFIED = 304


class _Answered(BankUnavailable):
    """The core answered, but wrongly (malformed body, refused request): not worth a retry."""


class _Transient(BankUnavailable):
    """No answer, or a 502/503/504 without maintenance: worth a retry."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A 2xx answer, or a 304 to a conditional GET (``body`` is then None)."""

    body: bytes | None
    media_type: str
    etag: str | None = None  # the answer's strong entity-tag, if the core sent one


def target(path: str, query: Mapping[str, str] | None = None) -> str:
    """``path`` (already percent-encoded) and ``query`` as one request target. It names the
    request exactly (customer, account, window, page), so it is also the revalidation key."""
    if not query:
        return path.lstrip("/")
    return path.lstrip("/") + "?" + urlencode(query, quote_via=quote, safe="")


def strong_etag(value: str | None) -> str | None:
    """``value`` if it is a strong entity-tag (RFC 9110 §8.8.3: ``"…"``, no ``W/``), else None.
    Weak ones are not kept: a weak match means "equivalent" in the core's opinion, not "the same
    bytes", and the adapter would reuse objects mapped from a body it did not get."""
    if value is None or len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return None
    if '"' in value[1:-1] or any(c < "!" or c == "\x7f" for c in value):
        return None
    return value


class CoreClient:
    def __init__(
        self,
        config: HttpCoreConfig,
        *,
        label: str = "http",
        errors: Mapping[str, type[AdapterError]] | None = None,
        draw: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.label = label
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_reset, clock=clock)
        self.backoff = Backoff(config.backoff, config.backoff_max)
        self.attempts = 0  # calls that went out, for tests and metrics
        self._base = config.base_url.rstrip("/") + "/"
        self._errors = dict(errors or {})
        self._draw = draw or random.Random().random  # noqa: S311 (jitter, not security)
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._timeout = aiohttp.ClientTimeout(
            total=config.timeout, sock_connect=config.connect_timeout
        )
        self._headers = {"Accept": "application/json"}
        if config.bearer_token is not None:
            self._headers["Authorization"] = f"Bearer {config.bearer_token}"
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def get(self, target: str, missing: Missing, etag: str | None = None) -> Answer:
        """GET ``target`` (see ``target()``); with ``etag``, a conditional GET that may answer
        304 (RFC 9110 §13.1.2 If-None-Match)."""
        headers = None if etag is None else {"If-None-Match": etag}
        return await self._call("GET", target, headers, None, missing)

    def json(self, body: bytes | None) -> Any:
        try:
            return orjson.loads(body or b"")
        except orjson.JSONDecodeError:
            raise BankUnavailable(f"{self.label}: malformed JSON") from None

    async def post_json(self, path: str, payload: Any, missing: Missing, refused: str) -> Any:
        """A POST (never retried); None when the core answers 401 with ``{"error": refused}``
        (wrong credentials), as opposed to a 401 for our own credentials to the core."""
        answer = await self._call("POST", path, None, payload, missing, refused)
        return None if answer.body is None else self.json(answer.body)

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

    async def _call(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        payload: Any,
        missing: Missing,
        refused: str | None = None,
    ) -> Answer:
        # The target is percent-encoded already: yarl need not parse and re-quote it per call.
        url = URL(self._base + target, encoded=True)
        attempt = 0
        while True:
            if not self.breaker.allow():
                raise BankUnavailable(f"{self.label}: circuit open")
            try:
                result = await self._once(method, url, headers, payload, missing, refused)
            except (_Answered, ScheduledMaintenance) as exc:
                self.breaker.succeeded()  # the core is there and speaking
                raise _public(exc) from exc.__cause__
            except BankUnavailable as exc:  # timeouts, connection failures, 5xx
                self.breaker.failed()
                retryable = isinstance(exc, BankTimeout | _Transient)
                if method != "GET" or not retryable or attempt >= self.config.retries:
                    raise _public(exc) from exc.__cause__
            except AdapterError:
                self.breaker.succeeded()
                raise
            except BaseException:
                self.breaker.abandoned()  # cancelled: neither a success nor a failure
                raise
            else:
                self.breaker.succeeded()
                return result
            await self._sleep(self.backoff.delay(attempt, self._draw()))
            attempt += 1

    async def _once(
        self,
        method: str,
        url: URL,
        headers: Mapping[str, str] | None,
        payload: Any,
        missing: Missing,
        refused: str | None,
    ) -> Answer:
        session = self._open()
        self.attempts += 1
        # aiohttp's and the socket's exceptions → adapter errors; messages name the upstream
        # only (docs/architecture.md §4). Inline, not a context manager: this is the hot path.
        try:
            async with session.request(method, url, headers=headers, json=payload) as response:
                status = response.status
                body = await _bounded(response, self.config.max_response_bytes, self.label)
                media_type = response.content_type
                if 200 <= status < 300:
                    return Answer(body, media_type, strong_etag(response.headers.get("ETag")))
                retry_after = response.headers.get("Retry-After")
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise BankTimeout(f"{self.label}: no answer in time") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise _Transient(f"{self.label}: {type(exc).__name__}") from exc
        if status == NOT_MODIFIED and headers is not None and "If-None-Match" in headers:
            return Answer(None, media_type)
        if status == 401 and refused is not None and _error_body(body).get("error") == refused:
            return Answer(None, media_type)
        raise self._failure(status, body, retry_after, missing)

    def _failure(
        self, status: int, body: bytes, retry_after: str | None, missing: Missing
    ) -> AdapterError:
        detail = _error_body(body)
        if status == 503 and (retry_after is not None or detail.get("maintenance") is True):
            seconds = self._retry_after(retry_after, detail)
            return ScheduledMaintenance(f"{self.label}: maintenance", retry_after=seconds)
        code = detail.get("error")
        known = self._errors.get(code) if isinstance(code, str) else None
        if known is not None and 400 <= status < 500:
            return known(f"{self.label}: {code}")
        if status == 404:
            return missing(f"{self.label}: not found")
        if status in RETRYABLE_STATUS:
            return _Transient(f"{self.label}: HTTP {status}")
        if status >= 500:
            return BankUnavailable(f"{self.label}: HTTP {status}")
        # 401/403: the core refused our credentials; other 4xx: it refused our request. Either
        # way an operator must look, and the recipient gets a retryable 503.
        log.error("adapter.core_refused upstream=%s status=%d", self.label, status)
        return _Answered(f"{self.label}: HTTP {status}")

    def _retry_after(self, header: str | None, detail: Mapping[str, Any]) -> int:
        """RFC 9110 §10.2.3: delay-seconds or an HTTP-date; else the body's ``retry_after``."""
        if header is not None:
            if header.strip().isdigit():
                return max(1, int(header.strip()))
            try:
                moment = parsedate_to_datetime(header)
            except (TypeError, ValueError):
                pass
            else:
                return max(1, int(moment.timestamp() - self._wall_clock()))
        value = detail.get("retry_after")
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        return DEFAULT_RETRY_AFTER


async def _bounded(response: aiohttp.ClientResponse, cap: int, label: str) -> bytes:
    """The body, refused (``_Answered``: the core spoke, wrongly) once it exceeds ``cap``
    bytes. A declared length decides at once; a compressed or chunked body is counted as it is
    read (aiohttp decompresses it, and a small gzip can expand a thousandfold)."""
    declared = response.content_length
    if declared is not None and declared > cap:
        raise _Answered(f"{label}: answer larger than max_response_bytes")
    if declared is not None and "Content-Encoding" not in response.headers:
        return await response.read()  # the hot path: aiohttp reads exactly ``declared`` bytes
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > cap:
            raise _Answered(f"{label}: answer larger than max_response_bytes")
    return bytes(body)


def _public(exc: AdapterError) -> AdapterError:
    """The private kinds above steer retries only; callers and logs see BankUnavailable."""
    if type(exc) in (_Answered, _Transient):
        return BankUnavailable(str(exc))
    return exc


def _error_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}

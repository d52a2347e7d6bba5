"""``CoreClient``: the one aiohttp session to one bank core, with timeouts, retries and a breaker.

aiohttp, not httpx, on this path: it costs 10-20x less CPU per call on this machine kind and keeps
the HTTP adapter near the in-process speed (shared/docs/performance.md). One ``ClientSession``
per adapter holds a keep-alive connection pool; it is opened on first use (a session belongs to
the running event loop) and closed by ``aclose``.

Every failure leaves this module as an ``adapters.errors`` type (style.md §1.2: no foreign
exception crosses the package line)::

    timeout                               BankTimeout            FDX 503 / 501
    connection refused or reset, 5xx      BankUnavailable        FDX 503 / 501
    circuit open                          BankUnavailable        (at once, no call made)
    503 + Retry-After or {"maintenance"}  ScheduledMaintenance   FDX 503 / 503 + Retry-After
    404                                   the caller's "missing" error (AccountNotFound, …)
    4xx {"error": code} of the dialect    that error (AccountClosed, …)
    other 4xx, malformed JSON             BankUnavailable (logged: our request or the core is off)

Only GETs are retried (RFC 9110 §9.2.2: idempotent), and only after a timeout, a connection
failure or a 502/503/504 (not a 500: that is usually the same answer again); every failed attempt
counts towards the breaker, answers of any kind close it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson

from adapters.errors import AdapterError, BankTimeout, BankUnavailable, ScheduledMaintenance
from adapters.http.backoff import Backoff
from adapters.http.breaker import CircuitBreaker
from adapters.http.config import HttpCoreConfig

log = logging.getLogger("adapters.http")

Missing = type[AdapterError]
RETRYABLE_STATUS = frozenset({502, 503, 504})
DEFAULT_RETRY_AFTER = 300


class _Answered(BankUnavailable):
    """The core answered, but wrongly (malformed body, refused request): not worth a retry."""


class _Transient(BankUnavailable):
    """No answer, or a 502/503/504 without maintenance: worth a retry."""


@contextmanager
def translate_errors(upstream: str) -> Iterator[None]:
    """aiohttp's and the socket's exceptions → adapter errors; messages name the upstream only."""
    try:
        yield
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        raise BankTimeout(f"{upstream}: no answer in time") from exc
    except (aiohttp.ClientError, OSError) as exc:
        raise _Transient(f"{upstream}: {type(exc).__name__}") from exc


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

    async def get_json(self, path: str, params: Mapping[str, str] | None, missing: Missing) -> Any:
        body, _ = await self._call("GET", path, params, None, missing)
        return _json(self.label, body)

    async def get_bytes(self, path: str, missing: Missing) -> tuple[bytes, str]:
        return await self._call("GET", path, None, None, missing)

    async def post_json(self, path: str, payload: Any, missing: Missing, refused: str) -> Any:
        """A POST (never retried); None when the core answers 401 with ``{"error": refused}``
        (wrong credentials), as opposed to a 401 for our own credentials to the core."""
        body, _ = await self._call("POST", path, None, payload, missing, refused)
        return None if body is None else _json(self.label, body)

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
                base_url=self.config.base_url + "/",
                connector=connector,
                headers=self._headers,
                timeout=self._timeout,
                json_serialize=lambda v: orjson.dumps(v).decode(),
                raise_for_status=False,
                auto_decompress=True,
            )
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        payload: Any,
        missing: Missing,
        refused: str | None = None,
    ) -> tuple[Any, str]:
        attempt = 0
        while True:
            if not self.breaker.allow():
                raise BankUnavailable(f"{self.label}: circuit open")
            try:
                result = await self._once(method, path, params, payload, missing, refused)
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
        path: str,
        params: Mapping[str, str] | None,
        payload: Any,
        missing: Missing,
        refused: str | None,
    ) -> tuple[Any, str]:
        session = self._open()
        self.attempts += 1
        with translate_errors(self.label):
            async with session.request(
                method, path.lstrip("/"), params=params, json=payload
            ) as response:
                status = response.status
                body = await response.read()
                media_type = response.content_type
                retry_after = response.headers.get("Retry-After")
        if 200 <= status < 300:
            return body, media_type
        if status == 401 and refused is not None and _error_body(body).get("error") == refused:
            return None, media_type
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


def _public(exc: AdapterError) -> AdapterError:
    """The private kinds above steer retries only; callers and logs see BankUnavailable."""
    if type(exc) in (_Answered, _Transient):
        return BankUnavailable(str(exc))
    return exc


def _json(label: str, body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BankUnavailable(f"{label}: malformed JSON") from None


def _error_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}

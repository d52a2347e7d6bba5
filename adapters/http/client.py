"""``CoreClient``: calls to one bank core, with retries, a breaker and what an answer means.

The exchange itself is a ``Transport`` (adapters/http/transport.py): the pooled aiohttp one by
default, a ``MockTransport`` in tests. Timeouts, pool and TLS are the transport's.

Every failure leaves this module as an ``adapters.errors`` type (docs/architecture.md §4: no foreign
exception crosses the package line)::

    timeout                               BankTimeout
    connection refused or reset, 5xx      BankUnavailable
    circuit open                          BankUnavailable        (at once, no call made)
    503 + Retry-After or {"maintenance"}  ScheduledMaintenance   (retry_after from either)
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

import orjson

from adapters.errors import AdapterError, BankTimeout, BankUnavailable, ScheduledMaintenance
from adapters.http.backoff import Backoff
from adapters.http.breaker import CircuitBreaker
from adapters.http.config import HttpCoreConfig
from adapters.http.transport import AiohttpTransport, AnswerTooLarge, RawAnswer, Transport

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
        transport: Transport | None = None,
    ) -> None:
        self.config = config
        self.label = label
        self.transport = transport or AiohttpTransport(config)
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_reset, clock=clock)
        self.backoff = Backoff(config.backoff, config.backoff_max)
        self.attempts = 0  # calls that went out, for tests and metrics
        self._errors = dict(errors or {})
        self._draw = draw or random.Random().random  # noqa: S311 (jitter, not security)
        self._sleep = sleep
        self._wall_clock = wall_clock

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
        await self.transport.aclose()

    async def _call(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str] | None,
        payload: Any,
        missing: Missing,
        refused: str | None = None,
    ) -> Answer:
        attempt = 0
        while True:
            if not self.breaker.allow():
                raise BankUnavailable(f"{self.label}: circuit open")
            try:
                result = await self._once(method, target, headers, payload, missing, refused)
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
        target: str,
        headers: Mapping[str, str] | None,
        payload: Any,
        missing: Missing,
        refused: str | None,
    ) -> Answer:
        self.attempts += 1
        # The transport's failures → adapter errors; messages name the upstream only
        # (docs/architecture.md §4).
        try:
            raw: RawAnswer = await self.transport.send(method, target, headers, payload)
        except AnswerTooLarge as exc:
            raise _Answered(f"{self.label}: answer larger than max_response_bytes") from exc
        except TimeoutError as exc:
            raise BankTimeout(f"{self.label}: no answer in time") from exc
        except OSError as exc:
            raise _Transient(f"{self.label}: {type(exc.__cause__ or exc).__name__}") from exc
        status, body = raw.status, raw.body
        if 200 <= status < 300:
            return Answer(body, raw.media_type, strong_etag(raw.etag))
        if status == NOT_MODIFIED and headers is not None and "If-None-Match" in headers:
            return Answer(None, raw.media_type)
        if status == 401 and refused is not None and _error_body(body).get("error") == refused:
            return Answer(None, raw.media_type)
        raise self._failure(status, body, raw.retry_after, missing)

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


def _error_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}

"""Prometheus metrics at ``/metrics``, kept cheap enough for the FDX hot path.

Nothing here touches a lock or prometheus_client on a request: the middleware and the adapter
proxy add to plain dicts of counters and bucket lists (the event loop is one thread), and
``Metrics.collect`` turns them into metric families only when Prometheus scrapes. Labels never
carry a raw path or an id: requests are labelled by the matched route template
(``/fdx/v6/accounts/{accountId}``), unknown methods become ``OTHER``, unmatched paths ``unmatched``.

Series (per instance; a deployment sums its instances in Prometheus). Under ``fdxgw serve
--workers N`` an instance's workers are summed into one answer (``gateway.worker_metrics``).

- ``fdxgw_http_requests_total`` / ``fdxgw_http_request_duration_seconds``: route, method, status
- ``fdxgw_adapter_call_duration_seconds``: adapter, operation; ``fdxgw_adapter_errors_total``:
  adapter, operation, error (the adapter error's class)
- ``fdxgw_active_consents``: ACTIVE and unexpired consents, counted when scraped
- ``fdxgw_tokens_issued_total``: grant_type (successful POST /oauth/token answers)
- ``fdxgw_cfpb_1033_requests_total``, ``fdxgw_cfpb_1033_proper_responses_total`` and
  ``fdxgw_cfpb_1033_response_rate``: month (UTC), counted from the audit trail
  (``gateway.response_rate``): the same on every instance, whatever restarted
- ``process_*``: CPU, memory, descriptors, start time (of all workers, under ``--workers``)
"""

from __future__ import annotations

import logging
import re
import time
from bisect import bisect_left
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, ProcessCollector, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.base import (
    BankAdapter,
)
from adapters.errors import AdapterError
from adapters.proxy import BankProxy
from authz.services import Services
from gateway.admin.token import AdminToken
from gateway.health import AdapterProbe
from gateway.response_rate import MonthFigures, ResponseRates
from gateway.worker_metrics import WorkerFiles

log = logging.getLogger("gateway.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds. 3.5 s: the CFPB's proposed response-time limit, kept as a reference point.
BUCKETS: tuple[float, ...] = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                              3.5, 5.0, 10.0)  # fmt: skip
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
GRANT_TYPES = frozenset({"authorization_code", "refresh_token", "client_credentials"})
TOKEN_PATH = "/oauth/token"  # noqa: S105  (a path, not a secret)
STATUSES = ("ALIVE", "PARTIAL", "MAINTENANCE", "DOWN")  # FDX 6.2 AvailabilityStatus
_GRANT = re.compile(rb"(?:^|&)grant_type=([A-Za-z0-9_.:%-]{1,100})")
_MAX_SNIFF = 65536

T = TypeVar("T")


class _Series:
    """A histogram's state: per-bucket (not cumulative) counts, count and sum."""

    __slots__ = ("buckets", "count", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * (len(BUCKETS) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.buckets[bisect_left(BUCKETS, seconds)] += 1
        self.count += 1
        self.sum += seconds

    def cumulative(self) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        running = 0
        for bound, n in zip((*BUCKETS, float("inf")), self.buckets, strict=True):
            running += n
            out.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return out


@dataclass(eq=False)
class Metrics:
    """One app's measurements and the Prometheus registry that exposes them."""

    # This worker's share of the instance's files under ``fdxgw serve --workers``; None: one
    # process, which answers from its own dicts.
    shared: WorkerFiles | None = None
    requests: dict[tuple[str, str, str], _Series] = field(default_factory=dict)
    adapter_calls: dict[tuple[str, str], _Series] = field(default_factory=dict)
    adapter_errors: dict[tuple[str, str, str], int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)
    # Read from storage when scraped: the same on every instance.
    active_consents: int | None = None
    months: list[MonthFigures] = field(default_factory=list)
    adapter_status: str | None = None  # the health probe's (FDX AvailabilityStatus)
    signing_key_age: float | None = None  # seconds since the signing key was made
    registry: CollectorRegistry = field(init=False)

    def __post_init__(self) -> None:
        stored = _StoredFigures(self)
        if self.shared is None:
            self.registry = CollectorRegistry(auto_describe=False)
            self.registry.register(self)  # a Collector: it has collect()
            self.registry.register(stored)
            ProcessCollector(registry=self.registry)
        else:
            self.registry = self.shared.registry(stored)

    def observe_request(self, template: str, method: str, status: int, seconds: float) -> None:
        key = (template, method, str(status))
        series = self.requests.get(key)
        if series is None:
            series = self.requests[key] = _Series()
        series.observe(seconds)

    def observe_adapter(self, adapter: str, operation: str, seconds: float) -> None:
        key = (adapter, operation)
        series = self.adapter_calls.get(key)
        if series is None:
            series = self.adapter_calls[key] = _Series()
        series.observe(seconds)

    def count_adapter_error(self, adapter: str, operation: str, error: str) -> None:
        key = (adapter, operation, error)
        self.adapter_errors[key] = self.adapter_errors.get(key, 0) + 1

    def count_token(self, grant_type: str) -> None:
        self.tokens[grant_type] = self.tokens.get(grant_type, 0) + 1

    def render(self) -> bytes:
        self.flush()
        return generate_latest(self.registry)

    def flush(self) -> None:
        """Under ``--workers``: this worker's totals into its files, for any worker's scrape."""
        if self.shared is not None:
            self.shared.write(self)

    def collect(self) -> Iterable[Metric]:
        yield from self._histograms(
            "fdxgw_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template, method and status.",
            ("route", "method", "status"),
            self.requests,
        )
        total = CounterMetricFamily(
            "fdxgw_http_requests",
            "HTTP requests answered, by route template, method and status.",
            labels=("route", "method", "status"),
        )
        for key, series in sorted(self.requests.items()):
            total.add_metric(key, series.count)
        yield total
        yield from self._histograms(
            "fdxgw_adapter_call_duration_seconds",
            "Time of each bank adapter call, by adapter and operation.",
            ("adapter", "operation"),
            self.adapter_calls,
        )
        errors = CounterMetricFamily(
            "fdxgw_adapter_errors",
            "Bank adapter calls that raised, by adapter, operation and error class.",
            labels=("adapter", "operation", "error"),
        )
        for ekey, n in sorted(self.adapter_errors.items()):
            errors.add_metric(ekey, n)
        yield errors
        tokens = CounterMetricFamily(
            "fdxgw_tokens_issued", "Tokens issued, by grant type.", labels=("grant_type",)
        )
        for grant, n in sorted(self.tokens.items()):
            tokens.add_metric((grant,), n)
        yield tokens

    def collect_stored(self) -> Iterable[Metric]:
        if self.active_consents is not None:
            yield GaugeMetricFamily(
                "fdxgw_active_consents",
                "Consents ACTIVE and not yet expired (all instances: read from storage).",
                value=self.active_consents,
            )
        if self.adapter_status is not None:
            status = GaugeMetricFamily(
                "fdxgw_adapter_status",
                "The bank adapter's health probe: 1 for its status (DOWN also while a circuit"
                " breaker is open), 0 for the others.",
                labels=("status",),
            )
            for name in STATUSES:
                status.add_metric((name,), 1.0 if name == self.adapter_status else 0.0)
            yield status
        if self.signing_key_age is not None:
            yield GaugeMetricFamily(
                "fdxgw_signing_key_age_seconds",
                "Seconds since the key that signs tokens now was made (rotate before policy).",
                value=self.signing_key_age,
            )
        doc = " (CFPB 12 CFR 1033.311(c)(1)(i); from the audit trail, all instances)."
        requests = CounterMetricFamily(
            "fdxgw_cfpb_1033_requests",
            "Queries for covered data in the month, scheduled downtime excluded" + doc,
            labels=("month",),
        )
        proper = CounterMetricFamily(
            "fdxgw_cfpb_1033_proper_responses",
            "Proper responses in the month: 2xx, or a 4xx that explains why not" + doc,
            labels=("month",),
        )
        rate = GaugeMetricFamily(
            "fdxgw_cfpb_1033_response_rate",
            "Proper responses divided by queries in the month" + doc,
            labels=("month",),
        )
        for figures in self.months:
            requests.add_metric((figures.month,), figures.requests)
            proper.add_metric((figures.month,), figures.proper)
            rate.add_metric((figures.month,), figures.rate)
        yield requests
        yield proper
        yield rate

    @staticmethod
    def _histograms(
        name: str, doc: str, labels: Sequence[str], data: Mapping[Any, _Series]
    ) -> Iterable[Metric]:
        family = HistogramMetricFamily(name, doc, labels=labels)
        for key, series in sorted(data.items()):
            family.add_metric(list(key), series.cumulative(), series.sum)
        yield family


class _StoredFigures:
    """The figures read from storage at each scrape, as a collector of their own: under
    ``--workers`` they are added once, beside the workers' summed files, never summed."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics.collect_stored()


class MetricsMiddleware:
    """Pure ASGI: times each HTTP request and labels it with the route Starlette matched.

    Starlette's router sets ``scope["route"]`` to the matched route (the innermost one under a
    Mount, whose prefix it appends to ``scope["root_path"]``), so the template is read after the
    app has answered, at the cost of a dict lookup and a string join.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        root = scope.get("root_path", "")
        answer = [500]  # the status

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer[0] = message["status"]
            await send(message)

        grant: list[bytes] = []
        if scope["path"] == TOKEN_PATH and scope["method"] == "POST":
            receive = _sniff_grant(receive, grant)
        try:
            await self.app(scope, receive, send_status)
        finally:
            seconds = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", None)
            template = (
                "unmatched" if path is None else scope.get("root_path", "")[len(root) :] + path
            )
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            status = int(answer[0])
            self.metrics.observe_request(template, method, status, seconds)
            if grant and status == 200:
                self.metrics.count_token(_grant_type(b"".join(grant)))


def _sniff_grant(receive: Receive, chunks: list[bytes]) -> Receive:
    """``receive`` that also keeps the body (up to 64 KiB) of POST /oauth/token for its
    ``grant_type``: counting by grant type without touching the token endpoint's code."""
    size = [0]

    async def wrapped() -> Message:
        message = await receive()
        if message["type"] == "http.request" and size[0] < _MAX_SNIFF:
            body = message.get("body", b"")
            chunks.append(body[: _MAX_SNIFF - size[0]])
            size[0] += len(body)
        return message

    return wrapped


def _grant_type(body: bytes) -> str:
    found = _GRANT.search(body)
    value = found.group(1).decode("ascii") if found else ""
    return value if value in GRANT_TYPES else "other"


class MeasuredBank(BankProxy):
    """A ``BankAdapter`` that times each call of the one it wraps and counts what it raises.

    Created by ``create_app`` around the configured adapter (and each member of a composite), so
    adapters need no instrumentation of their own. Attributes other than the Protocol's pass
    through to the wrapped adapter.
    """

    def __init__(self, bank: BankAdapter, metrics: Metrics, *, label: str | None = None) -> None:
        super().__init__(bank)
        self.label = label or self.name
        self._metrics = metrics

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    async def _through(self, operation: str, call: Awaitable[T]) -> T:
        start = time.perf_counter()
        try:
            return await call
        except Exception as exc:
            error = type(exc).__name__ if isinstance(exc, AdapterError) else "unexpected"
            self._metrics.count_adapter_error(self.label, operation, error)
            raise
        finally:
            self._metrics.observe_adapter(self.label, operation, time.perf_counter() - start)


def measure(bank: BankAdapter, metrics: Metrics) -> BankAdapter:
    """``bank`` wrapped in ``MeasuredBank``; a composite's members are wrapped too (labelled by
    their member label), so each core's latency and errors are visible on their own."""
    members = getattr(bank, "members", None)
    if isinstance(members, dict):
        for label, member in list(members.items()):
            if isinstance(member, BankAdapter) and not isinstance(member, MeasuredBank):
                members[label] = MeasuredBank(member, metrics, label=label)
    return MeasuredBank(bank, metrics)


def unwrap(bank: BankAdapter) -> BankAdapter:
    return bank.wrapped if isinstance(bank, MeasuredBank) else bank


def metrics_route(
    metrics: Metrics,
    services: Services,
    rates: ResponseRates,
    probe: AdapterProbe,
    *,
    token: AdminToken | None,
) -> Route:
    """``GET /metrics``; with ``token`` (``metrics_require_admin``) only for the admin token.
    The active-consent gauge and the §1033 figures are read from storage at each scrape, the
    adapter's status from its (cached) health probe, the signing key's age from the key ring."""

    async def scrape(request: Request) -> Response:
        if token is not None:
            scheme, _, presented = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not token.verify(presented.strip()):
                return Response(
                    b"admin bearer token required\n",
                    status_code=401,
                    media_type="text/plain",
                    headers={"www-authenticate": 'Bearer realm="fdxgw-admin"'},
                )
        try:
            metrics.active_consents = await services.records.consents.count_active(services.clock())
        except Exception as exc:
            log.warning("metrics.active_consents_failed %s", type(exc).__name__)
        try:
            metrics.months = await rates.months()
        except Exception as exc:
            log.warning("metrics.response_rate_failed %s", type(exc).__name__)
        metrics.adapter_status = (await probe.health()).status.value
        metrics.signing_key_age = _signing_key_age(services)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return Route("/metrics", scrape, methods=["GET"])


def _signing_key_age(services: Services) -> float | None:
    kid = services.keys.kid
    for meta in services.keys.ring():
        if meta.kid == kid:
            return max(0.0, services.clock() - meta.created)
    return None


__all__ = [
    "CONTENT_TYPE",
    "MeasuredBank",
    "Metrics",
    "MetricsMiddleware",
    "measure",
    "metrics_route",
    "unwrap",
]

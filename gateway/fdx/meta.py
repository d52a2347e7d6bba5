"""FDX 6.2 Meta API: ``GET /availability`` (getAvailability) and ``GET /capability``
(getCapability), answered from the adapter's health, the bank's planned windows and the
OpenAPI document of what this gateway serves.

Both are public: no token, no consent. FDX 6.2 declares bearer auth for every path, but what
these two disclose (whether the API is up, which operations and versions it serves, where its
JWKS is) is already public in the discovery metadata and the developer documentation, and a
recipient needs it most exactly when it cannot get a token (an outage, a maintenance window).
So they are answered without a token, and an ``Authorization`` header, if sent, is ignored.

Availability per operation: the data operations depend on the bank, so they take the adapter's
health (``gateway.health.AdapterProbe``, cached for a few seconds), overridden by a planned window
in force; the Consent API and the meta operations depend only on the gateway and are ALIVE.
Planned windows come from a TOML file (``settings.maintenance_file``)::

    [[window]]
    start = 2026-06-01T02:00:00Z
    end = 2026-06-01T04:00:00Z
    status = "MAINTENANCE"        # or DOWN, PARTIAL; MAINTENANCE when omitted
    description = "Core banking upgrade"
"""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from adapters import capability
from authz.services import Services
from gateway.errors import InvalidInput, MethodNotAllowed, render
from gateway.health import AdapterProbe, Availability
from gateway.openapi.document import FDX_PREFIX, fdx_operations, load_document
from gateway.response_rate import ResponseRates
from gateway.responses import fdx_json

FDX_VERSION = "V6.2.0"  # FDX 6.2 FDXVersion
MAX_PLANNED = 20
MAX_OPERATION_ID = 100
DESCRIPTIONS = {
    Availability.ALIVE: "Available",
    Availability.PARTIAL: "Some of the bank's systems are unavailable; data held by them"
    " cannot be read for now",
    Availability.MAINTENANCE: "The bank's systems are in maintenance",
    Availability.DOWN: "The bank's systems are unavailable",
}


@dataclass(frozen=True, slots=True)
class Window:
    """A planned period of reduced availability (FDX PlannedAvailability)."""

    start: float
    end: float
    status: Availability
    description: str

    def to_fdx(self) -> dict[str, str]:
        return {
            "status": self.status.value,
            "description": self.description,
            "startTime": _iso(self.start),
            "endTime": _iso(self.end),
        }


def load_windows(path: str) -> tuple[Window, ...]:
    """The planned windows in ``path`` (empty path: none), by start; ValueError names what is
    wrong, so ``fdxgw serve`` refuses to start on a bad file rather than hide a window."""
    if not path:
        return ()
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"maintenance_file: cannot read {path} ({exc})") from exc
    listed = raw.get("window", [])
    if not isinstance(listed, list):
        raise ValueError(
            f"maintenance_file: {path}: window must be an array of tables ([[window]])"
        )
    windows = [_window(path, i, w) for i, w in enumerate(listed, start=1)]
    unknown = set(raw) - {"window"}
    if unknown:
        raise ValueError(f"maintenance_file: unknown key(s) {', '.join(sorted(unknown))}")
    return tuple(sorted(windows, key=lambda w: w.start))


def _window(path: str, n: int, raw: Any) -> Window:
    where = f"maintenance_file: {path} window {n}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a table")
    start, end = raw.get("start"), raw.get("end")
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        raise ValueError(f"{where}: start and end must be TOML date-times")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError(f"{where}: start and end need a time zone (e.g. Z)")
    if end <= start:
        raise ValueError(f"{where}: end must be after start")
    status = str(raw.get("status", "MAINTENANCE"))
    if status not in (Availability.MAINTENANCE, Availability.DOWN, Availability.PARTIAL):
        raise ValueError(f"{where}: status must be MAINTENANCE, DOWN or PARTIAL")
    description = str(raw.get("description", "Planned maintenance"))[:500]
    extra = set(raw) - {"start", "end", "status", "description"}
    if extra:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
    return Window(start.timestamp(), end.timestamp(), Availability(status), description)


class Meta:
    def __init__(
        self,
        services: Services,
        probe: AdapterProbe,
        windows: Sequence[Window],
        rates: ResponseRates,
    ):
        self.services = services
        self.probe = probe
        self.windows = tuple(windows)
        self.rates = rates
        document = load_document()
        base = services.settings.issuer + FDX_PREFIX
        # (operationId, path, method, depends on the bank, media type)
        self.operations = [
            (
                str(op["operationId"]),
                base + path,
                method.upper(),
                "x-fdx-data-clusters" in op,
                _media_type(op),
            )
            for method, path, op in fdx_operations(document)
            if _served(op, services)
        ]
        self.ids = frozenset(o[0] for o in self.operations)
        self.bank_ids = frozenset(o[0] for o in self.operations if o[3])
        # Each data operation as the audit trail names it: "GET /accounts/{accountId}".
        self.audited = {
            str(op["operationId"]): f"{method.upper()} {path}"
            for method, path, op in fdx_operations(document)
            if "x-fdx-data-clusters" in op
        }

    async def data_status(self) -> tuple[Availability, str]:
        now = self.services.clock()
        for window in self.windows:
            if window.start <= now < window.end:
                return window.status, window.description
        status = (await self.probe.health()).status
        return status, DESCRIPTIONS[status]

    async def availability(self, request: Request) -> Response:
        wanted = _operation_id(request)
        on_bank = True
        if wanted is not None:
            if wanted not in self.ids:
                return fdx_json({"availability": []})  # "zero or more": one we do not serve
            on_bank = wanted in self.bank_ids
        entry: dict[str, Any]
        if on_bank:
            status, description = await self.data_status()
            entry = {"status": status.value, "description": description}
            now = self.services.clock()
            planned = [w.to_fdx() for w in self.windows if w.end > now][:MAX_PLANNED]
            if planned:
                entry["plannedAvailability"] = planned
        else:
            entry = {"status": "ALIVE", "description": DESCRIPTIONS[Availability.ALIVE]}
        if wanted is not None:
            entry["operationId"] = wanted
        return fdx_json({"availability": [entry]})

    async def capability(self, request: Request) -> Response:
        wanted = _operation_id(request)
        version = request.query_params.get("fdxVersion")
        result_type = request.query_params.get("resultType", "lightweight")
        if result_type not in ("lightweight", "details"):
            raise InvalidInput("resultType must be lightweight or details")
        data_status = (await self.data_status())[0] if result_type == "details" else None
        operations = []
        if version is None or version == FDX_VERSION:
            for op_id, href, method, on_bank, media in self.operations:
                if wanted is not None and op_id != wanted:
                    continue
                entry: dict[str, Any] = {
                    "id": op_id,
                    "fdxVersions": [FDX_VERSION],
                    "link": {"href": href, "action": method, "types": [media]},
                }
                if data_status is not None:
                    status = data_status if on_bank else Availability.ALIVE
                    entry["availability"] = {"status": status.value}
                operations.append(entry)
        issuer = self.services.settings.issuer
        body = {
            "fdxVersions": [FDX_VERSION],
            "messageFormat": "JSON",
            "operations": operations,
            "jwksUrl": {"href": f"{issuer}/jwks", "action": "GET", "types": ["application/json"]},
        }
        return fdx_json(body)

    async def certification_metrics(self, request: Request) -> Response:
        """FDX getCertificationMetrics: one entry per month of the last 13 (§1033.341(d)), its
        ``averageUpTime`` the percentage of proper responses (gateway/response_rate.py), for
        the data operations together or, with ``operationId``, that one alone. No
        ``responseTimeAverage``: latency is measured per instance (``/metrics``), not recorded
        durably, and a figure that a restart resets is not one to certify."""
        wanted = _operation_id(request)
        operations = sorted(self.bank_ids)
        endpoint = None
        if wanted is not None:
            if wanted not in self.audited:
                return fdx_json({"metrics": []})  # "zero or more": not a data operation
            operations, endpoint = [wanted], self.audited[wanted]
        now = _iso_ms(self.services.clock())
        metrics = [
            {
                "reportStartTimestamp": _iso_ms(m.start),
                "reportEndTimestamp": _iso_ms(min(m.end, self.services.clock())),
                "metricsName": f"CFPB 12 CFR 1033.311(c)(1)(i) proper response rate {m.month}",
                "operationIds": operations,
                "averageUpTime": round(100 * m.rate, 4),
                "reportTimestamp": now,
            }
            for m in await self.rates.months(endpoint=endpoint)
        ]
        return fdx_json({"metrics": metrics})


class _MetaEndpoint:
    """GET only, FDX errors: an ASGI endpoint, so another method gets FDX 405, not Starlette's."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            if request.method != "GET":
                raise MethodNotAllowed()
            response = await self.handler(request)
        except Exception as exc:
            response = render(request, exc)
        await response(scope, receive, send)


def meta_routes(
    services: Services, probe: AdapterProbe, windows: Sequence[Window], rates: ResponseRates
) -> list[Route]:
    meta = Meta(services, probe, windows, rates)
    return [
        Route("/availability", _MetaEndpoint(meta.availability)),
        Route("/capability", _MetaEndpoint(meta.capability)),
        Route("/certification-metrics", _MetaEndpoint(meta.certification_metrics)),
    ]


# Operations of a cluster the core serves that still need an optional category of the adapter.
NEEDS_CATEGORY = {"getAccountAssetTransferNetworks": capability.TRANSFER_NETWORKS}


def _served(op: dict[str, Any], services: Services) -> bool:
    """Whether the gateway serves ``op`` with this adapter: a data operation needs one of its
    clusters in the policy (those the adapter cannot serve are withheld from it, Services.build)
    and its optional category, if it has one; ``/capability`` lists only these."""
    clusters = op.get("x-fdx-data-clusters")
    if clusters is None:
        return True
    if not any(c in services.policy.clusters for c in clusters):
        return False
    needed = NEEDS_CATEGORY.get(str(op.get("operationId")))
    return needed is None or needed in capability.categories(services.bank)


def _operation_id(request: Request) -> str | None:
    value = request.query_params.get("operationId")
    if value is not None and (not value or len(value) > MAX_OPERATION_ID):
        raise InvalidInput("operationId must be an FDX operation id")
    return value


def _media_type(op: dict[str, Any]) -> str:
    content = op.get("responses", {}).get("200", {}).get("content", {})
    return "application/pdf" if "application/pdf" in content else "application/json"


def _iso_ms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


__all__ = ["FDX_VERSION", "Meta", "Window", "load_windows", "meta_routes"]

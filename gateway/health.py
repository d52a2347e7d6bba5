"""Is the gateway up, and can it serve? Liveness, readiness and the bank adapter's health.

``GET /healthz`` says the process answers (liveness: restart it if not). ``GET /readyz`` says it
can serve (readiness: send it traffic): the storage schema is the one the code knows, the state
store answers, the signing keys are the ones in the store, and the bank adapter is not down.
Neither needs a token, neither reads customer data, and neither is written to the data-access
audit.

``AdapterProbe`` asks the bank how it is, cheaply: with a short timeout, at most once every
``ttl`` seconds (concurrent askers share one probe), so /readyz and /fdx/v6/availability can be
polled freely. An adapter may answer itself with ``async def health() -> str`` (one of
``Availability``); otherwise the probe looks up a customer id no bank has: "not found" is an
answer, so the bank is ALIVE; ``ScheduledMaintenance`` is MAINTENANCE; unavailable, a timeout or
anything unexpected is DOWN. A composite adapter (``members``) is probed member by member:
all alike gives that status, a mix gives PARTIAL.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import BankAdapter
from adapters.errors import AdapterError, BankUnavailable, ScheduledMaintenance
from authz.services import Services
from authz.store.base import Kind, SchemaError
from gateway import __version__

log = logging.getLogger("gateway.health")

PROBE_CUSTOMER = "fdxgw-health-probe"  # an id no bank issues: the answer is "not found"
NO_STORE = {"cache-control": "no-store"}


class Availability(enum.StrEnum):
    """FDX 6.2 AvailabilityStatus."""

    ALIVE = "ALIVE"
    PARTIAL = "PARTIAL"
    MAINTENANCE = "MAINTENANCE"
    DOWN = "DOWN"


@dataclass(frozen=True, slots=True)
class Health:
    status: Availability
    members: Mapping[str, Availability] = field(default_factory=dict)


class AdapterProbe:
    def __init__(
        self,
        bank: BankAdapter,
        *,
        timeout: float = 1.0,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.bank = bank
        self.timeout = timeout
        self.ttl = ttl
        self.clock = clock
        self._cached: tuple[float, Health] | None = None
        self._lock = asyncio.Lock()

    async def health(self) -> Health:
        cached = self._cached
        if cached is not None and self.clock() < cached[0]:
            return cached[1]
        async with self._lock:
            cached = self._cached
            if cached is not None and self.clock() < cached[0]:
                return cached[1]  # another caller probed while this one waited
            health = await self._probe()
            self._cached = (self.clock() + self.ttl, health)
            return health

    async def _probe(self) -> Health:
        members = getattr(self.bank, "members", None)
        if isinstance(members, Mapping) and members:
            labels = list(members)
            found = await asyncio.gather(*(self._one(_unwrap(members[k])) for k in labels))
            by_label = dict(zip(labels, found, strict=True))
            return Health(combine(found), by_label)
        return Health(await self._one(_unwrap(self.bank)))

    async def _one(self, bank: BankAdapter) -> Availability:
        try:
            async with asyncio.timeout(self.timeout):
                own = getattr(bank, "health", None)
                if callable(own):
                    return Availability(await own())
                await bank.get_customer(PROBE_CUSTOMER)
        except ScheduledMaintenance:
            return Availability.MAINTENANCE
        except (BankUnavailable, TimeoutError):
            return Availability.DOWN
        except AdapterError:
            return Availability.ALIVE  # it answered: "no such customer"
        except Exception as exc:
            log.warning("health.probe_failed %s", type(exc).__name__)
            return Availability.DOWN
        return Availability.ALIVE


def combine(statuses: list[Availability]) -> Availability:
    """One status for several parts: all alike → that status; any mix → PARTIAL."""
    distinct = set(statuses)
    if len(distinct) == 1:
        return statuses[0]
    return Availability.PARTIAL


def _unwrap(bank: BankAdapter) -> BankAdapter:
    # Probe the adapter itself, not gateway.metrics' measuring proxy: probes are not traffic.
    inner = getattr(bank, "wrapped", None)
    return inner if isinstance(inner, BankAdapter) else bank


def health_routes(services: Services, probe: AdapterProbe, *, timeout: float = 2.0) -> list[Route]:
    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "alive", "version": __version__}, headers=NO_STORE)

    async def readyz(request: Request) -> Response:
        checks = {
            "storage": await _check(_storage(services), timeout),
            "state": await _check(_state(services), timeout),
        }
        # Keys as stored: false while the last reload failed (a key this KEK cannot open).
        checks["keys"] = "ok" if services.keys.current_as_stored else "not loaded"
        adapter = (await probe.health()).status
        checks["adapter"] = adapter.value
        ready = all(checks[name] == "ok" for name in ("storage", "state", "keys"))
        ready = ready and adapter is not Availability.DOWN
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503, headers=NO_STORE)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]


async def _storage(services: Services) -> None:
    await services.records.schema.check()


async def _state(services: Services) -> None:
    await services.state.get(Kind.SESSION, "fdxgw-readiness-probe")


async def _check(call: Coroutine[Any, Any, None], limit: float) -> str:
    """``ok``, or why not (a class name, never a message: it may name a host or a user)."""
    try:
        async with asyncio.timeout(limit):
            await call
    except SchemaError:
        return "schema mismatch"
    except TimeoutError:
        return "timeout"
    except Exception as exc:
        log.warning("health.check_failed %s", type(exc).__name__)
        return f"failed ({type(exc).__name__})"
    return "ok"


__all__ = ["AdapterProbe", "Availability", "Health", "combine", "health_routes"]

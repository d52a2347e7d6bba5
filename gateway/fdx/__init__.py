"""The FDX v6 resource API: one module per resource, mounted by ``gateway.app`` as::

    Mount("/fdx/v6", routes=fdx.routes(services)), *fdx.version_routes()

``routes`` ends with a catch-all answering 404/1107, so nothing under /fdx/v6 falls through to
Starlette's plain-text 404; ``version_routes`` answers 501/1106 for any other /fdx/<version>.
Before the catch-all: the public meta endpoints (``meta.py``) and the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute

from authz.services import Services
from gateway.audit import AuditLog
from gateway.fdx import (
    accounts,
    consents,
    contact,
    customers,
    deletion,
    images,
    payment_networks,
    payments,
    rewards,
    statements,
    subscriptions,
    tax_forms,
    transactions,
    transfer_networks,
)
from gateway.fdx.fallback import unknown_path_route, version_routes
from gateway.fdx.meta import Window, load_windows, meta_routes
from gateway.health import AdapterProbe
from gateway.openapi.routes import openapi_route
from gateway.response_rate import ResponseRates, audit_counts


def routes(
    services: Services,
    audit: AuditLog | None = None,
    *,
    probe: AdapterProbe | None = None,
    windows: Sequence[Window] | None = None,
    rates: ResponseRates | None = None,
) -> list[BaseRoute]:
    log = audit or AuditLog(services.records.audit, services.clock)
    out: list[BaseRoute] = []
    resources = (
        accounts,
        transactions,
        statements,
        contact,
        payment_networks,
        customers,
        images,
        transfer_networks,
        payments,
        rewards,
        tax_forms,
    )
    for resource in resources:
        out.extend(resource.routes(services, log))
    out.extend(consents.routes(services))  # after the data routes: they are the hot path
    out.extend(deletion.routes(services))  # our extension: a recipient confirms a deletion
    out.extend(subscriptions.routes(services))
    settings = services.settings
    if probe is None:
        probe = AdapterProbe(
            services.bank, timeout=settings.adapter_probe_timeout, ttl=settings.adapter_probe_ttl
        )
    if windows is None:
        windows = load_windows(settings.maintenance_file)
    if rates is None:
        rates = response_rates(services, windows)
    out.extend(meta_routes(services, probe, windows, rates))
    out.append(openapi_route(settings))
    out.append(unknown_path_route())
    return out


def response_rates(services: Services, windows: Sequence[Window]) -> ResponseRates:
    """The §1033 figures from the audit trail, planned windows being scheduled downtime."""
    return ResponseRates(
        audit_counts(services.records.audit),
        [(w.start, w.end) for w in windows],
        clock=services.clock,
    )


__all__ = ["response_rates", "routes", "version_routes"]

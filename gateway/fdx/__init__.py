"""The FDX v6 resource API: one module per resource, mounted by ``gateway.app`` as::

    Mount("/fdx/v6", routes=fdx.routes(services)), *fdx.version_routes()

``routes`` ends with a catch-all answering 404/1107, so nothing under /fdx/v6 falls through to
Starlette's plain-text 404; ``version_routes`` answers 501/1106 for any other /fdx/<version>.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from authz.services import Services
from gateway.audit import AuditLog
from gateway.fdx import (
    accounts,
    consents,
    contact,
    customers,
    payment_networks,
    statements,
    transactions,
)
from gateway.fdx.fallback import unknown_path_route, version_routes


def routes(services: Services, audit: AuditLog | None = None) -> list[BaseRoute]:
    log = audit or AuditLog(services.records, services.clock)
    out: list[BaseRoute] = []
    for resource in (accounts, transactions, statements, contact, payment_networks, customers):
        out.extend(resource.routes(services, log))
    out.extend(consents.routes(services))  # after the data routes: they are the hot path
    out.append(unknown_path_route())
    return out


__all__ = ["routes", "version_routes"]

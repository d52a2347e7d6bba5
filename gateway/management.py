"""The management port (``management_port``): where the operator's paths are served.

With it set, ``/metrics``, ``/admin`` and everything under it, ``/healthz`` and ``/readyz`` are
answered only on that port, and only they are: the public port answers 404 for them, exactly as
for a path that does not exist, and the management port 404 for everything else. So the port a
load balancer publishes never shows the bank's figures or its admin API, whatever a proxy in
front forwards. The port a request came in on is the listening socket's (ASGI ``server``).
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import Scope

PATHS = frozenset({"/metrics", "/healthz", "/readyz", "/admin"})
PREFIXES = ("/admin/",)
NOT_FOUND = PlainTextResponse("Not Found", status_code=404)


def is_management_path(path: str) -> bool:
    return path in PATHS or path.startswith(PREFIXES)


def served_here(scope: Scope, management_port: int) -> bool:
    """Whether this request's path belongs on the port it came in on."""
    server = scope.get("server")
    on_management = server is not None and server[1] == management_port
    return on_management == is_management_path(scope["path"])


__all__ = ["NOT_FOUND", "PATHS", "is_management_path", "served_here"]

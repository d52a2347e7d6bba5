"""What answers when no FDX operation matches: an unknown path under /fdx/v6 (404/1107) and any
other FDX version (501/1106), both in the FDX error shape."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.errors import FdxError, NotFound, VersionNotSupported, render

SUPPORTED = "v6"


class _Refusal:
    """An ASGI endpoint, so Route hands it every method (a function endpoint gets GET only)."""

    def __init__(self, error_for: Callable[[Request], FdxError]) -> None:
        self.error_for = error_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        await render(request, self.error_for(request))(scope, receive, send)


def _by_version(request: Request) -> FdxError:
    if request.path_params.get("version") == SUPPORTED:
        return NotFound()
    return VersionNotSupported()


def unknown_path_route() -> Route:
    """Last route inside the /fdx/v6 mount."""
    return Route("/{path:path}", _Refusal(lambda _: NotFound()))


def version_routes() -> list[Route]:
    """Mounted at the top level, after the /fdx/v6 mount: /fdx/v5/…, /fdx/v7/… → 501/1106."""
    refusal = _Refusal(_by_version)
    return [Route("/fdx/{version}", refusal), Route("/fdx/{version}/{path:path}", refusal)]

"""The FDX data operations reached straight from the ASGI server, not through Starlette's stack.

Every FDX data call used to pass five ASGI layers before its ``FdxEndpoint`` and five send
wrappers after it: Starlette's error middleware, the metrics and interaction-id middlewares,
the exception middleware, the router, the ``/fdx/v6`` Mount and its Route, each matching
regexes, copying the scope or wrapping ``send``. That was ~40 µs of the gateway's own CPU per
request on the transactions benchmark (docs/performance.md §1). ``FdxDispatcher`` does the same
work in one layer, for the data operations only:

- the path is matched by its segments against the operations' templates, in the Mount's order,
  with Starlette's own rules (a ``{param}`` is one non-empty segment; the path is the decoded
  ``scope["path"]``). Anything it does not match exactly, every other method of reaching the
  app (a ``root_path``, a websocket, the lifespan) and every other path go to the Starlette app
  unchanged, so the 404/1107 catch-all, the 501/1106 version routes, the Consent API and the
  meta endpoints answer exactly as before;
- the interaction id, the security headers (``gateway.middleware``) and the request metrics
  (``gateway.metrics``) are one ``send`` wrapper, with the same code those middlewares run;
- the Mount's own middleware (``DPoP-Nonce``, when nonces are required) wraps each endpoint,
  as the Mount wraps its routes;
- an exception that escapes an endpoint (``FdxEndpoint`` renders its own errors, so this is a
  bug) is answered 500 in the FDX shape, as Starlette's last-resort handler does, and re-raised
  for the server to log.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import render
from gateway.fdx.endpoint import FdxEndpoint
from gateway.logging import INTERACTION_ID
from gateway.metrics import METHODS, Metrics
from gateway.middleware import assign_interaction_id, stamped

PREFIX = "/fdx/v6"


@dataclass(frozen=True, slots=True)
class _Operation:
    template: str  # "/fdx/v6/accounts/{accountId}/transactions": the metrics label
    segments: tuple[str | None, ...]  # literal segments, None for a parameter
    names: tuple[str, ...]  # the parameters' names, in order
    app: ASGIApp  # the endpoint, inside the Mount's middleware


class FdxDispatcher:
    """Serves the leading ``FdxEndpoint`` routes of the ``/fdx/v6`` mount; ``match`` says
    whether a request is one of theirs."""

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        *,
        metrics: Metrics,
        hsts: bool,
        middleware: Sequence[Middleware] = (),
    ) -> None:
        self._metrics = metrics
        self._hsts = hsts
        self._by_length: dict[int, list[_Operation]] = {}
        for route in routes:
            # Only the leading run of data operations: a route after another kind (the Consent
            # API, the catch-all) is matched by Starlette, in order, as before.
            if not isinstance(route, Route) or not isinstance(route.endpoint, FdxEndpoint):
                break
            op = _operation(route, middleware)
            self._by_length.setdefault(len(op.segments), []).append(op)

    def match(self, scope: Scope) -> tuple[_Operation, dict[str, str]] | None:
        path: str = scope["path"]
        if not path.startswith(PREFIX) or scope.get("root_path"):
            return None
        parts = path[len(PREFIX) :].split("/")
        if parts[0]:
            return None  # "/fdx/v6x…", or "/fdx/v6" itself
        del parts[0]
        for op in self._by_length.get(len(parts), ()):
            params: dict[str, str] = {}
            names = iter(op.names)
            for want, got in zip(op.segments, parts, strict=True):
                if want is None:
                    if not got:
                        break  # Starlette's "{param}" is [^/]+: one character at least
                    params[next(names)] = got
                elif want != got:
                    break
            else:
                return op, params
        return None

    async def serve(
        self,
        op: _Operation,
        params: dict[str, str],
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        start = time.perf_counter()
        scope["path_params"] = params
        scope["endpoint"] = op.app
        iid = assign_interaction_id(scope)
        raw = iid.encode("ascii")
        hsts = self._hsts
        answer = [500]  # the status

        async def send_stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer[0] = message["status"]
                message["headers"] = stamped(message.get("headers", ()), raw, hsts=hsts)
                answer.append(True)  # started
            await send(message)

        token = INTERACTION_ID.set(iid)
        try:
            await op.app(scope, receive, send_stamped)
        except Exception as exc:
            if len(answer) == 1:  # nothing sent yet: the last-resort answer, in FDX shape
                await render(Request(scope), exc)(scope, receive, send_stamped)
            raise
        finally:
            INTERACTION_ID.reset(token)
            method = scope["method"]
            self._metrics.observe_request(
                op.template,
                method if method in METHODS else "OTHER",
                int(answer[0]),
                time.perf_counter() - start,
            )


def _operation(route: Route, middleware: Sequence[Middleware]) -> _Operation:
    segments: list[str | None] = []
    names: list[str] = []
    for part in route.path.split("/")[1:]:
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if ":" in name:  # a convertor (":path", ":int"): not what FDX paths use
                raise ValueError(f"{route.path}: only plain {{param}} segments are supported")
            segments.append(None)
            names.append(name)
        elif "{" in part or "}" in part:
            raise ValueError(f"{route.path}: a parameter must be a whole segment")
        else:
            segments.append(part)
    app: ASGIApp = route.app
    for cls, args, kwargs in reversed(middleware):
        app = cls(app, *args, **kwargs)
    return _Operation(PREFIX + route.path, tuple(segments), tuple(names), app)


__all__ = ["PREFIX", "FdxDispatcher"]

"""x-fapi-interaction-id on every request and response (FAPI 1.0 Baseline §6.2.1 items 11-13,
docs/fdx.md §6): the client's value is echoed when it is a sane id, otherwise one is made."""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.logging import INTERACTION_ID

HEADER = b"x-fapi-interaction-id"
_VALID = re.compile(rb"[A-Za-z0-9-]{1,64}")


class InteractionIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        iid = _from_request(scope) or str(uuid.uuid4())
        scope["fdx.interaction_id"] = iid
        scope.setdefault("state", {})["interaction_id"] = iid

        raw = iid.encode("ascii")

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The raw ASGI list, not MutableHeaders: this runs on every response.
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                headers.append((HEADER, raw))
                message["headers"] = headers
            await send(message)

        # Log lines written while this request runs carry its id (gateway.logging).
        token = INTERACTION_ID.set(iid)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            INTERACTION_ID.reset(token)


def _from_request(scope: Scope) -> str | None:
    """The client's id if exactly one was sent and it is ≤ 64 of [A-Za-z0-9-]: anything else
    could be used to inject into logs, so it is replaced rather than echoed."""
    values: list[bytes] = [v for k, v in scope["headers"] if k == HEADER]
    if len(values) == 1 and _VALID.fullmatch(values[0]):
        return values[0].decode("ascii")
    return None

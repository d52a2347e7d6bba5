"""FDX notification subscriptions for recipients (FDX 6.2 Event Notifications)::

    POST   /notification-subscriptions                  → 201 NotificationSubscription
    GET    /notification-subscriptions/{subscriptionId} → 200 NotificationSubscription
    DELETE /notification-subscriptions/{subscriptionId} → 204

Authorised by a client-credentials token of the recipient with ``fdx:notifications:subscribe``
(``gateway.access.authorize_client``). A recipient subscribes to the notification types the
gateway emits (``CONSENT_REVOKED``, ``CONSENT_UPDATED``; category ``CONSENT``) at an ``https``
``callbackUrl`` checked as the registered ``notification_uri`` is (public addresses only); each
notification is then also queued for the subscription, signed and retried like any other
(authz/notifications). The ``subscriber`` is the recipient as the bank registered it, whatever
the body says. Another recipient's subscription, an unknown id and a deleted one all answer
404/1107.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from authz.notifications.message import EMITTED
from authz.notifications.sender import Refused, check_url
from authz.notifications.targets import new_subscription_id
from authz.services import Services
from authz.store.base import ClientRecord
from authz.subscriptions import Subscription
from authz.tokens import SUBSCRIPTIONS_SCOPE, AccessClaims
from gateway.access import authorize_client
from gateway.errors import InvalidInput, MethodNotAllowed, NotFound, render
from gateway.responses import NO_STORE, fdx_json

CATEGORIES = frozenset({"CONSENT"})  # the category of every type in EMITTED
MAX_PER_CLIENT = 20
MAX_URL_CHARS = 2048
MAX_ID_CHARS = 256
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KEYS = frozenset({"type", "category", "callbackUrl", "subscriber", "effectiveDate"})

Operation = Callable[[Request, Services, AccessClaims], Awaitable[Response]]


class SubscriptionEndpoint:
    """One path: method → operation, after the client-credentials gate."""

    def __init__(self, services: Services, operations: dict[str, Operation]) -> None:
        self.services = services
        self.operations = operations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            operation = self.operations.get(request.method)
            if operation is None:
                error = MethodNotAllowed()
                error.headers["Allow"] = ", ".join(self.operations)
                raise error
            claims = await authorize_client(request, self.services, SUBSCRIPTIONS_SCOPE)
            response = await operation(request, self.services, claims)
        except Exception as exc:
            response = render(request, exc)
        await response(scope, receive, send)


async def create(request: Request, services: Services, claims: AccessClaims) -> Response:
    body = await _body(request, services.settings.max_body_bytes)
    kind, category = body.get("type"), body.get("category")
    if kind not in EMITTED:
        raise InvalidInput(f"type must be one of {', '.join(sorted(EMITTED))}")
    if category not in CATEGORIES:
        raise InvalidInput(f"category must be {', '.join(sorted(CATEGORIES))}")
    url = body.get("callbackUrl")
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        raise InvalidInput("callbackUrl must be an https URL")
    try:
        check_url(url, allow_insecure=services.settings.allow_insecure_notification_urls)
    except Refused as exc:
        raise InvalidInput(f"callbackUrl cannot receive notifications ({exc})") from None
    party = body.get("subscriber")
    if not isinstance(party, dict) or party.get("type") != "DATA_RECIPIENT":
        raise InvalidInput("subscriber must be a Party of type DATA_RECIPIENT")
    if len(await services.subscriptions.list_for_client(claims.client_id)) >= MAX_PER_CLIENT:
        raise InvalidInput(f"at most {MAX_PER_CLIENT} subscriptions per recipient")
    client = await services.records.clients.get(claims.client_id)
    subscription = Subscription(
        id=new_subscription_id(),
        client_id=claims.client_id,
        type=str(kind),
        category=str(category),
        callback_url=url,
        subscriber=_subscriber(client, claims.client_id),
        effective_date=_effective_date(body.get("effectiveDate"), services),
        created_at=services.clock(),
    )
    await services.subscriptions.create(subscription)
    return fdx_json(subscription.to_fdx(), 201)


async def read(request: Request, services: Services, claims: AccessClaims) -> Response:
    return fdx_json((await _own(request, services, claims)).to_fdx())


async def delete(request: Request, services: Services, claims: AccessClaims) -> Response:
    subscription = await _own(request, services, claims)
    if not await services.subscriptions.delete(subscription.id, now=services.clock()):
        raise NotFound("subscription not found")
    return Response(status_code=204, headers={"cache-control": NO_STORE})


async def _own(request: Request, services: Services, claims: AccessClaims) -> Subscription:
    subscription_id = request.path_params["subscriptionId"]
    found = None
    if len(subscription_id) <= MAX_ID_CHARS:
        found = await services.subscriptions.get(subscription_id)
    if found is None or found.client_id != claims.client_id or found.deleted_at is not None:
        raise NotFound("subscription not found")
    return found


async def _body(request: Request, max_bytes: int) -> dict[str, Any]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise InvalidInput("request body too large")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput("body must be a JSON NotificationSubscription") from None
    if not isinstance(body, dict):
        raise InvalidInput("body must be a JSON object")
    if not set(body) <= _KEYS:
        raise InvalidInput("body has members a NotificationSubscription does not")
    return body


def _effective_date(value: Any, services: Services) -> str:
    # FDX 6.2 says only "Effective date of notification" (a date): a past one is not invalid,
    # it means the subscription is in effect already, and nothing is ever sent for events before
    # it was made, so it is kept as given rather than refused.
    today = datetime.fromtimestamp(services.clock(), UTC).date()
    if value is None:
        return today.isoformat()
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise InvalidInput("effectiveDate must be a date, YYYY-MM-DD")


def _subscriber(client: ClientRecord | None, client_id: str) -> dict[str, Any]:
    party: dict[str, Any] = {
        "name": client.client_name if client is not None else client_id,
        "type": "DATA_RECIPIENT",
    }
    if client is not None and client.client_uri:
        party["homeUri"] = client.client_uri
    if client is not None and client.logo_uri:
        party["logoUri"] = client.logo_uri
    return party


def routes(services: Services) -> list[BaseRoute]:
    path = "/notification-subscriptions"
    return [
        Route(path, SubscriptionEndpoint(services, {"POST": create})),
        Route(
            path + "/{subscriptionId}",
            SubscriptionEndpoint(services, {"GET": read, "DELETE": delete}),
        ),
    ]


__all__ = ["routes"]

"""The admin API under /admin: the bank operator's tools over HTTP, JSON in and out.

    GET  /admin/recipients                                   every recipient and its status
    POST /admin/recipients/{clientId}/approve|suspend|reinstate   {"reason": "…"} optional
    GET  /admin/consents?customer=ID | ?recipient=CLIENT_ID  one customer's or recipient's
    POST /admin/consents/{consentId}/revoke                  {"reason": "BUSINESS_RULE"} optional
    GET  /admin/keys                                         signing keys: kid, created, signing
    GET  /admin/audit/verify                                 recompute the audit trail's chain
    GET  /admin/deletions/overdue                            deletions asked, unconfirmed 30 days

Authentication is its own: ``Authorization: Bearer <admin token>`` (``gateway.admin.token``),
never a recipient's or a consumer's credential. Without a configured token the whole prefix
answers exactly as an unknown path does (404), so an exposed gateway does not advertise it.
Errors are ``{"error", "error_description"}`` (the OAuth shape operators already read). Every
action is logged with ids only (``admin.<action>`` with the target's id), never personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from authz.consent import lifecycle
from authz.notices.notices import DELETION_GRACE_DAYS
from authz.registration import recipients
from authz.services import Services
from authz.store.base import ClientRecord, RecordsUnavailable, StateUnavailable
from authz.trail import verify_chain
from gateway.admin import consents
from gateway.admin.keys import list_keys
from gateway.admin.token import AdminToken
from gateway.errors import client_gone

log = logging.getLogger("gateway.admin")

MAX_ID_CHARS = 256
MAX_RESULTS = 1000
ACTIONS = ("approve", "suspend", "reinstate")


class AdminError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


Handler = Callable[[Request, Services], Awaitable[Response]]


class AdminEndpoint:
    """One admin path: method check, then the token, then the handler; errors rendered here."""

    def __init__(self, token: AdminToken, services: Services, methods: dict[str, Handler]):
        self.token = token
        self.services = services
        self.methods = methods

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.respond(request)
        await response(scope, receive, send)

    async def respond(self, request: Request) -> Response:
        if self.token.stored_hash() is None:
            # No admin API at all: answered by the app exactly as a path that does not exist.
            raise HTTPException(404)
        try:
            _authenticate(request, self.token)
            handler = self.methods.get(request.method)
            if handler is None:
                raise AdminError(405, "method_not_allowed", f"use {', '.join(self.methods)}")
            return await handler(request, self.services)
        except AdminError as exc:
            headers = {"cache-control": "no-store"}
            if exc.status == 401:
                headers["www-authenticate"] = 'Bearer realm="fdxgw-admin"'
            if exc.status == 405:
                headers["allow"] = ", ".join(self.methods)
            body = {"error": exc.error, "error_description": exc.description}
            return _json(body, exc.status, headers)
        except ClientDisconnect:
            return client_gone(request)
        except (RecordsUnavailable, StateUnavailable):
            # Storage away: say so in the admin API's own shape, as the other protocols do.
            body = {"error": "temporarily_unavailable", "error_description": "storage unavailable"}
            return _json(body, 503, {"cache-control": "no-store", "retry-after": "5"})
        except Exception as exc:
            # Type only: the message of an unexpected error may carry data (docs/operations.md).
            log.error("admin.unexpected %s", type(exc).__name__)
            body = {"error": "server_error", "error_description": "unexpected error; see the log"}
            return _json(body, 500)


def _authenticate(request: Request, token: AdminToken) -> None:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.verify(presented.strip()):
        log.warning("admin.unauthorized", extra={"path": request.url.path})
        raise AdminError(401, "invalid_token", "an admin bearer token is required")


async def list_recipients(request: Request, services: Services) -> Response:
    found = await recipients.list_recipients(services.records)
    log.info("admin.recipients_listed", extra={"count": len(found)})
    return _json({"recipients": [_recipient(c) for c in found]})


async def change_recipient(request: Request, services: Services) -> Response:
    client_id = _id(request.path_params["clientId"], "clientId")
    action = request.path_params["action"]
    if action not in ACTIONS:
        raise AdminError(404, "not_found", f"no action {action!r}; use {', '.join(ACTIONS)}")
    body = await _body(request, services)
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > 500):
        raise AdminError(400, "invalid_request", "reason must be a string of at most 500")
    try:
        changed = await recipients.change_status(
            services.records,
            client_id,
            action,
            now=services.clock(),
            reason=reason,
            observers=services.recipient_observers,
        )
    except recipients.RecipientError as exc:
        known = await services.records.clients.get(client_id) is not None
        status, error = (409, "conflict") if known else (404, "not_found")
        raise AdminError(status, error, str(exc)) from None
    log.info("admin.recipient_%s", action, extra={"client_id": client_id, "status": changed.status})
    return _json({"recipient": _recipient(changed)})


async def search_consents(request: Request, services: Services) -> Response:
    customer = request.query_params.get("customer")
    recipient = request.query_params.get("recipient")
    if (customer is None) == (recipient is None):
        raise AdminError(400, "invalid_request", "give exactly one of customer or recipient")
    _id(customer or recipient or "", "customer" if customer else "recipient")
    found = await consents.search(services.records, customer=customer, recipient=recipient)
    # The search term is personal data when it is a customer id: log which kind, not the value.
    log.info("admin.consents_searched", extra={"by": "customer" if customer else "recipient",
                                              "count": len(found)})  # fmt: skip
    shown = [consents.summary(c) for c in found[:MAX_RESULTS]]
    return _json({"consents": shown, "total": len(found), "truncated": len(found) > MAX_RESULTS})


async def revoke_consent(request: Request, services: Services) -> Response:
    consent_id = _id(request.path_params["consentId"], "consentId")
    body = await _body(request, services)
    reason = body.get("reason", lifecycle.BUSINESS_RULE)
    if reason not in lifecycle.REASONS:
        raise AdminError(400, "invalid_request", "reason must be BUSINESS_RULE or USER_ACTION")
    try:
        consent = await consents.revoke(services, consent_id, reason=reason)
    except consents.ConsentNotFound:
        raise AdminError(404, "not_found", "no such consent") from None
    except consents.ConsentAlreadyEnded as exc:
        raise AdminError(409, "conflict", str(exc)) from None
    except lifecycle.RevocationConflict:
        raise AdminError(409, "conflict", "the consent is changing; try again") from None
    log.info("admin.consent_revoked", extra={"consent_id": consent_id, "reason": reason})
    return _json({"consent": consents.summary(consent)})


async def keys(request: Request, services: Services) -> Response:
    found = list_keys(services.keys)
    log.info("admin.keys_listed", extra={"count": len(found)})
    return _json({"keys": [k.to_dict() for k in found]})


async def verify_audit(request: Request, services: Services) -> Response:
    result = await verify_chain(services.records)
    broken = None
    if result.broken is not None:
        b = result.broken
        broken = {"seq": b.seq, "time": b.time, "kind": b.kind, "reason": b.reason}
    log.info("admin.audit_verified", extra={"ok": result.ok, "count": result.count})
    body = {
        "ok": result.ok,
        "count": result.count,
        "head": result.head,
        "anchored": result.anchored,
        "broken": broken,
    }
    return _json(body)


async def overdue_deletions(request: Request, services: Services) -> Response:
    """Deletions consumers asked of recipients that were not confirmed within the grace period
    (``authz.notices``): the bank follows them up with the recipient."""
    before = services.clock() - DELETION_GRACE_DAYS * lifecycle.DAY
    found = await services.notices.deletions.overdue(before, limit=MAX_RESULTS + 1)
    log.info("admin.deletions_listed", extra={"count": len(found)})
    shown = [
        {
            "consent_id": r.consent_id,
            "client_id": r.client_id,
            "asked_at": r.asked_at,
            "consumer_told_at": r.overdue_told_at,
        }
        for r in found[:MAX_RESULTS]
    ]
    return _json({"deletions": shown, "truncated": len(found) > MAX_RESULTS})


def admin_routes(services: Services, token: AdminToken) -> list[Route]:
    """Every /admin path, at the top level (not a Mount, whose bare prefix would redirect and so
    tell that it exists): the last two make /admin and any other path under it answer alike."""

    def endpoint(**methods: Handler) -> AdminEndpoint:
        return AdminEndpoint(token, services, methods)

    return [
        Route("/admin/recipients", endpoint(GET=list_recipients)),
        Route("/admin/recipients/{clientId}/{action}", endpoint(POST=change_recipient)),
        Route("/admin/consents", endpoint(GET=search_consents)),
        Route("/admin/consents/{consentId}/revoke", endpoint(POST=revoke_consent)),
        Route("/admin/keys", endpoint(GET=keys)),
        Route("/admin/audit/verify", endpoint(GET=verify_audit)),
        Route("/admin/deletions/overdue", endpoint(GET=overdue_deletions)),
        Route("/admin", endpoint()),
        Route("/admin/{path:path}", endpoint()),
    ]


def _recipient(client: ClientRecord) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "client_name": client.client_name,
        "status": client.status,
        "created_at": client.created_at,
    }


def _id(value: str, name: str) -> str:
    if not value or len(value) > MAX_ID_CHARS or not value.isprintable():
        raise AdminError(400, "invalid_request", f"{name} is not a valid id")
    return value


async def _body(request: Request, services: Services) -> dict[str, Any]:
    """An optional JSON object body (empty means ``{}``), within max_body_bytes."""
    limit = services.settings.max_body_bytes
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise AdminError(413, "invalid_request", "request body too large")
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise AdminError(400, "invalid_request", "the body must be a JSON object") from None
    if not isinstance(body, dict):
        raise AdminError(400, "invalid_request", "the body must be a JSON object")
    return body


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers=headers or {"cache-control": "no-store"},
    )

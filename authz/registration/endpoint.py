"""Dynamic client registration (RFC 7591) and its management (RFC 7592), the FDX ``/register``.

``POST /register`` takes JSON client metadata plus the ecosystem registry's software statement,
which is required and whose claims win over the request's (RFC 7591 §2.3). The new client is
``pending`` until the bank approves it (``authz.registration.recipients``); the 201 answer shows
the ``registration_access_token`` once, and only its SHA-256 is stored.

``GET``/``PUT``/``DELETE /register/{clientId}`` take that token as a Bearer credential, compared
as hashes in constant time; any problem with it (missing, unknown, another client's, a deleted
client) is the same 401. Each GET or PUT answer carries a new token and the old one stops working
(RFC 7592 §2.1 allows rotation; §3 wants a token in every answer, and a stored hash cannot be
shown again). PUT replaces the metadata, re-validated, with the status unchanged. DELETE
deregisters: the client becomes ``deleted`` (kept, since consents and the audit trail name it),
its consents are revoked (recorded, refresh tokens dead), and its access tokens stop at the next
call because client authentication and the FDX gate read the status live.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import replace
from typing import Any

import orjson
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authz.consent import lifecycle
from authz.consent.model import ConsentStatus
from authz.errors import (
    NO_STORE,
    InvalidRequestError,
    RequestTooLargeError,
    oauth_error_response,
)
from authz.registration import languages, metadata
from authz.registration.errors import (
    InvalidClientMetadataError,
    InvalidRegistrationTokenError,
)
from authz.registration.recipients import Status
from authz.registration.statement import (
    load_registry_keys,
    registry_file,
    stored_claims,
    verify_statement,
)
from authz.services import Services
from authz.store.base import ClientRecord

JSON = "application/json"
log = logging.getLogger("authz.registration")

MAX_CLIENT_ID_CHARS = 128
# Fields the server assigns; a client echoing them back in a PUT is not refused, only ignored.
_SERVER_FIELDS = frozenset(
    {"client_id", "client_id_issued_at", "registration_access_token", "registration_client_uri",
     "client_secret", "client_secret_expires_at", "status"}
)  # fmt: skip
_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


def registration_routes(services: Services) -> list[BaseRoute]:
    """The /register routes, or none when no registry is configured (DCR off)."""
    settings = services.settings
    path = registry_file(settings)
    if path is None:
        # Said at start-up: an operator who switched adapters must not find DCR gone in silence.
        if settings.registry_jwks:
            log.warning(
                "registration.off registry_jwks is the demo registry's, whose private key is"
                " published: trusted only with adapter = sandbox (adapter is %r); set"
                " registry_jwks to the ecosystem registry's public keys",
                settings.adapter,
            )
        else:
            log.info("registration.off registry_jwks is empty")
        return []
    registrar = Registrar(services, load_registry_keys(path))
    return [
        Route("/register", registrar.register, methods=["POST"]),
        Route("/register/{client_id}", registrar.manage, methods=["GET", "PUT", "DELETE"]),
    ]


class Registrar:
    def __init__(self, services: Services, registry: KeySet) -> None:
        self._services = services
        self._registry = registry

    async def register(self, request: Request) -> Response:
        """RFC 7591 §3.1 / §3.2.1."""
        body = await _read_json(request, self._services.settings.max_body_bytes)
        fields = self._validated(body, statement=body.get("software_statement"))
        token, token_hash = _new_token()
        client = ClientRecord(
            client_id=secrets.token_urlsafe(18),
            status=Status.PENDING.value,
            created_at=self._services.clock(),
            registration_token_hash=token_hash,
            **fields,
        )
        await self._services.records.clients.put(client)
        return self._answer(client, token, status=201)

    async def manage(self, request: Request) -> Response:
        """RFC 7592 §2: read, update or deregister, with the registration access token."""
        try:
            client = await self._authenticated(request)
        except InvalidRegistrationTokenError as exc:
            response = oauth_error_response(exc)
            response.headers.update(_CHALLENGE)
            return response
        if request.method == "GET":
            return await self._rotated(client)
        if request.method == "PUT":
            return await self._update(request, client)
        return await self._delete(client)

    async def _update(self, request: Request, client: ClientRecord) -> Response:
        """RFC 7592 §2.2: the body replaces the metadata; omitted fields are dropped."""
        body = await _read_json(request, self._services.settings.max_body_bytes)
        if body.get("client_id") != client.client_id:
            raise InvalidClientMetadataError(description="client_id must be this client's")
        statement = body.get("software_statement")
        if statement is None:
            # Still bound by the registry's word: the statement registered keeps overriding.
            statement = client.extra.get("software_statement")
        request_fields = {k: v for k, v in body.items() if k not in _SERVER_FIELDS}
        fields = self._validated(request_fields, statement=statement)
        updated = replace(client, **fields)
        response = await self._rotated(updated)
        # A changed purpose or data asked for: consumers are told (their consents keep exactly
        # what they agreed to).
        for observer in self._services.recipient_observers:
            await observer.recipient_changed(client, updated)
        return response

    async def _delete(self, client: ClientRecord) -> Response:
        """RFC 7592 §2.3: 204; the registration token and the client's tokens stop working."""
        services = self._services
        deleted = replace(client, status=Status.DELETED.value, registration_token_hash=None)
        await services.records.clients.put(deleted)
        for consent in await services.records.consents.find(client_id=client.client_id):
            if consent.status is ConsentStatus.ACTIVE:
                await lifecycle.revoke(
                    services,
                    consent.id,
                    actor="DATA_RECIPIENT",
                    reason="BUSINESS_RULE",
                    detail="recipient deregistered",
                )
        return Response(status_code=204, headers=NO_STORE)

    def _validated(self, body: dict[str, Any], *, statement: Any) -> dict[str, Any]:
        services = self._services
        verified = body.get("software_statement") is not None
        if verified or statement is None:
            claims = verify_statement(
                statement,
                self._registry,
                now=services.clock(),
                leeway=services.settings.clock_skew,
            )
        else:
            claims = stored_claims(statement)
        merged = metadata.merge(body, claims)
        merged["software_statement"] = statement
        return metadata.validate(merged, services.policy, services.settings)

    async def _authenticated(self, request: Request) -> ClientRecord:
        client_id = request.path_params["client_id"]
        values = request.headers.getlist("authorization")
        if len(values) != 1:
            raise InvalidRegistrationTokenError(description="registration access token required")
        scheme, _, token = values[0].strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 512:
            raise InvalidRegistrationTokenError(description="expected Bearer registration token")
        client = None
        if len(client_id) <= MAX_CLIENT_ID_CHARS:
            client = await self._services.records.clients.get(client_id)
        expected = client.registration_token_hash if client is not None else None
        # Compare even without a client, so timing does not tell which client ids exist.
        matches = secrets.compare_digest(_hash(token), expected or _hash(""))
        if client is None or expected is None or not matches:
            raise InvalidRegistrationTokenError(description="registration access token invalid")
        return client

    async def _rotated(self, client: ClientRecord) -> Response:
        token, token_hash = _new_token()
        rotated = replace(client, registration_token_hash=token_hash)
        await self._services.records.clients.put(rotated)
        return self._answer(rotated, token, status=200)

    def _answer(self, client: ClientRecord, token: str, *, status: int) -> Response:
        body = client_metadata(client, self._services.settings.issuer)
        body["registration_access_token"] = token
        return Response(orjson.dumps(body), status, media_type=JSON, headers=NO_STORE)


def client_metadata(client: ClientRecord, issuer: str) -> dict[str, Any]:
    """RFC 7591 §3.2.1 / FDX RecipientProvider: everything registered, as registered."""
    body: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": int(client.created_at),
        "client_name": client.client_name,
        "description": client.description,
        "redirect_uris": list(client.redirect_uris),
        "logo_uri": client.logo_uri,
        "client_uri": client.client_uri,
        "contacts": list(client.contacts),
        # As registered; a record from before the registered value was kept has its clusters.
        "scope": client.extra.get("scope") or " ".join(client.clusters),
        "duration_type": list(client.duration_types),
        "duration_period": client.max_duration_period,
        "lookback_period": client.max_lookback_period,
        "notification_uri": client.notification_uri,
    }
    if client.jwks_uri:
        body["jwks_uri"] = client.jwks_uri
    else:
        body["jwks"] = client.jwks
    body.update({k: client.extra[k] for k in metadata.EXTRA_FIELDS if k in client.extra})
    body.setdefault("grant_types", ["authorization_code", "refresh_token"])
    body.setdefault("token_endpoint_auth_method", metadata.AUTH_METHOD)
    body.update(languages.render(client))
    body["registration_client_uri"] = f"{issuer}/register/{client.client_id}"
    body["status"] = client.status
    return {k: v for k, v in body.items() if v is not None}


async def _read_json(request: Request, max_bytes: int) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise InvalidRequestError(description=f"Content-Type must be {JSON}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise RequestTooLargeError(description="request body too large")
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidClientMetadataError(description="the body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise InvalidClientMetadataError(description="the body must be a JSON object")
    return parsed


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _hash(token)


def _hash(token: str) -> str:
    """Registration access tokens are stored as their SHA-256 only (RFC 6819 §5.1.4.1.3)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()

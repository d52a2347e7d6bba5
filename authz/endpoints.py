"""The authorization server's protocol routes, wired to one ``Services``.

The screens (GET /oauth/authorize, login, consent) live in ``authz/screens``; the app registers
``handle_oauth_error`` for ``OAuth2Error`` once, so every handler here just raises.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authz.client_auth import ClientAuthenticator
from authz.discovery import jwks_response, metadata_response
from authz.introspection import introspection_endpoint
from authz.oidc import userinfo_endpoint
from authz.par import pushed_authorization_request
from authz.registration.endpoint import registration_routes
from authz.revocation import revocation_endpoint
from authz.services import Services
from authz.token_endpoint import token_endpoint


def oauth_routes(services: Services) -> list[BaseRoute]:
    clients = ClientAuthenticator(services)

    async def discovery(request: Request) -> Response:
        return metadata_response(services)

    async def jwks(request: Request) -> Response:
        return jwks_response(services)

    async def par(request: Request) -> Response:
        return await pushed_authorization_request(request, services, clients)

    async def token(request: Request) -> Response:
        return await token_endpoint(request, services, clients)

    async def revoke(request: Request) -> Response:
        return await revocation_endpoint(request, services, clients)

    async def introspect(request: Request) -> Response:
        return await introspection_endpoint(request, services, clients)

    async def userinfo(request: Request) -> Response:
        return await userinfo_endpoint(request, services)

    return [
        Route("/.well-known/oauth-authorization-server", discovery, methods=["GET"]),
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/jwks", jwks, methods=["GET"]),
        Route("/oauth/par", par, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
        Route("/oauth/introspect", introspect, methods=["POST"]),
        Route("/oauth/userinfo", userinfo, methods=["GET", "POST"]),
        *registration_routes(services),
    ]

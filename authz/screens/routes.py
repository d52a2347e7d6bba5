"""The consumer-facing authorization screens as Starlette routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from authz.screens import bank_signin, i18n
from authz.screens.authorize import authorize, error
from authz.screens.consent import consent_page, decide
from authz.screens.freshness import recent_enough
from authz.screens.interaction import Interactions
from authz.screens.login import cancel, login, otp_login, resume
from authz.screens.pages import error_page
from authz.screens.render import STATIC
from authz.screens.session import Sessions
from authz.services import Services

Handler = Callable[[Services, Request], Awaitable[Response]]


async def show(services: Services, request: Request) -> Response:
    """GET /oauth/interaction/{id}: the sign-in page, or the consent screen once signed in as the
    customer this interaction belongs to."""
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    interactions = Interactions(services)
    interaction = await interactions.load(request.path_params["interaction_id"])
    if interaction is None:
        return error_page(settings, lang, "link_expired")
    client = await services.records.clients.get(interaction.request.client_id)
    if client is None or client.status != "approved":
        return error_page(settings, lang, "client_unavailable")
    session = await Sessions(services).current(request)
    if settings.login == "oidc" and not bank_signin.satisfied(services, session, interaction):
        return await bank_signin.for_interaction(services, request, interaction, client, lang)
    if session is not None and not recent_enough(session, interaction.request, services.clock()):
        session = None  # max_age passed or prompt=login: sign in again at the built-in form
    if session is None or interaction.customer_id not in (None, session.customer_id):
        return await resume(services, request, interaction, client, lang)
    if interaction.customer_id is None:  # already signed in at the bank: bind to this customer
        interaction = await interactions.bind(interaction, session.customer_id)
    return await consent_page(services, request, interaction, client, session, lang)


def routes(services: Services) -> list[BaseRoute]:
    def bound(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        return partial(handler, services)

    return [
        Route("/oauth/authorize", bound(authorize), methods=["GET"], name="authorize"),
        Route("/oauth/error/{reason}", bound(error), methods=["GET"], name="screen_error"),
        Route("/oauth/interaction/{interaction_id}", bound(show), methods=["GET"]),
        Route("/oauth/interaction/{interaction_id}/login", bound(login), methods=["POST"]),
        Route("/oauth/interaction/{interaction_id}/otp", bound(otp_login), methods=["POST"]),
        Route("/oauth/interaction/{interaction_id}/cancel", bound(cancel), methods=["POST"]),
        Route("/oauth/interaction/{interaction_id}/consent", bound(decide), methods=["POST"]),
        Route("/oauth/login/callback", bound(bank_signin.callback), methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

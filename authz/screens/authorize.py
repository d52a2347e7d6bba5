"""GET /oauth/authorize: turn a pushed request's request_uri into a screen in progress.

FAPI 2.0 §5.3.2.2 and RFC 9126 §4: the authorization request carries only ``client_id`` and
``request_uri``; everything else came through PAR. The request_uri is single use (RFC 9126 §2.2)
and must belong to the client named here (RFC 9126 §4).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from authz.errors import OAuth2Error
from authz.forms import single_query
from authz.requests import REQUEST_URI_PREFIX, PushedRequest
from authz.screens import bank_signin, i18n
from authz.screens.freshness import recent_enough
from authz.screens.interaction import Interaction, Interactions
from authz.screens.pages import REASONS, error_page, with_language
from authz.screens.session import Sessions
from authz.services import Services
from authz.store.base import Kind

PARAMS = frozenset({"client_id", "request_uri"})


async def authorize(services: Services, request: Request) -> Response:
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    try:
        params = single_query(request, PARAMS)
    except OAuth2Error:
        return error_page(settings, lang, "bad_request")
    if set(params) != PARAMS or not params["request_uri"].startswith(REQUEST_URI_PREFIX):
        return error_page(settings, lang, "bad_request")
    key = params["request_uri"].removeprefix(REQUEST_URI_PREFIX)
    payload = await services.state.consume(Kind.PAR, key) if 0 < len(key) <= 128 else None
    if payload is None or "consumed_at" in payload:
        return error_page(settings, lang, "link_expired")
    pushed = PushedRequest.from_dict(payload)
    if pushed.client_id != params["client_id"]:
        return error_page(settings, lang, "link_expired")
    client = await services.records.clients.get(pushed.client_id)
    if client is None or client.status != "approved":
        return error_page(settings, lang, "client_unavailable")
    interaction = await Interactions(services).start(pushed)
    if "none" in pushed.prompt:
        return await _no_prompt(services, request, interaction, lang)
    if settings.login == "oidc":
        # Straight to the bank's OP (OIDC Core §3.1.2.1) unless a bank session already
        # satisfies the app's max_age / acr_values.
        session = await Sessions(services).current(request)
        if not bank_signin.satisfied(services, session, interaction):
            return await bank_signin.for_interaction(services, request, interaction, client, lang)
    return RedirectResponse(f"/oauth/interaction/{interaction.id}", status_code=303)


async def _no_prompt(
    services: Services, request: Request, interaction: Interaction, lang: str
) -> Response:
    """prompt=none (OIDC Core §3.1.2.6): the consent screen always needs the consumer, so the
    app hears login_required, or consent_required when the consumer is signed in already."""
    session = await Sessions(services).current(request)
    signed_in = session is not None and recent_enough(
        session, interaction.request, services.clock()
    )
    error = "consent_required" if signed_in else "login_required"
    return await bank_signin.back_to_app(services, interaction, error, lang)


async def error(services: Services, request: Request) -> Response:
    """GET /oauth/error/{reason}: an error page again, in the language the consumer switched to."""
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    reason = request.path_params["reason"]
    if reason not in REASONS:
        return error_page(settings, lang, "bad_request", status=404)
    return with_language(request, error_page(settings, lang, reason), settings)

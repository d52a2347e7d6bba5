"""Signing the consumer in at the bank: the sign-in page and its form post.

The bank adapter checks the credentials; the answer to a failure is one generic message that never
says which part was wrong (OWASP ASVS V2.2 / authentication cheat sheet). Attempts pass the
sign-in throttle first (``authz.screens.throttle``: per user ID and address, per user ID, per
address); a refusal shows the same message with HTTP 429.

The address is the TCP peer's; only when the peer is one of ``trusted_proxies`` is the
``X-Forwarded-For`` header believed, and then only its last entry not itself a trusted proxy
(what the nearest untrusted hop said), so a client cannot pick its own address.
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import lru_cache
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.base import Customer
from adapters.errors import AdapterError
from authz.errors import OAuth2Error, RequestTooLargeError
from authz.forms import read_form
from authz.screens import csrf, i18n, otp
from authz.screens.consent import callback_url
from authz.screens.interaction import Interaction, Interactions
from authz.screens.known_device import KnownDevices
from authz.screens.pages import error_page, with_language
from authz.screens.render import page, security_headers
from authz.screens.session import Sessions
from authz.screens.throttle import SignInThrottle, TooManyAttempts
from authz.services import Services
from authz.store.base import ClientRecord
from config.settings import Settings

MAX_USERNAME = 256


async def sign_in_page(
    services: Services,
    request: Request,
    interaction: Interaction,
    client: ClientRecord,
    lang: str,
    *,
    status: int = 200,
    message: str | None = None,
    username: str = "",
    nonce: str | None = None,
    otp_step: str | None = None,
) -> Response:
    """The sign-in page: the password form, or with ``otp_step`` the one-time code form; both
    name the bank and the app, and offer to cancel back to the app."""
    sessions = Sessions(services)
    nonce = nonce or sessions.login_nonce(request) or secrets.token_urlsafe(16)
    base = f"/oauth/interaction/{interaction.id}"
    response = page(
        services.settings,
        "login.html",
        lang,
        # The code step's language links keep the consumer on the code step (``resume``).
        here=base + ("?" + urlencode({"step": otp_step}) if otp_step else ""),
        status=status,
        form_targets=client.redirect_uris,
        client=client,
        action=base + ("/otp" if otp_step else "/login"),
        cancel=base + "/cancel",
        csrf=csrf.token(services.secret, "login:" + nonce, interaction.id),
        message=message,
        username=username,
        otp_step=otp_step,
    )
    sessions.set_login_nonce(response, nonce)
    return with_language(request, response, services.settings)


async def resume(
    services: Services, request: Request, interaction: Interaction, client: ClientRecord, lang: str
) -> Response:
    """GET of the sign-in page: the code step again when ``?step=`` names one this browser has
    pending for this interaction (a language switch on the code page), else the password form."""
    step_id = request.query_params.get("step")
    if step_id:
        nonce = Sessions(services).login_nonce(request)
        try:
            step = await otp.load(services, step_id, interaction.id, nonce)
        except otp.StepExpired:
            pass
        else:
            return await sign_in_page(
                services, request, interaction, client, lang, nonce=nonce, otp_step=step.id
            )
    return await sign_in_page(services, request, interaction, client, lang)


async def login(services: Services, request: Request) -> Response:
    """POST /oauth/interaction/{id}/login."""
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    if settings.login != "adapter":
        return error_page(settings, lang, "forbidden")  # the bank's OP signs consumers in
    loaded = await _form_for(services, request, lang)
    if isinstance(loaded, Response):
        return loaded
    interaction, client, form, nonce = loaded
    username = form.get("username", "").strip()[:MAX_USERNAME]
    t = i18n.text(lang)
    try:
        customer = await authenticate(
            services,
            username,
            form.get("password", ""),
            address=client_address(request, settings),
            known=KnownDevices(services).knows(request, username),
        )
    except TooManyAttempts:
        return await sign_in_page(
            services, request, interaction, client, lang,
            status=429, message=t["too_many_attempts"], username=username,
        )  # fmt: skip
    except AdapterError:
        return error_page(settings, lang, "bank_unavailable")
    if customer is None:
        return await sign_in_page(
            services, request, interaction, client, lang,
            status=401, message=t["bad_credentials"], username=username,
        )  # fmt: skip
    if customer.otp_secret:
        step = await otp.start(services, customer, username, interaction.id, nonce)
        return await sign_in_page(
            services, request, interaction, client, lang, nonce=nonce, otp_step=step.id
        )
    return await _signed_in(services, request, interaction, customer, otp.AMR_PASSWORD, username)


async def otp_login(services: Services, request: Request) -> Response:
    """POST /oauth/interaction/{id}/otp: the one-time code after a right password."""
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    if settings.login != "adapter":
        return error_page(settings, lang, "forbidden")
    loaded = await _form_for(services, request, lang)
    if isinstance(loaded, Response):
        return loaded
    interaction, client, form, nonce = loaded
    try:
        step = await otp.load(services, form.get("step", ""), interaction.id, nonce)
    except otp.StepExpired:
        return await sign_in_page(services, request, interaction, client, lang)
    t = i18n.text(lang)
    try:
        customer = await second_factor(
            services,
            step,
            form.get("code", ""),
            address=client_address(request, settings),
            known=KnownDevices(services).knows(request, step.username),
        )
    except TooManyAttempts:
        return await sign_in_page(
            services, request, interaction, client, lang,
            status=429, message=t["too_many_attempts"], username=step.username,
        )  # fmt: skip
    except AdapterError:
        return error_page(settings, lang, "bank_unavailable")
    if customer is None:
        return await sign_in_page(
            services, request, interaction, client, lang,
            status=401, message=t["bad_otp"], otp_step=step.id,
        )  # fmt: skip
    return await _signed_in(services, request, interaction, customer, otp.AMR_BOTH, step.username)


async def cancel(services: Services, request: Request) -> Response:
    """POST /oauth/interaction/{id}/cancel: "Cancel and go back to <app>" from the sign-in page;
    the app hears ``access_denied`` with ``state`` and ``iss`` (RFC 6749 §4.1.2.1, RFC 9207)."""
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    loaded = await _form_for(services, request, lang)
    if isinstance(loaded, Response):
        return loaded
    interaction = loaded[0]
    pushed = interaction.request
    if not await Interactions(services).finish(interaction):
        return error_page(settings, lang, "link_expired")
    url = callback_url(
        pushed.redirect_uri,
        {"error": "access_denied", "state": pushed.state, "iss": settings.issuer},
    )
    return RedirectResponse(url, status_code=303, headers=security_headers([pushed.redirect_uri]))


async def _form_for(
    services: Services, request: Request, lang: str
) -> tuple[Interaction, ClientRecord, dict[str, str], str] | Response:
    """The interaction, its client, the posted form and the browser's login nonce, once the
    form's CSRF value (bound to that nonce) checks out; else the page to answer with."""
    settings = services.settings
    interaction = await Interactions(services).load(request.path_params["interaction_id"])
    if interaction is None:
        return error_page(settings, lang, "link_expired")
    client = await services.records.clients.get(interaction.request.client_id)
    if client is None or client.status != "approved":
        return error_page(settings, lang, "client_unavailable")
    try:
        form = await read_form(request, max_bytes=settings.max_body_bytes)
    except RequestTooLargeError:
        return error_page(settings, lang, "bad_request", status=413)
    except OAuth2Error:
        return error_page(settings, lang, "bad_request")
    nonce = Sessions(services).login_nonce(request)
    binding = None if nonce is None else "login:" + nonce
    presented = form.get(csrf.FIELD)
    if nonce is None or not csrf.valid(services.secret, binding, interaction.id, presented):
        return error_page(settings, lang, "forbidden")
    return interaction, client, dict(form), nonce


async def _signed_in(
    services: Services,
    request: Request,
    interaction: Interaction,
    customer: Customer,
    amr: tuple[str, ...],
    username: str,
) -> Response:
    await Interactions(services).bind(interaction, customer.customer_id)
    response = RedirectResponse(
        f"/oauth/interaction/{interaction.id}", status_code=303, headers=security_headers()
    )
    await Sessions(services).end(request)
    await Sessions(services).start(customer.customer_id, response, amr=amr)
    KnownDevices(services).remember(request, response, username)
    return response


async def authenticate(
    services: Services,
    username: str,
    password: str,
    *,
    address: str | None = None,
    known: bool = False,
) -> Customer | None:
    """The bank's check of the credentials behind the throttle shared by every sign-in form (the
    consent screen's and the consumer portal's). None for wrong credentials (counted against the
    user ID and ``address``); raises ``TooManyAttempts`` while the throttle refuses, whatever the
    password, and lets the bank's ``AdapterError`` through. ``known``: this browser signed in
    as ``username`` before (``authz.screens.known_device``)."""
    throttle = _throttle(services)
    await throttle.check(username, address, known=known)
    customer = await services.bank.authenticate(username, password) if username else None
    if customer is None:
        await throttle.failed(username, address)
        return None
    if not customer.otp_secret:  # with a second factor, only a right code clears the count
        await throttle.succeeded(username, address)
    return customer


async def second_factor(
    services: Services, step: otp.Step, code: str, *, address: str | None, known: bool = False
) -> Customer | None:
    """The one-time code behind the same throttle as the password: a wrong or reused code is a
    failed sign-in of the same user ID and address; raises ``TooManyAttempts`` while locked."""
    throttle = _throttle(services)
    await throttle.check(step.username, address, known=known)
    customer = await otp.check(services, step, code)
    if customer is None:
        await throttle.failed(step.username, address)
        return None
    await throttle.succeeded(step.username, address)
    return customer


def _throttle(services: Services) -> SignInThrottle:
    return SignInThrottle(services.state, services.settings.login_failures_per_address)


def client_address(request: Request, settings: Settings) -> str:
    """The consumer's address for the per-address throttle (see the module docstring)."""
    peer = request.client.host if request.client else ""
    trusted = _networks(settings.trusted_proxies)
    if not trusted or not _within(peer, trusted):
        return peer
    hops = [h.strip() for v in request.headers.getlist("x-forwarded-for") for h in v.split(",")]
    for hop in reversed(hops):
        if hop and not _within(hop, trusted):
            return hop[:64]
    return peer


@lru_cache(maxsize=8)
def _networks(
    proxies: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _within(
    address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)

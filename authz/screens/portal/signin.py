"""Signing in to the portal and out of it: the consent screen's sign-in, without an app.

The same bank check behind the same throttle (``login.authenticate``), the same generic failure
message and the same session cookie, so a consumer already signed in through a consent flow is
not asked again. The sign-in form's CSRF value is bound to a pre-session nonce (login CSRF).
"""

from __future__ import annotations

import secrets

from starlette.responses import Response

from adapters.errors import AdapterError
from authz.bank_provider import ProviderUnavailable
from authz.screens import bank_signin, csrf, otp
from authz.screens.known_device import KnownDevices
from authz.screens.login import MAX_USERNAME, authenticate, client_address, second_factor
from authz.screens.portal.visit import HOME, PortalError, Visit, redirect
from authz.screens.session import SESSION_COOKIE, Sessions
from authz.screens.throttle import TooManyAttempts

LOGIN_BINDING = "consumer-portal"  # what the sign-in form's CSRF value is bound to, besides nonce


async def sign_in_page(
    visit: Visit,
    *,
    status: int = 200,
    message: str | None = None,
    username: str = "",
    nonce: str | None = None,
    otp_step: str | None = None,
) -> Response:
    sessions = Sessions(visit.services)
    nonce = nonce or sessions.login_nonce(visit.request) or secrets.token_urlsafe(16)
    done = visit.request.query_params.get("done")
    response = visit.render(
        "portal/signin.html",
        here=HOME,
        status=status,
        action=HOME + ("/login/otp" if otp_step else "/login"),
        otp_step=otp_step,
        csrf=csrf.token(visit.services.secret, "login:" + nonce, LOGIN_BINDING),
        message=message,
        notice=visit.t["signed_out_done"] if done == "signed_out" else None,
        username=username,
        # login = "oidc": one link to the bank's own sign-in instead of the form.
        at_bank=HOME + "/signin" if visit.services.settings.login == "oidc" else None,
    )
    sessions.set_login_nonce(response, nonce)
    return response


async def at_bank(visit: Visit) -> Response:
    """GET /consumer/signin: off to the bank's OpenID Provider (``login = "oidc"``)."""
    services = visit.services
    if services.settings.login != "oidc":
        return redirect(HOME)
    try:
        url = await bank_signin.begin(services, visit.request, bank_signin.PORTAL)
    except ProviderUnavailable:
        raise PortalError("signin_unavailable") from None
    return bank_signin.to_provider(services, visit.request, url)


async def login(visit: Visit) -> Response:
    """POST /consumer/login."""
    services = visit.services
    form, nonce = await _checked_form(visit)
    username = form.get("username", "").strip()[:MAX_USERNAME]
    try:
        customer = await authenticate(
            services,
            username,
            form.get("password", ""),
            address=client_address(visit.request, services.settings),
            known=KnownDevices(services).knows(visit.request, username),
        )
    except TooManyAttempts:
        message = visit.t["too_many_attempts"]
        return await sign_in_page(visit, status=429, message=message, username=username)
    except AdapterError:
        raise PortalError("bank_unavailable") from None
    if customer is None:
        message = visit.t["bad_credentials"]
        return await sign_in_page(visit, status=401, message=message, username=username)
    if customer.otp_secret:
        step = await otp.start(services, customer, username, bank_signin.PORTAL, nonce)
        return await sign_in_page(visit, nonce=nonce, otp_step=step.id)
    return await _signed_in(visit, customer.customer_id, otp.AMR_PASSWORD, username)


async def otp_login(visit: Visit) -> Response:
    """POST /consumer/login/otp: the one-time code after a right password."""
    services = visit.services
    form, nonce = await _checked_form(visit)
    try:
        step = await otp.load(services, form.get("step", ""), bank_signin.PORTAL, nonce)
    except otp.StepExpired:
        return await sign_in_page(visit)
    try:
        customer = await second_factor(
            services,
            step,
            form.get("code", ""),
            address=client_address(visit.request, services.settings),
            known=KnownDevices(services).knows(visit.request, step.username),
        )
    except TooManyAttempts:
        message = visit.t["too_many_attempts"]
        return await sign_in_page(visit, status=429, message=message, username=step.username)
    except AdapterError:
        raise PortalError("bank_unavailable") from None
    if customer is None:
        message = visit.t["bad_otp"]
        return await sign_in_page(visit, status=401, message=message, otp_step=step.id)
    return await _signed_in(visit, customer.customer_id, otp.AMR_BOTH, step.username)


async def _checked_form(visit: Visit) -> tuple[dict[str, str], str]:
    """The posted sign-in form and the browser's login nonce its CSRF value is bound to."""
    if visit.services.settings.login == "oidc":
        raise PortalError("forbidden")  # the bank's OP signs consumers in, not this form
    form = await visit.read_form()
    nonce = Sessions(visit.services).login_nonce(visit.request)
    binding = None if nonce is None else "login:" + nonce
    if nonce is None or not csrf.valid(
        visit.services.secret, binding, LOGIN_BINDING, form.get(csrf.FIELD)
    ):
        raise PortalError("forbidden")
    return dict(form), nonce


async def _signed_in(
    visit: Visit, customer_id: str, amr: tuple[str, ...], username: str
) -> Response:
    response = redirect(HOME)
    sessions = Sessions(visit.services)
    await sessions.end(visit.request)  # never keep the session the browser brought (fixation)
    await sessions.start(customer_id, response, amr=amr)
    KnownDevices(visit.services).remember(visit.request, response, username)
    return response


async def logout(visit: Visit) -> Response:
    """POST /consumer/logout: the session ends at the bank, not only in this browser."""
    await visit.form("sign-out")
    await Sessions(visit.services).end(visit.request)
    response = redirect(HOME + "?done=signed_out")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def already_out(visit: Visit) -> Response:
    return redirect(HOME)

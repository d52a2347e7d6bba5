"""Signing in to the portal and out of it: the consent screen's sign-in, without an app.

The same bank check behind the same throttle (``login.authenticate``), the same generic failure
message and the same session cookie, so a consumer already signed in through a consent flow is
not asked again. The sign-in form's CSRF value is bound to a pre-session nonce (login CSRF).
"""

from __future__ import annotations

import secrets

from starlette.responses import Response

from adapters.errors import AdapterError
from authz.screens import csrf
from authz.screens.login import MAX_USERNAME, authenticate, client_address
from authz.screens.portal.visit import HOME, PortalError, Visit, redirect
from authz.screens.session import SESSION_COOKIE, Sessions
from authz.screens.throttle import TooManyAttempts

LOGIN_BINDING = "consumer-portal"  # what the sign-in form's CSRF value is bound to, besides nonce


async def sign_in_page(
    visit: Visit, *, status: int = 200, message: str | None = None, username: str = ""
) -> Response:
    sessions = Sessions(visit.services)
    nonce = sessions.login_nonce(visit.request) or secrets.token_urlsafe(16)
    done = visit.request.query_params.get("done")
    response = visit.render(
        "portal/signin.html",
        here=HOME,
        status=status,
        action=HOME + "/login",
        csrf=csrf.token(visit.services.secret, "login:" + nonce, LOGIN_BINDING),
        message=message,
        notice=visit.t["signed_out_done"] if done == "signed_out" else None,
        username=username,
    )
    sessions.set_login_nonce(response, nonce)
    return response


async def login(visit: Visit) -> Response:
    """POST /consumer/login."""
    services = visit.services
    form = await visit.read_form()
    nonce = Sessions(services).login_nonce(visit.request)
    binding = None if nonce is None else "login:" + nonce
    if not csrf.valid(services.secret, binding, LOGIN_BINDING, form.get(csrf.FIELD)):
        raise PortalError("forbidden")
    username = form.get("username", "").strip()[:MAX_USERNAME]
    try:
        customer = await authenticate(
            services,
            username,
            form.get("password", ""),
            address=client_address(visit.request, services.settings),
        )
    except TooManyAttempts:
        message = visit.t["too_many_attempts"]
        return await sign_in_page(visit, status=429, message=message, username=username)
    except AdapterError:
        raise PortalError("bank_unavailable") from None
    if customer is None:
        message = visit.t["bad_credentials"]
        return await sign_in_page(visit, status=401, message=message, username=username)
    response = redirect(HOME)
    sessions = Sessions(services)
    await sessions.end(visit.request)  # never keep the session the browser brought (fixation)
    await sessions.start(customer.customer_id, response)
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

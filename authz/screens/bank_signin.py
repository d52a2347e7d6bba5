"""Signing the consumer in at the bank's own OpenID Provider (``login = "oidc"``).

``begin`` sends the browser to the OP with a fresh ``state``, ``nonce`` and PKCE verifier (OIDC
Core §3.1.2.1, RFC 7636), remembered in the StateStore under the state for ``interaction_ttl``
together with what the sign-in is for: a consent interaction or the consumer portal. The pending
sign-in is also bound to the browser that started it, by the hash of its pre-session login nonce
cookie (RFC 6749 §10.12: a callback carried to another browser signs no one in there).

``callback`` (GET /oauth/login/callback, the one redirect URI registered at the OP) uses the state
once; a missing, unknown, replayed or foreign one signs no one in. An error from the OP goes back
to the app as ``access_denied`` (RFC 6749 §4.1.2.1, with ``state`` and ``iss``, RFC 9207); an OP
that cannot be reached or is too slow gives a 503 "sign-in is unavailable" page whose link tells
the app ``temporarily_unavailable``. An ``acr`` that is not acceptable (``acceptable_acr``)
sends the consumer back to the app with ``access_denied``. Any other token the checks in
``authz.bank_provider`` refuse, or a claim naming no customer of the bank adapter, gives a plain
page. Each refusal writes a ``signin.failed`` audit line naming the reason, and opens no
session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, replace

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.errors import AdapterError, CustomerNotFound
from authz.bank_provider import (
    Asked,
    BankIdentity,
    BankProvider,
    ProviderUnavailable,
    SignInRejected,
)
from authz.screens import i18n
from authz.screens.consent import callback_url
from authz.screens.freshness import recent_enough, signed_in_after
from authz.screens.interaction import Interaction, Interactions
from authz.screens.pages import error_page
from authz.screens.render import security_headers
from authz.screens.session import Session, Sessions
from authz.services import Services
from authz.store.base import ClientRecord, Kind

log = logging.getLogger("authz.signin")

PORTAL = "portal"
MAX_PARAM = 2048
# OP errors after which the consumer can still try again later; every other one is a refusal.
UNAVAILABLE_ERRORS = frozenset({"temporarily_unavailable", "server_error"})


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in sent to the OP and not yet back: for an interaction id, or for ``PORTAL``."""

    purpose: str
    asked: Asked
    browser: str  # SHA-256 of the browser's login nonce

    def to_dict(self) -> dict[str, object]:
        return {
            "purpose": self.purpose,
            "nonce": self.asked.nonce,
            "verifier": self.asked.verifier,
            "max_age": self.asked.max_age,
            "acr_values": list(self.asked.acr_values),
            "login_after": self.asked.login_after,
            "browser": self.browser,
        }

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> Pending:
        max_age = d.get("max_age")
        acr = d.get("acr_values")
        after = d.get("login_after")
        asked = Asked(
            nonce=str(d["nonce"]),
            verifier=str(d["verifier"]),
            max_age=max_age if isinstance(max_age, int) else None,
            acr_values=tuple(str(a) for a in acr) if isinstance(acr, list) else (),
            login_after=float(after) if isinstance(after, int | float) else None,
        )
        return cls(purpose=str(d["purpose"]), asked=asked, browser=str(d["browser"]))


def acceptable_acr(bank: str, app: tuple[str, ...]) -> tuple[str, ...]:
    """The ``acr`` values a sign-in asks the OP for and then requires in its ID token.

    The bank's ``login_oidc_acr_values`` are its minimum and always apply: an app can never
    lower them. When the bank configured none, the app's ``acr_values`` (OIDC Core §3.1.2.1)
    are asked for and required. When it did, every configured value is acceptable whatever the
    app asked (a consumer who signed in more strongly than the app asked is not refused), and
    the app's values only order them: those the bank also lists come first, in the app's order of
    preference; an app's value the bank does not list is not acceptable, since acr values are
    names without an order and a weaker one could hide behind it."""
    configured = tuple(bank.split())
    if not configured:
        return app
    preferred = tuple(v for v in dict.fromkeys(app) if v in configured)
    return preferred + tuple(v for v in configured if v not in preferred)


def satisfied(services: Services, session: Session | None, interaction: Interaction) -> bool:
    """Whether the bank sign-in behind ``session`` meets what the app asked for and the bank's
    minimum: ``max_age`` and the acceptable ``acr`` values (OIDC Core §3.1.2.1); otherwise the
    consumer signs in at the OP again."""
    if session is None or interaction.customer_id not in (None, session.customer_id):
        return False
    pushed = interaction.request
    if not recent_enough(session, pushed, services.clock()):
        return False
    acceptable = acceptable_acr(services.settings.login_oidc_acr_values, pushed.acr_values)
    return not acceptable or session.acr in acceptable


def provider(services: Services) -> BankProvider:
    assert services.bank_login is not None, "login = oidc builds the bank's provider"
    return services.bank_login


async def begin(
    services: Services,
    request: Request,
    purpose: str,
    *,
    max_age: int | None = None,
    acr_values: tuple[str, ...] = (),
    login_after: float | None = None,
) -> str:
    """The OP's authorization URL for a new pending sign-in (the caller sets the login nonce
    cookie with ``browser_nonce``); raises ``ProviderUnavailable``."""
    settings = services.settings
    state = secrets.token_urlsafe(32)
    asked = Asked(
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(48),
        max_age=max_age,
        acr_values=acceptable_acr(settings.login_oidc_acr_values, acr_values),
        login_after=login_after,
    )
    url = await provider(services).authorization_url(state, asked)
    nonce = browser_nonce(services, request)
    pending = Pending(purpose, asked, _digest(nonce))
    await services.state.put(Kind.SIGN_IN, state, pending.to_dict(), ttl=settings.interaction_ttl)
    return url


def browser_nonce(services: Services, request: Request) -> str:
    """The browser's pre-session login nonce, kept in ``request.state`` so one request makes at
    most one; ``to_provider`` sets it as a cookie."""
    known = getattr(request.state, "login_nonce", None)
    if isinstance(known, str):
        return known
    nonce = Sessions(services).login_nonce(request) or secrets.token_urlsafe(16)
    request.state.login_nonce = nonce
    return nonce


def to_provider(services: Services, request: Request, url: str) -> Response:
    """302 to the OP (OIDC Core §3.1.2.1), with the login nonce cookie the callback checks."""
    response = RedirectResponse(url, status_code=302, headers=security_headers())
    Sessions(services).set_login_nonce(response, browser_nonce(services, request))
    return response


async def for_interaction(
    services: Services, request: Request, interaction: Interaction, client: ClientRecord, lang: str
) -> Response:
    """Send the consumer of ``interaction`` to sign in at the bank, or tell the app why not."""
    pushed = interaction.request
    try:
        url = await begin(
            services,
            request,
            interaction.id,
            max_age=pushed.max_age,
            acr_values=pushed.acr_values,
            login_after=signed_in_after(pushed),
        )
    except ProviderUnavailable as exc:
        _audit("provider_unavailable", str(exc), interaction.id)
        return await _unavailable(services, interaction, client, lang)
    return to_provider(services, request, url)


class _Refused(Exception):
    """The callback signs no one in: a plain page and a ``signin.failed`` line with ``reason``."""

    def __init__(self, reason: str, purpose: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.purpose = purpose


class _Answer(Exception):
    """The callback ends with ``response`` (an expired interaction, an unavailable app)."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


@dataclass(frozen=True, slots=True)
class _Target:
    """What the pending sign-in is for: a consent interaction and its app, or the portal."""

    interaction: Interaction | None = None
    client: ClientRecord | None = None


async def callback(services: Services, request: Request) -> Response:
    """GET /oauth/login/callback."""
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    try:
        pending = await _pending(services, request)
        target = await _target(services, pending, lang)
        error = request.query_params.get("error")
        if error is not None:
            return await _provider_error(services, pending, target, error, lang)
        return await _redeem(services, request, pending, target, lang)
    except _Refused as exc:
        _audit("failed", exc.reason, exc.purpose)
        return error_page(settings, lang, "signin_failed")
    except _Answer as exc:
        return exc.response


async def _pending(services: Services, request: Request) -> Pending:
    """The pending sign-in the callback's ``state`` names, used up here, if this browser
    started it and the OP that answers is ours (RFC 9207 §2.4); else ``_Refused``."""
    params = request.query_params
    if any(len(params.getlist(k)) > 1 or len(v) > MAX_PARAM for k, v in params.multi_items()):
        raise _Refused("bad_parameters")
    state = params.get("state", "")
    raw = await services.state.consume(Kind.SIGN_IN, state) if 0 < len(state) <= 128 else None
    if raw is None:
        raise _Refused("unknown_state")
    if "consumed_at" in raw:
        raise _Refused("replayed_state")
    pending = Pending.from_dict(raw)
    nonce = Sessions(services).login_nonce(request)
    if nonce is None or not secrets.compare_digest(_digest(nonce), pending.browser):
        raise _Refused("other_browser", pending.purpose)
    iss = params.get("iss")
    if iss is not None and iss != services.settings.login_oidc_issuer:
        raise _Refused("callback_iss", pending.purpose)
    if iss is None and await _iss_expected(services):
        raise _Refused("callback_iss", pending.purpose)
    return pending


async def _target(services: Services, pending: Pending, lang: str) -> _Target:
    if pending.purpose == PORTAL:
        return _Target()
    settings = services.settings
    interaction = await Interactions(services).load(pending.purpose)
    if interaction is None:
        raise _Answer(error_page(settings, lang, "link_expired"))
    client = await services.records.clients.get(interaction.request.client_id)
    if client is None or client.status != "approved":
        raise _Answer(error_page(settings, lang, "client_unavailable"))
    return _Target(interaction, client)


async def _provider_error(
    services: Services, pending: Pending, target: _Target, error: str, lang: str
) -> Response:
    """The OP said no (OIDC Core §3.1.2.6): the app hears ``access_denied``, or
    ``temporarily_unavailable`` when the OP says so; the portal shows its sign-in page again."""
    _audit("provider_error", error[:64], pending.purpose)
    if target.interaction is None or target.client is None:
        return RedirectResponse("/consumer", status_code=303, headers=security_headers())
    if error in UNAVAILABLE_ERRORS:
        return await _unavailable(services, target.interaction, target.client, lang)
    return await back_to_app(services, target.interaction, "access_denied", lang)


async def _redeem(
    services: Services, request: Request, pending: Pending, target: _Target, lang: str
) -> Response:
    code = request.query_params.get("code")
    if not code:
        raise _Refused("no_code", pending.purpose)
    try:
        identity = await provider(services).redeem(code, pending.asked)
        customer = await services.bank.get_customer(identity.customer_id)
    except ProviderUnavailable as exc:
        _audit("provider_unavailable", str(exc), pending.purpose)
        if target.interaction is None or target.client is None:
            return error_page(services.settings, lang, "signin_unavailable")
        return await _unavailable(services, target.interaction, target.client, lang)
    except SignInRejected as exc:
        if exc.reason == "claim_acr" and target.interaction is not None:
            # The OP signed the consumer in, but not at a level the bank (or the app) accepts:
            # the app hears it as it hears an OP's refusal (OIDC Core §3.1.2.6), never waits.
            _audit("failed", exc.reason, pending.purpose)
            return await back_to_app(services, target.interaction, "access_denied", lang)
        raise _Refused(exc.reason, pending.purpose) from None
    except CustomerNotFound:
        raise _Refused("unknown_customer", pending.purpose) from None
    except AdapterError:
        return error_page(services.settings, lang, "bank_unavailable")
    after = pending.asked.login_after
    if after is not None and identity.auth_time is not None and identity.auth_time < after:
        # prompt=login: the OP signed the consumer in again (its auth_time passed the check
        # within clock_skew); its clock lags ours, so the sign-in counts as made at the request.
        identity = replace(identity, auth_time=after)
    return await _signed_in(services, request, target.interaction, customer.customer_id, identity)


async def _signed_in(
    services: Services,
    request: Request,
    interaction: Interaction | None,
    customer_id: str,
    identity: BankIdentity,
) -> Response:
    if interaction is None:
        target = "/consumer"
    else:
        await Interactions(services).bind(interaction, customer_id)
        target = f"/oauth/interaction/{interaction.id}"
    response = RedirectResponse(target, status_code=303, headers=security_headers())
    sessions = Sessions(services)
    await sessions.end(request)  # never keep the session the browser brought (fixation)
    await sessions.start(
        customer_id,
        response,
        auth_time=identity.auth_time,
        acr=identity.acr,
        amr=identity.amr,
    )
    return response


async def back_to_app(
    services: Services, interaction: Interaction, error: str, lang: str
) -> Response:
    """End the interaction and send the consumer back to the app with ``error`` (RFC 6749
    §4.1.2.1), ``state`` and ``iss`` (RFC 9207)."""
    if not await Interactions(services).finish(interaction):
        return error_page(services.settings, lang, "link_expired")
    pushed = interaction.request
    url = callback_url(
        pushed.redirect_uri,
        {"error": error, "state": pushed.state, "iss": services.settings.issuer},
    )
    return RedirectResponse(url, status_code=303, headers=security_headers([pushed.redirect_uri]))


async def _unavailable(
    services: Services, interaction: Interaction, client: ClientRecord, lang: str
) -> Response:
    """503 "sign-in is unavailable", whose one link tells the app ``temporarily_unavailable``;
    the interaction is used up, so the app starts again when the bank is back."""
    settings = services.settings
    if not await Interactions(services).finish(interaction):
        return error_page(settings, lang, "link_expired")
    pushed = interaction.request
    url = callback_url(
        pushed.redirect_uri,
        {"error": "temporarily_unavailable", "state": pushed.state, "iss": settings.issuer},
    )
    return error_page(settings, lang, "signin_unavailable", return_to=(client.client_name, url))


async def _iss_expected(services: Services) -> bool:
    try:
        return (await provider(services).metadata()).iss_parameter
    except ProviderUnavailable:
        return False  # the code's redemption will say so


def _audit(event: str, reason: str, purpose: str) -> None:
    """One line per failed or refused sign-in: the reason and a reference to the interaction,
    never a token, a code or a claim value (docs/security.md, "What is logged"). The interaction
    id is in the consent screen's URL and opens it, so it is a secret the redactor masks; the
    line carries ``interaction_ref`` instead, the first 12 hex digits of its SHA-256."""
    ref = interaction_ref(purpose) if purpose and purpose != PORTAL else None
    where = PORTAL if purpose == PORTAL else "consent"
    log.warning(
        "signin.%s",
        event,
        extra={"reason": reason, "flow": where, "interaction_ref": ref},
    )


def interaction_ref(interaction_id: str) -> str:
    """A non-secret reference to an interaction for the logs: an operator given the consent
    screen's URL computes the same 12 hex digits; the logs cannot be turned back into it."""
    return hashlib.sha256(interaction_id.encode("utf-8")).hexdigest()[:12]


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()

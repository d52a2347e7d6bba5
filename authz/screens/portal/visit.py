"""One signed-in consumer's visit to the portal: language, session, CSRF, rendering and errors.

Every portal page goes through ``signed_in``: no session sends a GET to the sign-in page and
refuses a POST; a ``PortalError`` raised anywhere below becomes one plain-words page here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.errors import AdapterError
from authz.consent.model import Consent
from authz.errors import OAuth2Error, RequestTooLargeError
from authz.forms import read_form
from authz.notices import dates as views_dates
from authz.notices.notices import remember_language
from authz.screens import csrf, i18n
from authz.screens.pages import with_language
from authz.screens.render import page, security_headers
from authz.screens.session import Session, Sessions
from authz.services import Services

HOME = "/consumer"
MAX_ID = 128  # longer path ids are not ours: 404 without a store read

# reason → status; the message is i18n ``err_portal_<reason>``.
REASONS = {
    "not_found": 404,
    "forbidden": 403,
    "signed_out": 403,
    "bad_request": 400,
    "too_large": 413,
    "not_renewable": 409,
    "busy": 503,
    "bank_unavailable": 503,
    "signin_unavailable": 503,
}


class PortalError(Exception):
    """Raised deep, rendered once by ``signed_in`` as a friendly page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Visit:
    services: Services
    request: Request
    lang: str
    session: Session | None

    @property
    def t(self) -> Mapping[str, str]:
        return i18n.text(self.lang)

    def when(self, ts: float) -> str:
        """Date and time in the visitor's language and the consumers' zone, in words."""
        return views_dates.at(ts, self.lang, self.services.settings.display_timezone)

    def day(self, ts: float) -> str:
        return views_dates.in_words(ts, self.lang, self.services.settings.display_timezone)

    @property
    def customer_id(self) -> str:
        if self.session is None:  # signed_in guarantees a session to its handlers
            raise PortalError("signed_out")
        return self.session.customer_id

    def render(
        self, template: str, *, here: str, status: int = 200, nav: str = "", **context: Any
    ) -> Response:
        """``template`` in the visitor's language; ``nav`` names the menu entry to mark current."""
        response = page(
            self.services.settings,
            template,
            self.lang,
            here=here,
            status=status,
            home=HOME,
            nav=nav,
            signed_in=self.session is not None,
            sign_out_csrf=self.csrf("sign-out") if self.session else "",
            **context,
        )
        return with_language(self.request, response, self.services.settings)

    def error(self, reason: str) -> Response:
        text = self.t["err_portal_" + reason].format(provider=self.services.settings.provider_name)
        path = self.request.url.path if self.request.method == "GET" else HOME
        return self.render("portal/error.html", here=path, status=REASONS[reason], message=text)

    def csrf(self, action: str) -> str:
        """A form value bound to this session and to the form's purpose (``action``)."""
        sid = self.session.id if self.session else ""
        return csrf.token(self.services.secret, sid, "portal:" + action)

    async def form(self, action: str) -> dict[str, str]:
        """The posted form, once its CSRF value is checked; raises ``PortalError``."""
        form = await self.read_form()
        sid = self.session.id if self.session else None
        if not csrf.valid(self.services.secret, sid, "portal:" + action, form.get(csrf.FIELD)):
            raise PortalError("forbidden")
        return form

    async def read_form(self) -> dict[str, str]:
        """The posted form, size-limited, no repeats, posted from the gateway's own pages (its
        CSRF value is the caller's to check)."""
        if not csrf.same_origin(self.request.headers, self.services.settings.issuer):
            raise PortalError("forbidden")
        try:
            return await read_form(self.request, max_bytes=self.services.settings.max_body_bytes)
        except RequestTooLargeError:
            raise PortalError("too_large") from None
        except OAuth2Error:
            raise PortalError("bad_request") from None

    async def own_consent(self, consent_id: str) -> Consent:
        """The consent if it is this customer's; another customer's is "not found", exactly like
        an unknown id, so ids cannot be probed."""
        if len(consent_id) > MAX_ID:
            raise PortalError("not_found")
        consent = await self.services.records.consents.get(consent_id)
        if consent is None or consent.customer_id != self.customer_id:
            raise PortalError("not_found")
        return consent


def redirect(path: str) -> Response:
    return RedirectResponse(path, status_code=303, headers=security_headers())


PortalHandler = Callable[[Visit], Awaitable[Response]]
Handler = Callable[[Services, Request], Awaitable[Response]]


def signed_in(handler: PortalHandler, *, anonymous: PortalHandler | None = None) -> Handler:
    """Run ``handler`` for a signed-in consumer. Without a session: ``anonymous`` if given, else
    a GET goes to the sign-in page and a POST is refused (there is nothing to act for)."""

    async def run(services: Services, request: Request) -> Response:
        lang = i18n.choose(request, services.settings.languages)
        session = await Sessions(services).current(request)
        visit = Visit(services, request, lang, session)
        try:
            if session is None:
                if anonymous is not None:
                    return await anonymous(visit)
                if request.method == "GET":
                    return redirect(HOME)
                raise PortalError("signed_out")
            await remember_language(services, session.customer_id, lang)  # notices' language
            return await handler(visit)
        except PortalError as exc:
            return visit.error(exc.reason)
        except AdapterError:
            return visit.error("bank_unavailable")

    return run

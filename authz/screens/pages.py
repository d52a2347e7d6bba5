"""The screens' shared responses: the plain-words error page and the language cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from authz.screens import i18n
from authz.screens.render import page
from config.settings import Settings

# reason → HTTP status. The reason names the message (i18n ``err_<reason>``) and the GET page
# that shows it again in another language (/oauth/error/<reason>).
REASONS = {
    "link_expired": 400,
    "bad_request": 400,
    "client_unavailable": 400,
    "forbidden": 403,
    "signed_out": 403,
    "bank_unavailable": 503,
    "not_found": 404,
    "server_error": 500,
    "signin_failed": 400,
    "signin_unavailable": 503,
}


def error_page(
    settings: Settings,
    lang: str,
    reason: str,
    *,
    status: int | None = None,
    return_to: tuple[str, str] | None = None,
) -> HTMLResponse:
    """Plain words, no technical detail, and no redirect: the redirect URI of a request we could
    not load cannot be trusted (RFC 6749 §4.1.2.1, RFC 9126 §4). ``return_to`` is (app name,
    URL) when the request was loaded and the app should hear the outcome: a link back to it."""
    return page(
        settings,
        "error.html",
        lang,
        here=f"/oauth/error/{reason}",
        status=status or REASONS[reason],
        message=i18n.text(lang)["err_" + reason].format(provider=settings.provider_name),
        back=return_to is None
        and reason not in ("bank_unavailable", "signin_unavailable", "server_error"),
        return_to=return_to,
    )


def with_language(request: Request, response: Response, settings: Settings) -> Response:
    """Remember an explicit ``?lang=`` choice for the next pages (the form posts and redirects)."""
    chosen = request.query_params.get("lang")
    if chosen in settings.languages:
        response.set_cookie(
            i18n.LANG_COOKIE,
            chosen,
            max_age=365 * 86400,
            path="/",
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
    return response

"""Turning a template into a response, with the security headers every screen carries."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from authz.screens import i18n
from config.settings import Settings

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def origin(uri: str) -> str | None:
    """A CSP source for ``uri``: its origin, or ``scheme:`` for a private-use scheme (RFC 8252
    §7.1 app redirects); None if it has no scheme."""
    parts = urlsplit(uri)
    if not parts.scheme:
        return None
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else None
    return f"{parts.scheme}:"


HSTS = "max-age=63072000; includeSubDomains"  # two years (RFC 6797 §6.1)


def security_headers(form_targets: Iterable[str] = (), *, hsts: bool = False) -> dict[str, str]:
    """Headers of every screen response. ``form-action`` lists the client's redirect origins as
    well as 'self', because browsers apply it to the redirect that follows a form post. ``hsts``
    when the issuer is https (gateway.middleware adds it to every other response too)."""
    origins = sorted({o for o in map(origin, form_targets) if o and _csp_safe(o)})
    form_action = " ".join(["'self'", *origins])
    extra = {"Strict-Transport-Security": HSTS} if hsts else {}
    return {
        **extra,
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'self'; "
            "img-src 'self'; "  # never the recipient's host (authz.screens.logos)
            f"form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        # same-origin, not no-referrer: the recipient (a cross-origin target) still learns
        # nothing, and the browser sends our own pages' Origin with a form post, which the
        # portal checks (csrf.same_origin); under no-referrer browsers send "Origin: null".
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
    }


def page(
    settings: Settings,
    template: str,
    lang: str,
    *,
    here: str,
    status: int = 200,
    form_targets: Iterable[str] = (),
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` in ``lang``. ``t`` holds the UI strings; ``switch`` links to ``here``
    (a GET path, with its query if any, showing the same page) in each other configured
    language."""
    joint = "&" if "?" in here else "?"  # ``here`` may carry a query of its own
    switch = [
        {"lang": code, "name": i18n.NAMES[code], "href": here + joint + urlencode({"lang": code})}
        for code in settings.languages
        if code != lang
    ]
    body = _env.get_template(template).render(
        lang=lang,
        t=i18n.text(lang),
        provider=settings.provider_name,
        portal_url=settings.issuer + "/consumer",  # where consumers stop sharing, any time
        switch=switch,
        **context,
    )
    headers = security_headers(form_targets, hsts=settings.secure_cookies)
    return HTMLResponse(body, status_code=status, headers=headers)


def _csp_safe(source: str) -> bool:
    """No character that could end the directive or start another (``;``, ``,``, quotes, space)."""
    return all(c.isalnum() or c in ":/.-+[]_~%" for c in source)

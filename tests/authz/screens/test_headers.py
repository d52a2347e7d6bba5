"""Every screen response carries the same security headers."""

from __future__ import annotations

from tests.authz.screens.conftest import World


def assert_secure(headers: object, *, form_origins: str = "") -> None:
    h = headers  # httpx Headers
    csp = h["content-security-policy"]  # type: ignore[index]
    assert "default-src 'none'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "base-uri 'none'" in csp
    assert f"form-action 'self'{form_origins};" in csp
    assert "script-src" not in csp
    assert h["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert h["referrer-policy"] == "same-origin"  # type: ignore[index]
    assert h["x-frame-options"] == "DENY"  # type: ignore[index]
    assert h["cache-control"] == "no-store"  # type: ignore[index]


def test_sign_in_and_consent_pages_carry_the_security_headers(world: World) -> None:
    """CSP (form-action has the redirect origin), nosniff, same-origin, DENY, no-store."""
    path = world.start()
    sign_in = world.client.get(path)
    world.sign_in(path)
    consent = world.client.get(path)

    assert_secure(sign_in.headers, form_origins=" https://budget.example")
    assert_secure(consent.headers, form_origins=" https://budget.example")


def test_error_pages_carry_the_security_headers(world: World) -> None:
    """Even a 400 page for a bad link."""
    response = world.client.get("/oauth/authorize", params={"client_id": "x"})

    assert response.status_code == 400
    assert_secure(response.headers)


def test_failed_sign_in_and_forbidden_pages_carry_them_too(world: World) -> None:
    """The 401 sign-in page and the 403 CSRF page."""
    path = world.start()
    failed = world.sign_in(path, "alice", "wrong")
    forbidden = world.client.post(path + "/login", data={"username": "a", "password": "b"})

    assert_secure(failed.headers, form_origins=" https://budget.example")
    assert forbidden.status_code == 403
    assert_secure(forbidden.headers)


def test_pages_have_no_script_and_no_inline_style(world: World) -> None:
    """No JavaScript at all; CSS only from /static (CSP style-src 'self')."""
    _, html = world.consent_page()

    assert "<script" not in html
    assert "style=" not in html
    assert "<style" not in html
    assert '<link rel="stylesheet" href="/static/screens.css">' in html


def test_the_stylesheet_and_demo_logo_are_served(world: World) -> None:
    """/static serves the CSS and the demo recipient's SVG logo."""
    css = world.client.get("/static/screens.css")
    logo = world.client.get("/static/demo-recipient-logo.svg")

    assert css.status_code == 200
    assert "text/css" in css.headers["content-type"]
    assert logo.status_code == 200
    assert "image/svg+xml" in logo.headers["content-type"]

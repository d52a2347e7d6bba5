"""The recipient's logo never makes a consumer's browser call the recipient: a logo the gateway
serves itself, or the recipient's initials (authz.screens.logos)."""

from __future__ import annotations

import pytest

from authz.screens.logos import initials, logo
from tests.authz.screens.conftest import World as Screens

ISSUER = "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Budget App Inc.", "BA"), ("budget", "B"), ("家計簿アプリ", "家"), ("<>", "?"),
     ("Budget <App>", "B"), ("Tax  helper", "TH")],
)  # fmt: skip
def test_initials(name: str, expected: str) -> None:
    """The first letters of the first two words, upper case; one character without spaces."""
    assert expected == initials(name)


@pytest.mark.parametrize(
    ("uri", "src"),
    [
        (f"{ISSUER}/static/demo-recipient-logo.svg", "/static/demo-recipient-logo.svg"),
        ("https://budget.example/logo.png", None),
        ("http://127.0.0.1:8001/static/logo.svg", None),
        (f"{ISSUER}/consumer", None),
        (f"{ISSUER}/static/../consumer", None),
        (f"{ISSUER}/static/logo.svg?x=1", None),
        ("https://user@127.0.0.1:8000/static/logo.svg", None),
        (None, None),
    ],
    ids=["own-static", "recipient-host", "other-port", "not-static", "dot-dot", "query",
         "other-scheme-and-user", "none"],
)  # fmt: skip
def test_only_a_logo_the_gateway_serves_is_shown(uri: str | None, src: str | None) -> None:
    """Anything else falls back to the initials."""
    assert {"src": src, "initials": "BA"} == logo(uri, "Budget App", ISSUER)


def test_the_consent_screen_never_loads_the_recipients_logo(world: Screens) -> None:
    """The recipient's logo_uri is on its own host: the page shows initials, names no URL on
    that host as an image, and its CSP allows images from the gateway only."""
    path, html = world.consent_page()
    response = world.client.get(path)

    assert "https://budget.example/logo.svg" not in html
    assert '<span class="logo initials" aria-hidden="true">B</span>' in html
    assert "img-src 'self';" in response.headers["content-security-policy"]

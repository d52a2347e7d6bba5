"""Every portal page: security headers, no script, Japanese, friendly errors."""

from __future__ import annotations

import re

import pytest

from tests.authz.portal.conftest import Portal, form_csrf

PAGES = [
    "/consumer",
    "/consumer/history",
    "/consumer/consents/{id}",
    "/consumer/consents/{id}/revoke",
    "/consumer/consents/{id}/renew",
    "/consumer/consents/{id}/receipts/1",
]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_screens_security_headers(signed_in: Portal, path: str) -> None:
    """CSP without inline script or style, no framing, no caching, nosniff, no referrer."""
    consent = signed_in.grant()

    response = signed_in.client.get(path.format(id=consent.id))

    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "<script" not in response.text
    assert " style=" not in response.text
    assert '<link rel="stylesheet" href="/static/portal.css">' in response.text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_reads_in_japanese(signed_in: Portal, path: str) -> None:
    """?lang=ja: the page is lang="ja" and no English string of the portal remains."""
    consent = signed_in.grant()

    response = signed_in.client.get(path.format(id=consent.id), params={"lang": "ja"})

    assert '<html lang="ja">' in response.text
    assert "連携中のアプリ" in response.text  # the menu
    for english in ("Connected apps", "Sign out", "Stop sharing", "Access log", "Receipt"):
        assert english not in response.text


def test_the_japanese_choice_is_remembered(signed_in: Portal) -> None:
    """The language switch sets the cookie; the next page stays Japanese."""
    signed_in.grant()
    signed_in.client.get("/consumer", params={"lang": "ja"})

    html = signed_in.client.get("/consumer").text

    assert "データを閲覧できるアプリ" in html
    assert 'href="/consumer?lang=en"' in html


def test_the_japanese_sign_in_page(portal: Portal) -> None:
    """Signed out, in Japanese: labelled fields in Japanese."""
    html = portal.client.get("/consumer", headers={"accept-language": "ja"}).text

    assert '<label for="username">ユーザーID</label>' in html
    assert "Sandbox Bankにログイン" in html


def test_every_form_posts_with_a_csrf_value(signed_in: Portal) -> None:
    """Sign-out, revoke and renew forms each carry their own value."""
    consent = signed_in.grant(period=10)
    base = f"/consumer/consents/{consent.id}"
    revoke, renew = (
        signed_in.client.get(base + "/revoke").text,
        signed_in.client.get(base + "/renew").text,
    )

    values = {
        form_csrf(revoke, "/consumer/logout"),
        form_csrf(revoke, base + "/revoke"),
        form_csrf(renew, base + "/renew"),
    }

    assert len(values) == 3


def test_every_control_is_labelled(signed_in: Portal) -> None:
    """Buttons have text; links have text; images have alt text."""
    consent = signed_in.grant(period=10)
    html = "".join(signed_in.client.get(p.format(id=consent.id)).text for p in PAGES)

    assert not re.search(r"<button[^>]*>\s*</button>", html)
    assert not re.search(r"<a [^>]*>\s*</a>", html)
    assert all('alt="' in img for img in re.findall(r"<img[^>]*>", html))


def test_an_unknown_portal_page_is_a_friendly_404(signed_in: Portal) -> None:
    """Plain words and a way back, never a traceback."""
    response = signed_in.client.get("/consumer/consents/nope/receipts/1")

    assert response.status_code == 404
    assert "We could not find that page." in response.text
    assert 'href="/consumer"' in response.text
    assert "Traceback" not in response.text


def test_a_malformed_post_is_a_friendly_400(signed_in: Portal) -> None:
    """A body that is not a form: plain words, nothing changed."""
    consent = signed_in.grant()

    response = signed_in.client.post(
        f"/consumer/consents/{consent.id}/revoke",
        content=b"{}",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert "not valid" in response.text
    assert signed_in.consent(consent.id).status.value == "ACTIVE"

"""The portal never makes a consumer's browser call the recipient for its logo."""

from __future__ import annotations

from dataclasses import replace

import anyio

from tests.authz.portal.conftest import Portal
from tests.authz.screens.conftest import CLIENT


def test_the_portal_never_loads_the_recipients_logo(signed_in: Portal) -> None:
    """The app card, the consent page and the renewal page alike."""
    consent = signed_in.grant(period=90)
    signed_in.clock.advance(80 * 86400)  # renewal is offered near the end
    assert signed_in.sign_in().status_code == 303  # the session did not last 80 days
    pages = [
        signed_in.client.get(path)
        for path in ("/consumer", f"/consumer/consents/{consent.id}",
                     f"/consumer/consents/{consent.id}/renew")
    ]  # fmt: skip

    assert [200, 200, 200] == [p.status_code for p in pages]
    assert not [p.url for p in pages if "budget.example/logo" in p.text]
    assert all("img-src 'self';" in p.headers["content-security-policy"] for p in pages)
    assert all('class="logo initials' in p.text for p in pages)


def test_a_logo_the_gateway_serves_is_shown(signed_in: Portal) -> None:
    """The demo recipient's logo is one of the gateway's own files: it is shown as a path."""
    own = replace(CLIENT, logo_uri="http://127.0.0.1:8000/static/demo-recipient-logo.svg")
    anyio.run(signed_in.services.records.clients.put, own)
    signed_in.grant()

    html = signed_in.client.get("/consumer").text

    assert 'src="/static/demo-recipient-logo.svg"' in html

"""Stopping with "delete my data": asked by default, carried to the app, shown until confirmed;
and the portal's inbox of notices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from authz.consent.model import ConsentEvent
from authz.notices.notices import Notices
from authz.notifications import message
from config.settings import Settings
from gateway.app import create_app
from gateway.services import add_notices
from tests.authz.portal.conftest import BASE, Portal, build, form_csrf
from tests.authz.screens.conftest import CLIENT, CUSTOMER, FakeClock

DAY = 86400


@pytest.fixture
def told() -> Iterator[tuple[Portal, Notices]]:
    """The portal with consumer notices wired as ``build_services`` wires them."""
    clock = FakeClock()
    services = build(Settings(issuer=BASE, profile="sandbox"), clock)
    notices = add_notices(services)
    app = create_app(services.settings, services=services)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:
        portal = Portal(services, clock, client)
        assert portal.sign_in().status_code == 303
        yield portal, notices


def stop(portal: Portal, consent_id: str, *, delete: bool) -> None:
    path = f"/consumer/consents/{consent_id}/revoke"
    page = portal.client.get(path).text
    form = {"csrf": form_csrf(page, path)}
    if delete:
        form["delete_data"] = "yes"
    assert portal.client.post(path, data=form).status_code == 303


def test_the_stop_page_asks_to_delete_ticked_by_default(signed_in: Portal) -> None:
    consent = signed_in.grant()
    html = signed_in.client.get(f"/consumer/consents/{consent.id}/revoke").text
    assert 'name="delete_data" value="yes" checked' in html
    assert "Ask Budget &lt;App&gt; to delete the data it already has" in html


def test_asking_is_recorded_shown_and_carried_to_the_app(
    signed_in: Portal, fdx_validate: Any
) -> None:
    consent = signed_in.grant()

    stop(signed_in, consent.id, delete=True)

    page = signed_in.client.get(f"/consumer/consents/{consent.id}").text
    assert "Asked on 1 January 2026, not confirmed yet." in page
    last = signed_in.events(consent.id)[-1]
    assert message.deletion_requested(last)
    body = message.build(
        message.REVOKED,
        signed_in.consent(consent.id),
        CLIENT,
        notification_id="n-1",
        settings=signed_in.services.settings,
        event=last,
    )
    assert body["deletionRequest"] == {
        "href": f"{BASE}/fdx/v6/consents/{consent.id}/deletion",
        "action": "PUT",
        "rel": "deletion",
        "types": ["application/json"],
    }
    fdx_validate({**body, "sentOn": "2026-01-01T00:00:00.000Z"}, "Notificationentity")

    signed_in.clock.advance(4 * DAY)
    anyio.run(signed_in.services.notices.deletions.confirm, consent.id, signed_in.clock())
    assert signed_in.sign_in().status_code == 303  # the session ended meanwhile
    page = signed_in.client.get(f"/consumer/consents/{consent.id}").text
    assert "Deletion confirmed by Budget &lt;App&gt; on 5 January 2026." in page


def test_unticked_nothing_is_asked(signed_in: Portal) -> None:
    consent = signed_in.grant()
    stop(signed_in, consent.id, delete=False)
    assert anyio.run(signed_in.services.notices.deletions.get, consent.id) is None
    assert not message.deletion_requested(signed_in.events(consent.id)[-1])
    page = signed_in.client.get(f"/consumer/consents/{consent.id}").text
    assert "not confirmed yet" not in page


def test_a_revocation_notification_without_a_request_has_no_link(signed_in: Portal) -> None:
    consent = signed_in.grant()
    event = ConsentEvent(consent.id, signed_in.clock(), "revoked", "INDIVIDUAL", None, "portal")
    body = message.build(
        message.REVOKED,
        consent,
        CLIENT,
        notification_id="n-1",
        settings=signed_in.services.settings,
        event=event,
    )
    assert "deletionRequest" not in body


def test_an_unconfirmed_deletion_is_told_after_30_days_and_listed(
    told: tuple[Portal, Notices],
) -> None:
    portal, notices = told
    consent = portal.grant()
    stop(portal, consent.id, delete=True)
    portal.clock.advance(29 * DAY)
    assert anyio.run(notices.sweep) == 0
    portal.clock.advance(2 * DAY)
    assert anyio.run(notices.sweep) == 1
    assert anyio.run(notices.sweep) == 0  # told once
    assert portal.sign_in().status_code == 303
    page = portal.client.get(f"/consumer/consents/{consent.id}").text
    assert "It has been more than 30 days" in page
    inbox = portal.client.get("/consumer/notices").text
    assert "Budget &lt;App&gt; has not confirmed deleting your data" in inbox


def test_the_inbox_lists_notices_and_marks_them_read(told: tuple[Portal, Notices]) -> None:
    portal, _ = told
    consent = portal.grant()
    anyio.run(_granted, portal, consent.id)  # the consent screen's grant path tells observers
    apps = portal.client.get("/consumer").text
    assert "You have 1 new messages about your data sharing." in apps
    inbox = portal.client.get("/consumer/notices").text
    assert "You connected Budget &lt;App&gt;" in inbox
    assert '<span class="badge on">New</span>' in inbox
    assert 'aria-current="page">Messages</a>' in inbox
    again = portal.client.get("/consumer/notices").text
    assert "badge on" not in again
    assert "new messages" not in portal.client.get("/consumer").text


def test_notices_follow_the_language_last_used_on_the_portal(
    told: tuple[Portal, Notices],
) -> None:
    portal, _ = told
    portal.client.get("/consumer/notices?lang=ja")
    assert anyio.run(portal.services.notices.languages.language, CUSTOMER) == "ja"
    consent = portal.grant()
    anyio.run(_granted, portal, consent.id)
    [notice] = anyio.run(portal.services.notices.inbox.list, CUSTOMER)
    assert notice.subject == "Budget <App>と連携しました"


async def _granted(portal: Portal, consent_id: str) -> None:
    consent = await portal.services.records.consents.get(consent_id)
    assert consent is not None
    event = ConsentEvent(consent.id, portal.clock(), "granted", "INDIVIDUAL")
    for observer in portal.services.observers:
        await observer.consent_changed(consent, event)

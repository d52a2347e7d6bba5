"""PUT /fdx/v6/consents/{consentId}/deletion: a recipient confirms it deleted the data."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from authz.notices.store import DeletionRequest
from tests.gateway.conftest import assert_fdx_error
from tests.gateway.test_consents import APP, OTHER, Gateway


@pytest.fixture
def gw() -> Gateway:
    return Gateway()


def stored(gw: Gateway, consent_id: str) -> DeletionRequest | None:
    return anyio.run(gw.services.notices.deletions.get, consent_id)


def test_the_recipient_confirms_an_asked_deletion_once(gw: Gateway) -> None:
    consent = gw.consent()
    asked = DeletionRequest(consent.id, APP, consent.customer_id, asked_at=gw.clock() - 100)
    anyio.run(gw.services.notices.deletions.ask, asked)
    token = gw.manage_token()

    first = gw.put(f"/fdx/v6/consents/{consent.id}/deletion", token)
    confirmed_at = gw.clock()
    gw.clock.advance(60)
    again = gw.put(f"/fdx/v6/consents/{consent.id}/deletion", token)

    assert (first.status_code, again.status_code) == (204, 204)
    assert first.content == b""
    assert first.headers["cache-control"] == "no-store"
    request = stored(gw, consent.id)
    assert request is not None
    assert (request.asked_at, request.confirmed_at) == (asked.asked_at, confirmed_at)


def test_a_confirmation_without_a_request_is_recorded_too(gw: Gateway) -> None:
    consent = gw.consent()
    response = gw.put(f"/fdx/v6/consents/{consent.id}/deletion", gw.manage_token())
    assert response.status_code == 204
    request = stored(gw, consent.id)
    assert request is not None
    assert request.confirmed_at == gw.clock()


def test_another_recipients_or_an_unknown_consent_is_not_found(
    gw: Gateway, fdx_validate: Any
) -> None:
    theirs = gw.consent(client_id=OTHER)
    token = gw.manage_token(APP)
    for consent_id in (theirs.id, "no-such-consent"):
        response = gw.put(f"/fdx/v6/consents/{consent_id}/deletion", token)
        assert_fdx_error(response, 404, "1107", fdx_validate)
    assert stored(gw, theirs.id) is None


def test_a_data_token_or_no_token_cannot_confirm(gw: Gateway) -> None:
    consent = gw.consent()
    data = gw.data_tokens(consent)["access_token"]
    assert gw.put(f"/fdx/v6/consents/{consent.id}/deletion", data).status_code == 403
    assert gw.http.put(f"/fdx/v6/consents/{consent.id}/deletion").status_code == 401
    assert gw.get(f"/fdx/v6/consents/{consent.id}/deletion", gw.manage_token()).status_code == 405
    assert stored(gw, consent.id) is None

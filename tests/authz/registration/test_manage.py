"""GET/PUT/DELETE /register/{clientId} (RFC 7592) with the registration access token."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from authz.consent.model import ConsentStatus
from authz.registration import recipients
from tests.authz.oauth.conftest import Harness, run
from tests.authz.registration.conftest import Registry


def _put(dcr: Registry, client_id: str, token: str | None, body: dict[str, Any]) -> Any:
    return dcr.manage(
        "PUT", client_id, token, content=orjson.dumps(body),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip


def _assert_unauthorized(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_get_with_the_token_reads_the_registration_and_rotates_the_token(dcr: Registry):
    """RFC 7592 §2.1/§3: the current metadata and a new token; the old one stops working."""
    created = dcr.registered()
    client_id, old = created["client_id"], created["registration_access_token"]

    read = dcr.manage("GET", client_id, old)
    new = read.json()["registration_access_token"]

    assert read.status_code == 200
    assert read.headers["cache-control"] == "no-store"
    assert read.json()["client_name"] == created["client_name"]
    assert new != old
    _assert_unauthorized(dcr.manage("GET", client_id, old))
    assert dcr.manage("GET", client_id, new).status_code == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("token", [None, "wrong-token", ""], ids=["missing", "wrong", "empty"])
def test_a_missing_or_wrong_token_is_401(dcr: Registry, method, token):
    """Every management call without the right token is 401 invalid_token, and changes nothing."""
    created = dcr.registered()

    _assert_unauthorized(dcr.manage(method, created["client_id"], token))
    assert dcr.client(created["client_id"]).status == "pending"


def test_another_clients_token_is_401(dcr: Registry):
    """A registration token opens its own client only."""
    mine, theirs = dcr.registered(), dcr.registered()

    _assert_unauthorized(dcr.manage("GET", theirs["client_id"], mine["registration_access_token"]))


def test_an_unknown_client_is_401_not_404(dcr: Registry):
    """RFC 7592 §2: an unknown client id answers like a bad token (no probing for ids)."""
    created = dcr.registered()

    _assert_unauthorized(dcr.manage("GET", "no-such-client", created["registration_access_token"]))


def test_put_replaces_the_metadata_and_keeps_the_status(dcr: Registry):
    """RFC 7592 §2.2: the body replaces what was registered; the bank's approval stays."""
    created = dcr.registered(contacts=["old@budget.example"])
    run(recipients.approve, dcr.records, created["client_id"], now=dcr.clock())
    body = {k: v for k, v in created.items() if k != "contacts"}
    body["redirect_uris"] = ["https://app.example.com/new-callback"]

    response = _put(dcr, created["client_id"], created["registration_access_token"], body)
    stored = dcr.client(created["client_id"])

    assert response.status_code == 200, response.text
    assert stored.redirect_uris == ("https://app.example.com/new-callback",)
    assert stored.contacts == ()
    assert stored.status == "approved"
    assert response.json()["registration_access_token"] != created["registration_access_token"]


def test_put_is_still_bound_by_the_registered_statement(dcr: Registry):
    """Without a new statement the registered one keeps overriding (the registry's name)."""
    created = dcr.registered()
    body = {**created, "client_name": "Renamed Without The Registry"}
    body.pop("software_statement")

    response = _put(dcr, created["client_id"], created["registration_access_token"], body)

    assert response.status_code == 200, response.text
    assert dcr.client(created["client_id"]).client_name == "Budget App (registry)"


def test_put_revalidates_the_metadata(dcr: Registry):
    """A PUT with metadata a POST would refuse is refused, and nothing changes."""
    created = dcr.registered()
    body = {**created, "redirect_uris": ["http://app.example.com/cb"]}

    response = _put(dcr, created["client_id"], created["registration_access_token"], body)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_redirect_uri")
    assert dcr.client(created["client_id"]).redirect_uris == ("https://app.example.com/callback",)


def test_put_with_another_client_id_in_the_body_is_refused(dcr: Registry):
    """RFC 7592 §2.2: the body's client_id must be the client's own."""
    created = dcr.registered()
    body = {**created, "client_id": "someone-else"}

    response = _put(dcr, created["client_id"], created["registration_access_token"], body)

    assert (response.status_code, response.json()["error"]) == (400, "invalid_client_metadata")


def test_delete_deregisters_keeps_the_record_and_revokes_its_consents(dcr: Registry):
    """RFC 7592 §2.3: 204; the client is deleted (kept for the record), its token is dead,
    its consents end as REVOKED with their history, and it can no longer authenticate."""
    created = dcr.registered()
    client_id, token = created["client_id"], created["registration_access_token"]
    run(recipients.approve, dcr.records, client_id, now=dcr.clock())
    consent = _active_consent(dcr, client_id)

    response = dcr.manage("DELETE", client_id, token)

    assert response.status_code == 204
    assert dcr.client(client_id).status == "deleted"
    _assert_unauthorized(dcr.manage("GET", client_id, token))
    stored = run(dcr.records.consents.get, consent.id)
    assert stored is not None
    assert stored.status is ConsentStatus.REVOKED
    par = dcr.http.post("/oauth/par", data={"client_id": client_id, **dcr.assertion(client_id)})
    assert (par.status_code, par.json()["error"]) == (401, "invalid_client")


def test_a_deleted_client_cannot_be_reinstated(dcr: Registry):
    """Deregistration is final: the bank's reinstate refuses it."""
    created = dcr.registered()
    dcr.manage("DELETE", created["client_id"], created["registration_access_token"])

    with pytest.raises(recipients.RecipientError):
        run(recipients.reinstate, dcr.records, created["client_id"], now=dcr.clock())


def _active_consent(dcr: Registry, client_id: str) -> Any:
    harness = Harness(dcr.services, dcr.clock, dcr.http, dcr.client_key, dcr.client_key)
    return harness.consent(client_id=client_id)

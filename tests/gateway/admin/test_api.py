"""The admin API: its own credential, the operator's actions, JSON errors, logged by id."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
import pytest

from authz.consent.model import ConsentStatus
from gateway.admin.token import write_token_hash
from tests.gateway.fakes import CUSTOMER
from tests.gateway.operator_app import FullHarness

TOKEN = "fdxadm_test-token-for-the-admin-api"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


class AdminHarness(FullHarness):
    def __init__(self, token_file: Path) -> None:
        write_token_hash(token_file, TOKEN)
        super().__init__(admin_token_file=str(token_file))

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**ADMIN, **kwargs.pop("headers", {})}
        return self.client.request(method, "/admin" + path, headers=headers, **kwargs)


@pytest.fixture
def adm(tmp_path: Path) -> AdminHarness:
    return AdminHarness(tmp_path / "admin.sha256")


def test_without_a_configured_token_there_is_no_admin_api():
    """404 everywhere under /admin, exactly like a path that does not exist."""
    full = FullHarness()

    known = full.client.get("/admin/recipients", headers=ADMIN)
    bare = full.client.get("/admin", follow_redirects=False)
    unknown = full.client.get("/no-such-path")

    assert (404, 404, 404) == (known.status_code, bare.status_code, unknown.status_code)
    assert unknown.text == known.text == bare.text


def test_a_configured_file_not_yet_written_also_means_no_admin_api(tmp_path):
    """admin_token_file set but `fdxgw admin token` not run: still 404."""
    full = FullHarness(admin_token_file=str(tmp_path / "missing.sha256"))

    assert 404 == full.client.get("/admin/keys", headers=ADMIN).status_code


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}],
    ids=["none", "wrong-token", "wrong-scheme"],
)
def test_requests_without_the_admin_token_are_refused(adm, headers):
    """401 invalid_token with a Bearer challenge, in the OAuth error shape."""
    response = adm.client.get("/admin/recipients", headers=headers)

    assert 401 == response.status_code
    assert "invalid_token" == response.json()["error"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_recipients_access_token_is_not_an_admin_credential(adm):
    """Recipients' and consumers' credentials never open the admin API."""
    _, token = adm.grant()

    response = adm.client.get("/admin/recipients", headers={"Authorization": f"Bearer {token}"})

    assert 401 == response.status_code


def test_a_new_token_replaces_the_old_one_without_a_restart(adm, tmp_path):
    """The hash file is re-read when it changes."""
    write_token_hash(tmp_path / "admin.sha256", "fdxadm_another-one-entirely-different")

    old = adm.admin("GET", "/keys")
    new = adm.client.get(
        "/admin/keys", headers={"Authorization": "Bearer fdxadm_another-one-entirely-different"}
    )

    assert (401, 200) == (old.status_code, new.status_code)


def test_recipients_are_listed_with_their_status(adm):
    """Every registered recipient, by client_id."""
    adm.register("app-1")
    adm.register("app-2", status="pending")

    body = adm.admin("GET", "/recipients").json()

    assert [("app-1", "approved"), ("app-2", "pending")] == [
        (r["client_id"], r["status"]) for r in body["recipients"]
    ]


def test_suspending_a_recipient_stops_its_next_fdx_call_and_reinstating_restores_it(adm):
    """The registration helper's transitions, effective on the next request."""
    _, token = adm.grant()

    suspended = adm.admin("POST", "/recipients/client-1/suspend", json={"reason": "fraud review"})
    refused = adm.get("/fdx/v6/accounts", token)
    reinstated = adm.admin("POST", "/recipients/client-1/reinstate")
    served = adm.get("/fdx/v6/accounts", token)

    assert ("suspended", 401) == (suspended.json()["recipient"]["status"], refused.status_code)
    assert ("approved", 200) == (reinstated.json()["recipient"]["status"], served.status_code)


def test_approving_a_pending_recipient(adm):
    """pending → approved."""
    adm.register("app-new", status="pending")

    response = adm.admin("POST", "/recipients/app-new/approve")

    assert (200, "approved") == (response.status_code, response.json()["recipient"]["status"])


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/recipients/nobody/approve", 404, "not_found"),
        ("/recipients/client-1/approve", 409, "conflict"),
        ("/recipients/client-1/delete", 404, "not_found"),
    ],
    ids=["unknown-recipient", "already-approved", "unknown-action"],
)
def test_recipient_changes_that_cannot_apply_say_why(adm, path, status, error):
    """Unknown ids 404, transitions the status does not allow 409."""
    adm.register("client-1")

    response = adm.admin("POST", path)

    assert (status, error) == (response.status_code, response.json()["error"])
    assert response.json()["error_description"]


def test_a_malformed_body_is_a_400_not_a_500(adm):
    """Bad JSON gets invalid_request."""
    adm.register("client-1")

    response = adm.admin(
        "POST", "/recipients/client-1/suspend", content=b"{nope", headers={"content-type": "x"}
    )

    assert (400, "invalid_request") == (response.status_code, response.json()["error"])


def test_consents_are_found_by_customer_or_by_recipient(adm):
    """Newest first, with ids, status, dates and clusters."""
    first, _ = adm.grant()
    second, _ = adm.grant(client_id="client-2")

    by_customer = adm.admin("GET", f"/consents?customer={CUSTOMER}").json()
    by_recipient = adm.admin("GET", "/consents?recipient=client-2").json()

    assert {first.id, second.id} == {c["id"] for c in by_customer["consents"]}
    assert [second.id] == [c["id"] for c in by_recipient["consents"]]
    assert {"ACTIVE"} == {c["status"] for c in by_customer["consents"]}
    assert 2 == by_customer["total"]


@pytest.mark.parametrize(
    "query", ["", "?customer=a&recipient=b", "?customer="], ids=["neither", "both", "empty"]
)
def test_a_consent_search_needs_exactly_one_criterion(adm, query):
    """400 invalid_request otherwise."""
    response = adm.admin("GET", "/consents" + query)

    assert (400, "invalid_request") == (response.status_code, response.json()["error"])


def test_revoking_a_consent_goes_through_the_lifecycle_as_the_bank(adm):
    """REVOKED by DATA_PROVIDER with the reason given; the recipient's next call gets 401."""
    consent, token = adm.grant()

    response = adm.admin("POST", f"/consents/{consent.id}/revoke", json={"reason": "USER_ACTION"})
    after = adm.get("/fdx/v6/accounts", token)

    assert (200, "REVOKED") == (response.status_code, response.json()["consent"]["status"])
    assert 401 == after.status_code
    stored = anyio.run(adm.records.consents.get, consent.id)
    assert stored is not None
    assert stored.status is ConsentStatus.REVOKED
    events = anyio.run(adm.records.consents.events, consent.id)
    assert ("revoked", "DATA_PROVIDER", "USER_ACTION") == (
        events[-1].event,
        events[-1].actor,
        events[-1].reason,
    )


def test_revocation_defaults_to_a_business_rule(adm):
    """No body: the bank's own decision."""
    consent, _ = adm.grant()

    adm.admin("POST", f"/consents/{consent.id}/revoke")

    assert "BUSINESS_RULE" == anyio.run(adm.records.consents.events, consent.id)[-1].reason


@pytest.mark.parametrize(
    ("setup", "body", "status", "error"),
    [
        ("revoked", None, 409, "conflict"),
        ("unknown", None, 404, "not_found"),
        ("active", {"reason": "BECAUSE"}, 400, "invalid_request"),
    ],
    ids=["already-revoked", "unknown", "bad-reason"],
)
def test_revocations_that_cannot_apply_say_why(adm, setup, body, status, error):
    """409 for an ended consent, 404 for an unknown one, 400 for a reason FDX does not know."""
    consent, _ = adm.grant()
    if setup == "revoked":
        adm.revoke(consent)
    consent_id = "no-such-consent" if setup == "unknown" else consent.id

    response = adm.admin("POST", f"/consents/{consent_id}/revoke", json=body)

    assert (status, error) == (response.status_code, response.json()["error"])


def test_a_wrong_method_gets_405_with_allow(adm):
    """The admin error shape and an Allow header."""
    response = adm.admin("GET", "/consents/x/revoke")

    assert (405, "POST") == (response.status_code, response.headers["allow"])


def test_keys_are_listed_with_the_signing_one_marked(adm):
    """kid, alg, created and which one signs; nothing private."""
    body = adm.admin("GET", "/keys").json()

    assert [(adm.services.keys.kid, "ES256", True)] == [
        (k["kid"], k["alg"], k["signing"]) for k in body["keys"]
    ]
    assert '"d"' not in adm.admin("GET", "/keys").text


def test_the_audit_trail_can_be_verified(adm):
    """The audit helper's chain check, as JSON."""
    adm.grant()

    body = adm.admin("GET", "/audit/verify").json()

    assert (True, None) == (body["ok"], body["broken"])


def test_admin_actions_are_logged_by_id_without_personal_data(adm, caplog):
    """One line per action with the target's id; a customer search does not log the customer."""
    consent, _ = adm.grant()
    caplog.set_level(logging.INFO, logger="gateway.admin")

    adm.admin("GET", f"/consents?customer={CUSTOMER}")
    adm.admin("POST", f"/consents/{consent.id}/revoke")

    messages = [r.getMessage() for r in caplog.records]
    assert ["admin.consents_searched", "admin.consent_revoked"] == messages
    assert consent.id == caplog.records[1].consent_id
    assert all(CUSTOMER not in str(vars(r)) for r in caplog.records)


def test_a_storage_outage_is_a_503_in_the_admin_shape(adm, monkeypatch):
    """PostgreSQL or Redis away: 503 temporarily_unavailable, not a 500."""
    from authz.store.base import RecordsUnavailable

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise RecordsUnavailable("database at 127.0.0.1:5432 unreachable")

    monkeypatch.setattr(adm.services.records.clients, "all", down)

    response = adm.admin("GET", "/recipients")

    assert 503 == response.status_code
    assert "temporarily_unavailable" == response.json()["error"]
    assert "5" == response.headers["retry-after"]

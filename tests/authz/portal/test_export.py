"""GET /consumer/export.json: the consumer's own consents, their histories and every access."""

from __future__ import annotations

import anyio

from authz.consent import lifecycle
from tests.authz.portal.conftest import OTHER_CLIENT, Portal
from tests.authz.screens.conftest import CUSTOMER


def test_the_export_is_a_json_download(signed_in: Portal) -> None:
    """An attachment, never cached, with the screens' security headers."""
    response = signed_in.client.get("/consumer/export.json")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"] == (
        'attachment; filename="data-sharing-records-2026-01-01.json"'
    )
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_export_holds_every_consent_event_and_access_of_this_customer(
    signed_in: Portal,
) -> None:
    """Active and ended consents, each with its events and accesses."""
    active = signed_in.grant()
    ended = signed_in.grant(client_id=OTHER_CLIENT.client_id, clusters=("ACCOUNT_BASIC",))
    signed_in.access(active, count=4, interaction_id="access-1")
    signed_in.access(ended, clusters=("ACCOUNT_BASIC",), interaction_id="access-2")
    anyio.run(
        lambda: lifecycle.revoke(
            signed_in.services, ended.id, actor="INDIVIDUAL", reason="USER_ACTION"
        )
    )

    body = signed_in.client.get("/consumer/export.json").json()

    by_id = {c["consentId"]: c for c in body["consents"]}
    assert set(by_id) == {active.id, ended.id}
    assert by_id[ended.id]["status"] == "REVOKED"
    assert [e["event"] for e in by_id[ended.id]["events"]] == ["granted", "revoked"]
    assert by_id[ended.id]["recipient"] == {"clientId": "tax-helper", "name": "Tax Helper"}
    [access] = by_id[active.id]["accesses"]
    assert (access["interactionId"], access["recordCount"]) == ("access-1", 4)
    assert access["dataClusters"] == ["TRANSACTIONS"]
    assert by_id[active.id]["resources"] == [
        {"resourceType": "ACCOUNT", "resourceId": "acc-checking",
         "dataClusters": ["ACCOUNT_BASIC", "TRANSACTIONS"]}
    ]  # fmt: skip


def test_the_export_has_nothing_of_another_customer_nor_the_internal_id(signed_in: Portal) -> None:
    """Bob's consent and accesses stay out; the file names the consumer pairwise."""
    bobs = signed_in.grant(customer_id="cust-bob", accounts=("acc-bob",))
    signed_in.access(bobs, accounts=("acc-bob",), interaction_id="bobs-access")
    signed_in.grant()

    text = signed_in.client.get("/consumer/export.json").text

    assert bobs.id not in text
    assert "bobs-access" not in text
    assert "acc-bob" not in text
    assert CUSTOMER not in text
    assert "cust-bob" not in text


def test_the_export_needs_a_signed_in_consumer(portal: Portal) -> None:
    """Signed out: sent to sign in, nothing exported."""
    response = portal.client.get("/consumer/export.json")

    assert (response.status_code, response.headers["location"]) == (303, "/consumer")

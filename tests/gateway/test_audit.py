"""One audit event per data access, granted or denied, with what was disclosed."""

from __future__ import annotations


def test_a_successful_read_is_audited_with_its_count(h):
    """Endpoint, account, clusters, record count, status and interaction id are kept."""
    consent, token = h.grant()

    h.get(
        "/fdx/v6/accounts/acc-chk/transactions?limit=5",
        token,
        headers={"x-fapi-interaction-id": "iid-1"},
    )

    [event] = h.audit(consent)
    assert (
        "GET /accounts/{accountId}/transactions",
        ("acc-chk",),
        ("TRANSACTIONS",),
        5,
        200,
        "iid-1",
    ) == (
        event.endpoint,
        event.account_ids,
        event.clusters,
        event.record_count,
        event.status,
        event.interaction_id,
    )
    assert (consent.client_id, consent.customer_id) == (event.client_id, event.customer_id)


def test_the_account_list_is_audited_with_the_accounts_shown(h):
    """GET /accounts records each account it disclosed."""
    consent, token = h.grant({"acc-chk": ("ACCOUNT_BASIC",), "acc-card": ("ACCOUNT_BASIC",)})

    h.get("/fdx/v6/accounts", token)

    [event] = h.audit(consent)
    assert (("acc-chk", "acc-card"), 2) == (event.account_ids, event.record_count)


def test_a_denied_cluster_is_audited_with_its_status(h):
    """403 after a valid token: recorded, nothing disclosed."""
    consent, token = h.grant({"acc-chk": ("ACCOUNT_BASIC",)})

    h.get("/fdx/v6/accounts/acc-chk/transactions", token)

    [event] = h.audit(consent)
    assert (403, 0, ("acc-chk",)) == (event.status, event.record_count, event.account_ids)


def test_a_foreign_account_id_is_audited_without_the_id(h):
    """404 for an account outside the consent: recorded, but the probed id is not kept."""
    consent, token = h.grant()

    h.get("/fdx/v6/accounts/acc-sav", token)

    [event] = h.audit(consent)
    assert (404, ()) == (event.status, event.account_ids)


def test_a_call_on_a_revoked_consent_is_audited_as_refused(h):
    """The token names a consent of its client: the refusal (401) is on that consent's record."""
    consent, token = h.grant()
    h.revoke(consent)

    h.get("/fdx/v6/accounts", token)

    [event] = h.audit(consent)
    assert (401, 0) == (event.status, event.record_count)


def test_an_unverifiable_token_writes_no_audit(h):
    """A token that does not verify has no consent to attribute the attempt to."""
    consent, token = h.grant()

    h.get("/fdx/v6/accounts", token[:-4] + "AAAA")

    assert [] == h.audit(consent)


def test_data_is_not_served_when_the_audit_cannot_be_written(h, fdx_validate):
    """An access that cannot be recorded is refused with a 500, not served unrecorded."""
    _, token = h.grant()

    async def broken(events):
        raise OSError("disk full")

    h.records.audit.append = broken

    response = h.get("/fdx/v6/accounts/acc-chk", token)

    assert 500 == response.status_code
    assert "currentBalance" not in response.text

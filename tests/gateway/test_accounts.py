"""GET /accounts and GET /accounts/{accountId}: only consented accounts, only consented fields."""

from __future__ import annotations

import pytest

from tests.gateway.conftest import assert_fdx_error

BASIC_ONLY = {"acc-chk": ("ACCOUNT_BASIC",), "acc-card": ("ACCOUNT_BASIC",)}
BOTH = {
    "acc-chk": ("ACCOUNT_BASIC", "ACCOUNT_DETAILED"),
    "acc-card": ("ACCOUNT_BASIC", "ACCOUNT_DETAILED"),
}


def test_accounts_lists_only_the_consented_accounts(h, fdx_validate):
    """acc-sav belongs to the customer but is not in the consent."""
    _, token = h.grant(BASIC_ONLY)

    response = h.get("/fdx/v6/accounts", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "Accountsentity")
    assert ["acc-chk", "acc-card"] == [a["accountId"] for a in response.json()["accounts"]]
    assert {"totalElements": 2} == response.json()["page"]


def test_lightweight_accounts_never_carry_details_even_when_consented(h, fdx_validate):
    """resultType=lightweight (the default) is the AccountDescriptor: no balances."""
    _, token = h.grant(BOTH)

    response = h.get("/fdx/v6/accounts", token)

    accounts = response.json()["accounts"]
    fdx_validate(response.json(), "Accountsentity")
    assert all("currentBalance" not in a for a in accounts)
    assert "...7890" == accounts[0]["accountNumberDisplay"]


def test_details_carry_balances_only_under_account_detailed(h, fdx_validate):
    """resultType=details: balances for the account with ACCOUNT_DETAILED, none without."""
    _, token = h.grant(
        {"acc-chk": ("ACCOUNT_BASIC", "ACCOUNT_DETAILED"), "acc-card": ("ACCOUNT_BASIC",)}
    )

    response = h.get("/fdx/v6/accounts?resultType=details", token)

    fdx_validate(response.json(), "Accountsentity")
    by_id = {a["accountId"]: a for a in response.json()["accounts"]}
    assert 1520.25 == by_id["acc-chk"]["currentBalance"]
    assert "currentBalance" not in by_id["acc-card"]
    assert "creditLine" not in by_id["acc-card"]


def test_account_numbers_never_leave_through_accounts(h):
    """accountNumber and routingTransitNumber are in no cluster's account fields."""
    _, token = h.grant(BOTH)

    listed = h.get("/fdx/v6/accounts?resultType=details", token).json()["accounts"]
    one = h.get("/fdx/v6/accounts/acc-chk", token).json()

    for account in [*listed, one]:
        assert "accountNumber" not in account
        assert "routingTransitNumber" not in account


def test_account_ids_filter_ignores_ids_outside_the_consent(h, fdx_validate):
    """accountIds narrows the list; a foreign id is dropped silently, never revealed."""
    _, token = h.grant(BASIC_ONLY)

    response = h.get("/fdx/v6/accounts?accountIds=acc-card,acc-sav,zzz", token)

    fdx_validate(response.json(), "Accountsentity")
    assert ["acc-card"] == [a["accountId"] for a in response.json()["accounts"]]


def test_account_ids_over_a_hundred_are_refused(h, fdx_validate):
    """At most 100 ids in accountIds."""
    _, token = h.grant(BASIC_ONLY)
    ids = ",".join(f"a{i}" for i in range(101))

    assert_fdx_error(h.get(f"/fdx/v6/accounts?accountIds={ids}", token), 400, "401", fdx_validate)


def test_an_unknown_result_type_is_invalid_input(h, fdx_validate):
    """resultType is lightweight or details."""
    _, token = h.grant(BASIC_ONLY)

    assert_fdx_error(h.get("/fdx/v6/accounts?resultType=full", token), 400, "401", fdx_validate)


def test_accounts_page_with_links_and_every_account_exactly_once(h, fdx_validate):
    """limit=1 pages through both accounts, following links.next."""
    _, token = h.grant(BASIC_ONLY)
    seen, url = [], "/fdx/v6/accounts?limit=1"

    while url:
        body = h.get(url, token).json()
        fdx_validate(body, "Accountsentity")
        seen += [a["accountId"] for a in body["accounts"]]
        url = body.get("links", {}).get("next", {}).get("href")

    assert ["acc-chk", "acc-card"] == seen


def test_a_consent_without_account_clusters_cannot_list_accounts(h, fdx_validate):
    """TRANSACTIONS alone opens no account listing: 403/602."""
    _, token = h.grant({"acc-chk": ("TRANSACTIONS",)})

    assert_fdx_error(h.get("/fdx/v6/accounts", token), 403, "602", fdx_validate)


def test_one_account_with_basic_only_has_no_balances(h, fdx_validate):
    """GET /accounts/{id} under ACCOUNT_BASIC alone: descriptor fields, no balances."""
    _, token = h.grant({"acc-chk": ("ACCOUNT_BASIC",)})

    response = h.get("/fdx/v6/accounts/acc-chk", token)

    fdx_validate(response.json(), "AccountWithDetailsentity")
    assert "currentBalance" not in response.json()
    assert "Everyday Checking" == response.json()["productName"]


def test_one_account_with_detailed_has_balances(h, fdx_validate):
    """GET /accounts/{id} under ACCOUNT_DETAILED carries balances."""
    _, token = h.grant({"acc-chk": ("ACCOUNT_BASIC", "ACCOUNT_DETAILED")})

    response = h.get("/fdx/v6/accounts/acc-chk", token)

    fdx_validate(response.json(), "AccountWithDetailsentity")
    assert 1500.0 == response.json()["availableBalance"]


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "offset=a%20b", "offset=9x"])
def test_bad_paging_of_accounts_is_invalid_input(h, fdx_validate, query):
    """limit is 1..page_limit_max and offset a cursor this server issued."""
    _, token = h.grant(BASIC_ONLY)

    assert_fdx_error(h.get(f"/fdx/v6/accounts?{query}", token), 400, "401", fdx_validate)

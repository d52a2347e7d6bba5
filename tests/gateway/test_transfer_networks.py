"""PAYMENT_SUPPORT's asset transfer networks of an investment account."""

from __future__ import annotations

from tests.gateway.conftest import assert_fdx_error


def test_a_brokerage_account_lists_acats_and_dtc(alice, fdx_validate):
    """Schema-valid AssetTransferNetworkList with the full account number as identifier."""
    token = alice.grant({"TAXABLE": ["PAYMENT_SUPPORT"]})
    account = alice.accounts["TAXABLE"]

    response = alice.h.get(f"/fdx/v6/accounts/{account}/asset-transfer-networks", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "AssetTransferNetworkList")
    networks = response.json()["assetTransferNetworks"]
    assert ["US_ACATS", "US_DTC"] == [n["type"] for n in networks]
    assert all(n["identifierType"] == "ACCOUNT_NUMBER" for n in networks)


def test_a_checking_account_has_none(alice, fdx_validate):
    """Deposit accounts move money, not securities: an empty list."""
    token = alice.grant({"CHECKING": ["PAYMENT_SUPPORT"]})
    account = alice.accounts["CHECKING"]

    response = alice.h.get(f"/fdx/v6/accounts/{account}/asset-transfer-networks", token)

    assert {"assetTransferNetworks": []} == response.json()


def test_transfer_networks_obey_the_consent(alice, fdx_validate):
    """Outside the consent 404/701; without PAYMENT_SUPPORT 403/602."""
    token = alice.grant({"TAXABLE": ["ACCOUNT_BASIC"]})
    inside = alice.accounts["TAXABLE"]
    outside = alice.accounts["CHECKING"]

    assert_fdx_error(
        alice.h.get(f"/fdx/v6/accounts/{outside}/asset-transfer-networks", token),
        404,
        "701",
        fdx_validate,
    )
    assert_fdx_error(
        alice.h.get(f"/fdx/v6/accounts/{inside}/asset-transfer-networks", token),
        403,
        "602",
        fdx_validate,
    )


def test_an_adapter_without_transfer_networks_answers_501(h, fdx_validate):
    """The test bank implements no optional category: 501/1106, not a 500."""
    _, token = h.grant()

    response = h.get("/fdx/v6/accounts/acc-chk/asset-transfer-networks", token)

    assert_fdx_error(response, 501, "1106", fdx_validate)

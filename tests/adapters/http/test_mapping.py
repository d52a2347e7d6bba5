"""The reference dialect's mapping, core JSON → FDX, against recorded samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.http import mapping
from adapters.http.reference_core import (
    core_account,
    core_contact,
    core_customer,
    core_network,
    core_transaction,
)

SAMPLES = Path(__file__).with_name("samples")
ACCOUNTS = ["account-deposit", "account-card", "account-loan", "account-investment"]
PAGES = [f"transactions-{kind}" for kind in ("card", "deposit", "investment", "loan")]
SPECIFIC = {
    "DEPOSIT_ACCOUNT": ("DepositAccountentity", "DepositTransactionentity"),
    "LOC_ACCOUNT": ("LineofCreditAccountentity", "LineofCreditTransactionentity"),
    "LOAN_ACCOUNT": ("LoanAccountentity", "LoanTransactionentity"),
    "INVESTMENT_ACCOUNT": ("InvestmentAccountentity", "InvestmentTransactionentity"),
}


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", ACCOUNTS)
def test_core_accounts_map_to_the_recorded_fdx_account(name: str, fdx_validate) -> None:
    """Each recorded core account becomes exactly the FDX account recorded beside it."""
    recorded = sample(name)

    account = mapping.account(recorded["core"])

    assert recorded["fdx"] == account
    fdx_validate(account, "AccountWithDetailsentity")
    fdx_validate(account, SPECIFIC[account["accountCategory"]][0])


def test_the_full_account_number_becomes_a_masked_display() -> None:
    """The core's full number never reaches FDX: only ``****`` and its last four digits."""
    recorded = sample("account-deposit")
    number = recorded["core"]["number"]

    account = mapping.account(recorded["core"])

    assert account["accountNumberDisplay"] == "****" + number[-4:]
    assert number not in json.dumps(account)


def test_core_fields_not_in_the_map_are_dropped() -> None:
    """Unmapped core keys (a GL code, risk flags) never reach a recipient."""
    recorded = sample("account-deposit")
    assert "internal_gl_code" in recorded["core"]

    text = json.dumps(mapping.account(recorded["core"]))

    assert "1100-2204" not in text
    assert "kyc-refresh-due" not in text


@pytest.mark.parametrize("name", PAGES)
def test_core_transaction_pages_map_to_the_recorded_fdx_page(name: str, fdx_validate) -> None:
    """A recorded page of core transactions maps to the recorded FDX transactions and cursor."""
    recorded = sample(name)

    page = mapping.transactions(recorded["core"])

    assert recorded["fdx"]["transactions"] == list(page.items)
    assert (recorded["fdx"]["next_offset"], recorded["fdx"]["total"]) == (
        page.next_offset,
        page.total,
    )
    fdx_validate({"transactions": list(page.items)}, "Transactionsentity")
    for txn in page.items:
        fdx_validate(txn, SPECIFIC[txn["accountCategory"]][1])


def test_signed_minor_units_become_an_absolute_amount_and_a_direction() -> None:
    """-7536 in minor units is a DEBIT of 75.36; +120000 a CREDIT of 1200.00."""
    debit = mapping.transaction({"id": "t1", "amount_minor": -7536, "state": "booked"}, "X")
    credit = mapping.transaction({"id": "t2", "amount_minor": 120000, "state": "pending"}, "X")

    assert (75.36, "DEBIT", "POSTED") == (
        debit["amount"],
        debit["debitCreditMemo"],
        debit["status"],
    )
    assert (1200.0, "CREDIT", "PENDING") == (
        credit["amount"],
        credit["debitCreditMemo"],
        credit["status"],
    )


def test_pending_and_posted_twins_keep_distinct_ids_and_their_link() -> None:
    """The posted card purchase points at its authorization through referenceTransactionId."""
    page = mapping.transactions(sample("transactions-card")["core"])
    posted, pending = page.items[0], page.items[1]

    assert posted["transactionId"] != pending["transactionId"]
    assert posted["referenceTransactionId"] == pending["transactionId"]
    assert (posted["status"], pending["status"]) == ("POSTED", "PENDING")
    assert "postedTimestamp" not in pending


def test_customer_contact_networks_and_statements_map_to_their_samples(fdx_validate) -> None:
    """The other shapes map to their recorded FDX values too."""
    customer = sample("customer")
    contact = sample("contact-joint")
    networks = sample("payment-networks")
    statements = sample("statements")

    info = mapping.customer_info(customer["core"])
    holders = mapping.contact(contact["core"])
    found = mapping.payment_networks(networks["core"])
    listed = mapping.statements(statements["core"])

    assert customer["fdx"] == info
    assert contact["fdx"] == holders
    assert networks["fdx"]["paymentNetworks"] == list(found.items)
    assert statements["fdx"]["statements"] == list(listed.items)
    fdx_validate(info, "Customerentity")
    fdx_validate(holders, "AccountContactentity")
    fdx_validate({"paymentNetworks": list(found.items)}, "Arrayofaccountpaymentnetworks")
    fdx_validate({"statements": list(listed.items)}, "Anarrayofstatements")


def test_the_reference_core_is_the_inverse_of_the_mapping() -> None:
    """FDX → core (the reference core) → FDX (the mapping) gives back every recorded sample."""
    for name in ACCOUNTS:
        fdx = sample(name)["fdx"]
        assert fdx == mapping.account(core_account(fdx))
    for name in PAGES:
        for txn in sample(name)["fdx"]["transactions"]:
            assert txn == mapping.transaction(core_transaction(txn), txn["accountCategory"])
    info = sample("customer")["fdx"]
    assert info == mapping.customer_info(core_customer(info))
    contact = sample("contact-joint")["fdx"]
    assert contact == mapping.contact(core_contact(contact))
    for network in sample("payment-networks")["fdx"]["paymentNetworks"]:
        assert network == mapping.payment_network(core_network(network))


@pytest.mark.parametrize(
    "raw",
    [{"category": "spaceship", "state": "active"}, {"category": "deposit", "state": "lost"}],
    ids=["unknown-category", "unknown-status"],
)
def test_an_unknown_core_code_is_an_error_not_a_guess(raw: dict[str, Any]) -> None:
    """A code the dialect does not know raises (the adapter turns it into BankUnavailable)."""
    with pytest.raises(KeyError):
        mapping.account(raw)

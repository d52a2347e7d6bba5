"""The sandbox bank: deterministic, realistic FDX data behind the BankAdapter seam."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.base import BankAdapter, Page, PageRequest, Window
from adapters.errors import AccountNotFound, CustomerNotFound, StatementNotFound
from adapters.sandbox import SandboxBank
from adapters.sandbox.data import build, demo_consumers
from adapters.sandbox.setup import ROUTING_NUMBER

pytestmark = pytest.mark.anyio

TODAY = date(2026, 5, 14)
ROOT = Path(__file__).resolve().parents[2]
EVERYTHING = Window(date(2000, 1, 1), TODAY)


@pytest.fixture
def bank() -> SandboxBank:
    return SandboxBank(today=TODAY)


async def _login(bank: SandboxBank, who: str = "alice") -> str:
    customer = await bank.authenticate(who, f"sandbox-{who}")
    assert customer is not None
    return customer.customer_id


async def _by_type(
    bank: SandboxBank, customer_id: str, kind: str, status: str = "OPEN"
) -> dict[str, Any]:
    accounts = await bank.list_accounts(customer_id)
    return next(a for a in accounts if a["accountType"] == kind and a["status"] == status)


async def _all(bank: SandboxBank, customer_id: str, account_id: str, window: Window, limit: int):
    items: list[dict[str, Any]] = []
    offset, pages = None, 0
    while True:
        page = await bank.list_transactions(
            customer_id, account_id, window, PageRequest(offset=offset, limit=limit)
        )
        items.extend(page.items)
        pages += 1
        offset = page.next_offset
        if offset is None:
            return items, pages, page.total


def test_sandbox_bank_satisfies_the_adapter_protocol(bank: SandboxBank) -> None:
    """SandboxBank is a BankAdapter and calls itself "sandbox"."""
    adapter: BankAdapter = bank

    assert isinstance(adapter, BankAdapter)
    assert adapter.name == "sandbox"


def test_same_seed_and_day_give_identical_data() -> None:
    """Two banks built from the same seed and day agree on every account and transaction."""
    build.cache_clear()
    first = build(7, TODAY)
    build.cache_clear()
    second = build(7, TODAY)

    assert first.accounts.keys() == second.accounts.keys()
    for account_id, record in first.accounts.items():
        assert record.account == second.accounts[account_id].account
        assert record.transactions.records == second.accounts[account_id].transactions.records


def test_a_different_seed_gives_different_data() -> None:
    """Changing the seed changes ids and amounts."""
    one, other = build(1, TODAY), build(2, TODAY)

    assert set(one.accounts).isdisjoint(other.accounts)
    assert set(one.customers).isdisjoint(other.customers)


async def test_ids_are_stable_across_days_and_opaque(bank: SandboxBank) -> None:
    """Account ids do not change from one day to the next and reveal no account number."""
    customer_id = await _login(bank)
    tomorrow = SandboxBank(today=TODAY + timedelta(days=1))
    accounts = await bank.list_accounts(customer_id)
    later = await tomorrow.list_accounts(customer_id)

    assert [a["accountId"] for a in accounts] == [a["accountId"] for a in later]
    for account in accounts:
        assert account["accountId"].startswith("acc_")
        assert len(account["accountId"]) <= 256
        networks = await bank.list_payment_networks(
            customer_id, account["accountId"], PageRequest()
        )
        for network in networks.items:
            assert network["identifier"] not in account["accountId"]
            assert network["identifier"] not in json.dumps(account)
        assert "accountNumber" not in account
        assert "routingTransitNumber" not in account
        assert "micrNumber" not in account
    assert customer_id.startswith("cus_")
    assert "alice" not in customer_id


async def test_transactions_of_a_past_day_keep_their_ids_tomorrow(bank: SandboxBank) -> None:
    """A month-old day lists the same transactions, ids included, whatever today is."""
    customer_id = await _login(bank)
    checking = await _by_type(bank, customer_id, "CHECKING")
    day = Window(TODAY - timedelta(days=40), TODAY - timedelta(days=30))
    tomorrow = SandboxBank(today=TODAY + timedelta(days=1))

    now = await bank.list_transactions(customer_id, checking["accountId"], day, PageRequest())
    later = await tomorrow.list_transactions(customer_id, checking["accountId"], day, PageRequest())

    assert [t["transactionId"] for t in now.items] == [t["transactionId"] for t in later.items]
    assert len(now.items) > 5


async def test_every_account_has_at_least_24_months_of_history(bank: SandboxBank) -> None:
    """Transactions reach back 24 months and a few days, for every open account (§1033.211)."""
    customer_id = await _login(bank, "bob")
    edge = date(TODAY.year - 2, TODAY.month, TODAY.day) - timedelta(days=3)
    for account in await bank.list_accounts(customer_id):
        page = await bank.list_transactions(
            customer_id, account["accountId"], Window(date(2000, 1, 1), edge), PageRequest(limit=1)
        )
        assert page.total, account["accountType"]
        assert page.items[0]["accountId"] == account["accountId"]
        assert page.items[0]["accountCategory"] == account["accountCategory"]


async def test_customers_have_the_five_kinds_of_account(bank: SandboxBank) -> None:
    """Checking, savings, card, loan and investment for everyone, plus Carol's closed savings."""
    for who in ("alice", "bob", "carol"):
        customer_id = await _login(bank, who)
        accounts = await bank.list_accounts(customer_id)
        categories = sorted(a["accountCategory"] for a in accounts if a["status"] == "OPEN")
        assert categories == [
            "DEPOSIT_ACCOUNT",
            "DEPOSIT_ACCOUNT",
            "INVESTMENT_ACCOUNT",
            "LOAN_ACCOUNT",
            "LOC_ACCOUNT",
        ]
    closed = [a for a in accounts if a["status"] == "CLOSED"]
    assert [a["accountType"] for a in closed] == ["SAVINGS"]
    assert closed[0]["accountCloseDate"] < TODAY.isoformat()


async def test_pending_and_posted_twins_are_distinct_and_linked(bank: SandboxBank) -> None:
    """A settled card purchase shows both its authorization and its posting, linked by id."""
    customer_id = await _login(bank)
    card = await _by_type(bank, customer_id, "CREDITCARD")
    items, _, _ = await _all(
        bank, customer_id, card["accountId"], Window(TODAY - timedelta(days=14), TODAY), 100
    )
    pending = {t["transactionId"]: t for t in items if t["status"] == "PENDING"}
    twins = [t for t in items if t.get("referenceTransactionId") in pending]

    assert pending
    assert twins
    assert any(
        t["transactionTimestamp"][:10] >= str(TODAY - timedelta(days=3)) for t in pending.values()
    )
    for posted in twins:
        auth = pending[posted["referenceTransactionId"]]
        assert posted["status"] == "POSTED"
        assert posted["transactionId"] != auth["transactionId"]
        assert posted["description"] == auth["description"]
        assert posted["postedTimestamp"] > auth["transactionTimestamp"]
        assert "postedTimestamp" not in auth


async def test_transaction_ids_are_unique(bank: SandboxBank) -> None:
    """No two transactions anywhere in the bank share an id."""
    ids = [
        t["transactionId"]
        for record in build(2026, TODAY).accounts.values()
        for t in record.transactions.records
    ]

    assert len(ids) == len(set(ids))


async def test_window_edges_are_inclusive(bank: SandboxBank) -> None:
    """A one-day window returns exactly that day's transactions, newest first."""
    customer_id = await _login(bank)
    checking = await _by_type(bank, customer_id, "CHECKING")
    items, _, _ = await _all(bank, customer_id, checking["accountId"], EVERYTHING, 1000)

    def day(t: dict[str, Any]) -> str:
        return str(t.get("postedTimestamp") or t["transactionTimestamp"])[:10]

    target = date.fromisoformat(day(items[len(items) // 2]))
    page = await bank.list_transactions(
        customer_id, checking["accountId"], Window(target, target), PageRequest()
    )
    expected = [t for t in items if day(t) == target.isoformat()]

    assert list(page.items) == expected
    assert page.total == len(expected)
    assert [day(t) for t in items] == sorted((day(t) for t in items), reverse=True)


async def test_pagination_returns_every_item_exactly_once(bank: SandboxBank) -> None:
    """Walking next_offset across pages yields the whole window once, in order."""
    customer_id = await _login(bank, "carol")
    card = await _by_type(bank, customer_id, "CREDITCARD")
    window = Window(TODAY - timedelta(days=200), TODAY - timedelta(days=20))
    whole, _, total = await _all(bank, customer_id, card["accountId"], window, 10_000)
    paged, pages, _ = await _all(bank, customer_id, card["accountId"], window, 7)

    assert [t["transactionId"] for t in paged] == [t["transactionId"] for t in whole]
    assert total == len(whole)
    assert pages == -(-len(whole) // 7)


@pytest.mark.parametrize("offset", ["abc", "-1", "99999999", "1e3", "٣"])
async def test_a_foreign_offset_gives_an_empty_last_page(bank: SandboxBank, offset: str) -> None:
    """An offset the bank never issued selects nothing instead of failing."""
    customer_id = await _login(bank)
    checking = await _by_type(bank, customer_id, "CHECKING")

    page = await bank.list_transactions(
        customer_id, checking["accountId"], EVERYTHING, PageRequest(offset=offset)
    )

    assert page == Page(items=(), next_offset=None, total=page.total)
    assert page.total


async def test_deposit_transactions_cover_everyday_banking(bank: SandboxBank) -> None:
    """Checking has payroll, numbered checks, bill pay, transfers, card buys, fees, interest."""
    customer_id = await _login(bank)
    checking = await _by_type(bank, customer_id, "CHECKING")
    items, _, _ = await _all(bank, customer_id, checking["accountId"], EVERYTHING, 1000)
    kinds = {t["transactionType"] for t in items}

    assert {
        "DIRECTDEPOSIT",
        "CHECK",
        "BILLPAYMENT",
        "TRANSFER",
        "POSDEBIT",
        "FEE",
        "INTEREST",
    } <= kinds
    assert all(isinstance(t["checkNumber"], int) for t in items if t["transactionType"] == "CHECK")
    assert all(t["amount"] > 0 for t in items)
    assert any(t.get("payee") == "Trader Joe's" for t in items)


async def test_loan_and_investment_transactions_carry_their_details(bank: SandboxBank) -> None:
    """Loan payments split principal and interest; trades name the security, shares and price."""
    customer_id = await _login(bank, "bob")
    loan = await _by_type(bank, customer_id, "MORTGAGE")
    invest = await _by_type(bank, customer_id, "401K")
    payments, _, _ = await _all(bank, customer_id, loan["accountId"], EVERYTHING, 1000)
    trades, _, _ = await _all(bank, customer_id, invest["accountId"], EVERYTHING, 1000)

    details = payments[0]["paymentDetails"]
    assert details["principalAmount"] + details["interestAmount"] + details["escrowAmount"] == (
        pytest.approx(payments[0]["amount"])
    )
    bought = next(t for t in trades if t["transactionType"] == "PURCHASED")
    assert bought["symbol"] == "VFIAX"
    assert bought["shares"] * bought["price"] == pytest.approx(bought["amount"], abs=0.01)
    assert {"CONTRIBUTION", "PURCHASED", "DIVIDEND", "FEE"} <= {
        t["transactionType"] for t in trades
    }
    assert {t["inv401kSource"] for t in trades if t["transactionType"] == "CONTRIBUTION"} == {
        "PRETAX",
        "MATCH",
    }


async def test_a_brokerage_account_buys_sells_and_earns_dividends(bank: SandboxBank) -> None:
    """Alice's taxable account has cash in, buys, a yearly sale, dividends and holdings."""
    customer_id = await _login(bank)
    invest = await _by_type(bank, customer_id, "TAXABLE")
    trades, _, _ = await _all(bank, customer_id, invest["accountId"], EVERYTHING, 1000)
    held = sum(h["marketValue"] for h in invest["holdings"])

    assert {"TRANSFER", "PURCHASED", "SOLD", "DIVIDEND"} <= {t["transactionType"] for t in trades}
    assert invest["currentValue"] == pytest.approx(held + invest["availableCashBalance"], abs=0.05)
    assert {h["symbol"] for h in invest["holdings"]} == {"VTI", "VXUS", "BND"}


async def test_statements_cover_24_months_newest_first(bank: SandboxBank) -> None:
    """Checking has one statement per month for the last 24 complete months."""
    customer_id = await _login(bank)
    checking = await _by_type(bank, customer_id, "CHECKING")

    page = await bank.list_statements(customer_id, checking["accountId"], EVERYTHING, PageRequest())

    dates = [s["statementDate"] for s in page.items]
    assert len(dates) == 24
    assert dates == sorted(dates, reverse=True)
    assert dates[0] == "2026-04-30"
    assert dates[-1] == "2024-05-31"
    assert all(s["status"] == "AVAILABLE" and "links" not in s for s in page.items)


async def test_statement_window_filters_by_statement_date(bank: SandboxBank) -> None:
    """Only statements dated inside the window are listed."""
    customer_id = await _login(bank)
    card = await _by_type(bank, customer_id, "CREDITCARD")

    page = await bank.list_statements(
        customer_id, card["accountId"], Window(date(2025, 1, 31), date(2025, 3, 30)), PageRequest()
    )

    assert [s["statementDate"] for s in page.items] == ["2025-02-28", "2025-01-31"]


async def test_a_statement_is_a_real_pdf_of_its_period(bank: SandboxBank) -> None:
    """The statement document is a PDF naming the bank, the masked number and the period."""
    customer_id = await _login(bank, "bob")
    checking = await _by_type(bank, customer_id, "CHECKING")
    listed = await bank.list_statements(
        customer_id, checking["accountId"], EVERYTHING, PageRequest(limit=1)
    )
    statement = listed.items[0]

    document = await bank.get_statement(
        customer_id, checking["accountId"], statement["statementId"]
    )

    assert document.media_type == "application/pdf"
    assert document.content.startswith(b"%PDF-")
    assert document.content.rstrip().endswith(b"%%EOF")
    assert len(document.content) > 3_000
    assert b"Sandbox Bank" in document.content
    assert b"Bob Tanaka" in document.content
    assert checking["accountNumberDisplay"].encode() in document.content
    assert b"2026-04-01 to 2026-04-30" in document.content
    assert b"PAYROLL" in document.content


async def test_statement_balances_follow_the_ledger(bank: SandboxBank) -> None:
    """Each month's closing balance is the next month's opening balance."""
    record = build(2026, TODAY).accounts[
        (await _by_type(bank, await _login(bank), "SAVINGS"))["accountId"]
    ]
    periods = sorted(record.periods.values(), key=lambda p: p.start)

    for before, after in itertools.pairwise(periods):
        assert before.closing == after.opening


async def test_unknown_statement_is_not_found(bank: SandboxBank) -> None:
    """A statement id of another account raises StatementNotFound."""
    customer_id = await _login(bank)
    checking = await _by_type(bank, customer_id, "CHECKING")
    savings = await _by_type(bank, customer_id, "SAVINGS")
    other = await bank.list_statements(customer_id, savings["accountId"], EVERYTHING, PageRequest())

    with pytest.raises(StatementNotFound):
        await bank.get_statement(customer_id, checking["accountId"], other.items[0]["statementId"])


async def test_masked_numbers_end_in_the_real_last_four(bank: SandboxBank) -> None:
    """accountNumberDisplay ends in the last 4 digits of the payment-network account number."""
    customer_id = await _login(bank)
    for kind in ("CHECKING", "SAVINGS"):
        account = await _by_type(bank, customer_id, kind)
        page = await bank.list_payment_networks(customer_id, account["accountId"], PageRequest())

        assert [n["type"] for n in page.items] == ["US_ACH", "US_RTP"]
        for network in page.items:
            assert account["accountNumberDisplay"].endswith(network["identifier"][-4:])
            assert account["accountNumberDisplay"] != network["identifier"]
            assert network["bankId"] == ROUTING_NUMBER


def test_the_routing_number_passes_the_aba_checksum() -> None:
    """bankId is a 9-digit ABA routing number with a valid check digit."""
    digits = [int(c) for c in ROUTING_NUMBER]

    assert len(digits) == 9
    assert sum(d * w for d, w in zip(digits, (3, 7, 1) * 3, strict=True)) % 10 == 0


async def test_cards_and_loans_have_no_payment_networks(bank: SandboxBank) -> None:
    """Only open deposit accounts expose ACH coordinates."""
    customer_id = await _login(bank, "carol")
    for account in await bank.list_accounts(customer_id):
        page = await bank.list_payment_networks(customer_id, account["accountId"], PageRequest())
        open_deposit = (
            account["accountCategory"] == "DEPOSIT_ACCOUNT" and account["status"] == "OPEN"
        )
        assert bool(page.items) == open_deposit, account["accountType"]


async def test_authentication_accepts_only_the_right_pair(bank: SandboxBank) -> None:
    """Right credentials give the customer; a wrong password or user gives the same None."""
    alice = await bank.authenticate("alice", "sandbox-alice")

    assert alice is not None
    assert alice.display_name == "Alice Johnson"
    assert await bank.authenticate("alice", "sandbox-bob") is None
    assert await bank.authenticate("mallory", "sandbox-alice") is None
    assert await bank.authenticate("alice", "") is None
    assert await bank.authenticate("", "") is None
    assert await bank.get_customer(alice.customer_id) == alice


async def test_authentication_compares_in_constant_time(
    bank: SandboxBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Known and unknown usernames alike go through hmac.compare_digest."""
    import adapters.sandbox.bank as module

    calls: list[tuple[bytes, bytes]] = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return a == b

    monkeypatch.setattr(module.hmac, "compare_digest", spy)  # type: ignore[attr-defined]

    await bank.authenticate("alice", "nope")
    await bank.authenticate("nobody", "nope")

    assert len(calls) == 2


async def test_another_customers_account_is_not_found(bank: SandboxBank) -> None:
    """Bob cannot read Alice's account; the error is the one for a missing account."""
    alice, bob = await _login(bank), await _login(bank, "bob")
    checking = await _by_type(bank, alice, "CHECKING")
    calls = (
        bank.get_account(bob, checking["accountId"]),
        bank.list_transactions(bob, checking["accountId"], EVERYTHING, PageRequest()),
        bank.get_contact(bob, checking["accountId"]),
        bank.list_payment_networks(bob, checking["accountId"], PageRequest()),
        bank.list_statements(bob, checking["accountId"], EVERYTHING, PageRequest()),
        bank.get_statement(bob, checking["accountId"], "stm_x"),
        bank.get_account(bob, "acc_does_not_exist"),
    )

    for call in calls:
        with pytest.raises(AccountNotFound):
            await call


async def test_unknown_customer_is_not_found(bank: SandboxBank) -> None:
    """An unknown customer id raises CustomerNotFound everywhere."""
    with pytest.raises(CustomerNotFound):
        await bank.get_customer("cus_nobody")
    with pytest.raises(CustomerNotFound):
        await bank.list_accounts("cus_nobody")
    with pytest.raises(CustomerNotFound):
        await bank.get_customer_info("cus_nobody")


async def test_contact_lists_a_joint_holder_on_bobs_savings(bank: SandboxBank) -> None:
    """Bob's savings has a PRIMARY_JOINT holder; his checking only him."""
    customer_id = await _login(bank, "bob")
    savings = await _by_type(bank, customer_id, "SAVINGS")
    checking = await _by_type(bank, customer_id, "CHECKING")

    joint = await bank.get_contact(customer_id, savings["accountId"])
    sole = await bank.get_contact(customer_id, checking["accountId"])

    assert [h["relationship"] for h in joint["holders"]] == ["PRIMARY", "PRIMARY_JOINT"]
    assert [h["name"]["first"] for h in sole["holders"]] == ["Bob"]


async def test_customer_info_masks_the_tax_id_and_lists_every_account(bank: SandboxBank) -> None:
    """The FDX Customer shows only the last 4 of the tax id and all accounts, closed included."""
    customer_id = await _login(bank, "carol")
    info = await bank.get_customer_info(customer_id)
    accounts = await bank.list_accounts(customer_id)

    assert info["taxId"] == "*****1968"
    assert [a["accountId"] for a in info["accounts"]] == [a["accountId"] for a in accounts]
    assert info["customerId"] == customer_id


async def test_loan_and_card_balances_are_consistent(bank: SandboxBank) -> None:
    """Available credit is the line less what is owed and held; loans shrink with payments."""
    customer_id = await _login(bank)
    card = await _by_type(bank, customer_id, "CREDITCARD")
    loan = await _by_type(bank, customer_id, "AUTOLOAN")

    assert card["availableCredit"] <= card["creditLine"] - card["currentBalance"]
    assert 0 < loan["principalBalance"] < loan["originalPrincipal"]
    assert loan["nextPaymentDate"] > TODAY.isoformat()


def test_demo_consumers_file_matches_the_bank() -> None:
    """config/demo/consumers.json lists the logins and accounts the default bank really has."""
    published = json.loads((ROOT / "config" / "demo" / "consumers.json").read_text("utf-8"))

    assert published == demo_consumers(2026, TODAY)


def test_statement_text_is_folded_to_ascii() -> None:
    """Helvetica covers Latin-1 only, so accents are stripped and other scripts dropped."""
    from adapters.sandbox.pdf import ascii_text

    assert ascii_text("Café  田中 ボブ Zoë") == "Cafe Zoe"


async def test_bobs_nickname_travels_as_unicode(bank: SandboxBank) -> None:
    """Account nicknames keep non-ASCII text; only the PDF folds it."""
    customer_id = await _login(bank, "bob")
    checking = await _by_type(bank, customer_id, "CHECKING")

    assert checking["nickname"] == "田中 ボブ Checking"


SPECIFIC = {
    "DEPOSIT_ACCOUNT": ("DepositAccountentity", "DepositTransactionentity"),
    "LOC_ACCOUNT": ("LineofCreditAccountentity", "LineofCreditTransactionentity"),
    "LOAN_ACCOUNT": ("LoanAccountentity", "LoanTransactionentity"),
    "INVESTMENT_ACCOUNT": ("InvestmentAccountentity", "InvestmentTransactionentity"),
}


async def test_objects_validate_against_their_category_schema(
    bank: SandboxBank, fdx_validate
) -> None:
    """Each account and transaction also fits the schema of its own category, enums included."""
    for who in ("alice", "bob", "carol"):
        customer_id = await _login(bank, who)
        for account in await bank.list_accounts(customer_id):
            account_schema, transaction_schema = SPECIFIC[account["accountCategory"]]
            fdx_validate(account, account_schema)
            items, _, _ = await _all(bank, customer_id, account["accountId"], EVERYTHING, 5000)
            kinds = {t["transactionType"]: t for t in items}
            for txn in kinds.values():
                fdx_validate(txn, transaction_schema)


async def test_fdx_shapes_validate(bank: SandboxBank, fdx_validate) -> None:
    """Every object validates against the FDX 6.2 schemas."""
    for who in ("alice", "bob", "carol"):
        customer_id = await _login(bank, who)
        fdx_validate(await bank.get_customer_info(customer_id), "Customerentity")
        for account in await bank.list_accounts(customer_id):
            account_id = account["accountId"]
            fdx_validate(account, "AccountWithDetailsentity")
            items, _, _ = await _all(bank, customer_id, account_id, EVERYTHING, 5000)
            fdx_validate({"transactions": items}, "Transactionsentity")
            statements = await bank.list_statements(
                customer_id, account_id, EVERYTHING, PageRequest()
            )
            fdx_validate({"statements": list(statements.items)}, "Anarrayofstatements")
            fdx_validate(await bank.get_contact(customer_id, account_id), "AccountContactentity")
            networks = await bank.list_payment_networks(customer_id, account_id, PageRequest())
            fdx_validate({"paymentNetworks": list(networks.items)}, "Arrayofaccountpaymentnetworks")

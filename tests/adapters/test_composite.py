"""CompositeBank: several adapters as one bank, with opaque ids and calls routed to the owner."""

from __future__ import annotations

import json
from datetime import date

import pytest

from adapters.base import BankAdapter, PageRequest, Window
from adapters.composite import CompositeBank
from adapters.errors import AccountNotFound, BankUnavailable
from adapters.sandbox import SandboxBank
from adapters.sandbox.faults import FaultyBank, Rule

pytestmark = pytest.mark.anyio

TODAY = date(2026, 5, 14)
EVERYTHING = Window(date(2000, 1, 1), TODAY)


def composite(key: bytes = b"k1", cards: BankAdapter | None = None) -> CompositeBank:
    # Both members are the same synthetic bank: every native id exists twice, the worst case.
    members = {"deposits": SandboxBank(today=TODAY), "cards": cards or SandboxBank(today=TODAY)}
    return CompositeBank(members, "deposits", id_key=key)


async def _alice(bank: BankAdapter) -> str:
    customer = await bank.authenticate("alice", "sandbox-alice")
    assert customer is not None
    return customer.customer_id


async def test_a_composite_is_a_bank_adapter() -> None:
    """CompositeBank satisfies the Protocol."""
    bank: BankAdapter = composite()

    assert isinstance(bank, BankAdapter)


async def test_accounts_merge_with_opaque_collision_free_ids() -> None:
    """Two members with the same native ids give twice as many accounts, all ids distinct and
    revealing neither the member nor the native id."""
    bank, sandbox = composite(), SandboxBank(today=TODAY)
    cid = await _alice(bank)
    native = [a["accountId"] for a in await sandbox.list_accounts(cid)]

    ids = [a["accountId"] for a in await bank.list_accounts(cid)]

    assert len(ids) == 2 * len(native) == len(set(ids))
    for account_id in ids:
        assert account_id.startswith("acc_")
        assert len(account_id) == 28
        assert not any(n in account_id for n in native)
        assert "deposits" not in account_id
        assert "cards" not in account_id


async def test_ids_are_stable_across_instances_and_change_with_the_key() -> None:
    """The same key and labels give the same ids after a restart; another key, other ids."""
    cid = await _alice(composite())

    first = [a["accountId"] for a in await composite().list_accounts(cid)]
    again = [a["accountId"] for a in await composite().list_accounts(cid)]
    other = [a["accountId"] for a in await composite(b"k2").list_accounts(cid)]

    assert first == again
    assert set(first).isdisjoint(other)


async def test_each_call_goes_to_the_owner_with_the_composite_id() -> None:
    """Transactions of a cards account come from the cards member (deposits would fail them),
    relabelled with the composite id."""
    cards = SandboxBank(today=TODAY)
    refuses = Rule(methods=frozenset({"list_transactions"}), error="unavailable")
    deposits = FaultyBank(SandboxBank(today=TODAY), [refuses])
    bank = CompositeBank({"deposits": deposits, "cards": cards}, "deposits", id_key=b"k")
    cid = await _alice(bank)
    listed = await bank.list_accounts(cid)
    owned = {a["accountId"]: bank._owners[a["accountId"]] for a in listed}
    account_id, (label, native) = next((k, v) for k, v in owned.items() if v[0] == "cards")

    page = await bank.list_transactions(cid, account_id, EVERYTHING, PageRequest(limit=5))
    expected = await cards.list_transactions(cid, native, EVERYTHING, PageRequest(limit=5))

    assert label == "cards"
    assert [t["transactionId"] for t in page.items] == [t["transactionId"] for t in expected.items]
    assert {t["accountId"] for t in page.items} == {account_id}
    assert (await bank.get_account(cid, account_id))["accountId"] == account_id


async def test_a_fresh_instance_finds_an_id_it_never_listed() -> None:
    """Any instance can serve any id: a miss lists the customer's accounts and looks again."""
    cid = await _alice(composite())
    account_id = (await composite().list_accounts(cid))[-1]["accountId"]

    fresh = composite()
    account = await fresh.get_account(cid, account_id)

    assert account["accountId"] == account_id


@pytest.mark.parametrize(
    "account_id",
    ["acc_000000000000000000000000", "nope"],
    ids=["well-formed-unknown", "not-a-composite-id"],
)
async def test_unknown_ids_are_not_found(account_id: str) -> None:
    """An id no member owns is AccountNotFound."""
    bank = composite()
    cid = await _alice(bank)

    with pytest.raises(AccountNotFound):
        await bank.get_contact(cid, account_id)


async def test_native_ids_are_not_accepted() -> None:
    """A member's own id does not reach its account through the composite."""
    bank, sandbox = composite(), SandboxBank(today=TODAY)
    cid = await _alice(bank)
    native = (await sandbox.list_accounts(cid))[0]["accountId"]

    with pytest.raises(AccountNotFound):
        await bank.get_account(cid, native)


async def test_a_member_that_is_down_fails_the_list_but_not_the_others_accounts() -> None:
    """Cards down: the merged list is 503 (never a silent partial list), deposits still serve."""
    down = FaultyBank(SandboxBank(today=TODAY), [Rule(error="unavailable")])
    warm = composite(cards=down)
    cold = composite(cards=down)
    cid = await _alice(warm)
    healthy = composite()
    deposits_id = next(
        a["accountId"]
        for a in await healthy.list_accounts(cid)
        if healthy._owners[a["accountId"]][0] == "deposits"
    )

    with pytest.raises(BankUnavailable):
        await warm.list_accounts(cid)
    served = await cold.list_transactions(cid, deposits_id, EVERYTHING, PageRequest(limit=2))

    assert len(served.items) == 2


async def test_an_unknown_id_while_a_member_is_down_is_unavailable_not_missing() -> None:
    """The down member may own the id: say 503, never a false 404."""
    down = FaultyBank(SandboxBank(today=TODAY), [Rule(error="unavailable")])
    bank = composite(cards=down)
    cid = await _alice(bank)

    with pytest.raises(BankUnavailable):
        await bank.get_account(cid, "acc_000000000000000000000000")


async def test_sign_in_and_customer_info_come_from_the_primary_with_every_account() -> None:
    """The primary authenticates; customer info lists every member's accounts by composite id."""
    bank = composite()
    cid = await _alice(bank)

    info = await bank.get_customer_info(cid)
    listed = [a["accountId"] for a in await bank.list_accounts(cid)]

    assert [a["accountId"] for a in info["accounts"]] == listed
    assert info["customerId"] == cid
    assert all(a.get("relationship") for a in info["accounts"][: len(listed) // 2])
    assert "acc_" in json.dumps(info)


def test_options_name_the_primary_and_the_key() -> None:
    """[composite] primary and id_key; anything else is refused."""
    members = {"a": SandboxBank(today=TODAY), "b": SandboxBank(today=TODAY)}

    bank = CompositeBank.from_options(members, "a", {"primary": "b", "id_key": "secret"})

    assert bank.primary == "b"
    with pytest.raises(ValueError, match="unknown option"):
        CompositeBank.from_options(members, "a", {"colour": "red"})
    with pytest.raises(ValueError, match="not a member"):
        CompositeBank(members, "c")

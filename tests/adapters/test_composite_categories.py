"""CompositeBank merges the optional categories over the members that serve them."""

from __future__ import annotations

from datetime import date

import pytest

from adapters import capability
from adapters.base import PageRequest, Window
from adapters.composite import CompositeBank
from adapters.errors import RewardProgramNotFound, TaxFormNotFound
from adapters.sandbox import SandboxBank
from tests.adapters.test_composite import TODAY, _alice, composite
from tests.gateway.fakes import FakeBank

pytestmark = pytest.mark.anyio

ALL_TIME = Window(date.min, date.max)


async def _accounts(bank: CompositeBank, cid: str) -> list[str]:
    return [a["accountId"] for a in await bank.list_accounts(cid)]


async def test_a_category_is_served_when_any_member_serves_it() -> None:
    """Sandbox + a bank with no optional category: all five, from the sandbox only."""
    bank = CompositeBank(
        {"core": FakeBank(), "sandbox": SandboxBank(today=TODAY)}, "core", id_key=b"k"
    )
    none = CompositeBank({"core": FakeBank()}, "core")

    assert capability.ALL == capability.categories(bank)
    assert ["sandbox"] == bank.by_category[capability.BILLS]
    assert frozenset() == capability.categories(none)


async def test_payments_merge_with_composite_account_ids_page_by_page() -> None:
    """Both members' payments, every fromAccountId a composite id, no page repeating another."""
    bank = composite()
    cid = await _alice(bank)
    accounts = await _accounts(bank, cid)

    seen: list[dict[str, object]] = []
    page = PageRequest(limit=7)
    while True:
        found = await bank.list_payments(cid, accounts, ALL_TIME, page)
        seen.extend(found.items)
        if found.next_offset is None:
            break
        page = PageRequest(found.next_offset, 7)

    single = await SandboxBank(today=TODAY).list_payments(
        cid, list(SandboxBank(today=TODAY).data.customers[cid].account_ids), ALL_TIME,
        PageRequest(limit=500),
    )  # fmt: skip
    assert 2 * len(single.items) == len(seen)
    assert {p["fromAccountId"] for p in seen} <= set(accounts)
    assert len({(p["fromAccountId"], p["paymentId"]) for p in seen}) == len(seen)


async def test_only_the_consented_accounts_members_are_asked() -> None:
    """The deposits member's checking only: its bills, none of the cards member's."""
    bank = composite()
    cid = await _alice(bank)
    merged = await bank.list_accounts(cid)
    checking = next(a["accountId"] for a in merged if a["accountType"] == "CHECKING")

    found = await bank.list_payments(cid, [checking], ALL_TIME, PageRequest(limit=500))

    assert found.items
    assert {checking} == {p["fromAccountId"] for p in found.items}


async def test_rewards_tax_images_and_networks_route_to_their_member() -> None:
    """Programs by id, tax forms with composite account ids, an image and networks by account."""
    bank = composite()
    cid = await _alice(bank)
    accounts = await _accounts(bank, cid)
    programs = await bank.list_reward_programs(cid, PageRequest())
    program = programs.items[0]
    forms = await bank.list_tax_forms(cid, accounts, None, PageRequest(limit=50))
    form = forms.items[0]

    assert set(program["memberships"][0]["accountIds"]) <= set(accounts)
    assert program == await bank.get_reward_program(cid, program["rewardProgramId"])
    assert (await bank.list_reward_categories(cid, program["rewardProgramId"], PageRequest())).items
    assert all(
        body["accountId"] in accounts for f in forms.items for body in f["forms"][0].values()
    )
    assert form == await bank.get_tax_form(cid, accounts, form["taxStatementId"])
    pdf = await bank.get_tax_form_pdf(cid, accounts, form["taxStatementId"])
    assert pdf.content.startswith(b"%PDF-")
    with pytest.raises(RewardProgramNotFound):
        await bank.get_reward_program(cid, "rwd_nope")
    with pytest.raises(TaxFormNotFound):
        await bank.get_tax_form(cid, accounts, "tax_nope")
    merged = await bank.list_accounts(cid)
    brokerage = next(a["accountId"] for a in merged if a["accountType"] == "TAXABLE")
    assert (await bank.list_asset_transfer_networks(cid, brokerage))[0]["type"] == "US_ACATS"
    checking = next(a["accountId"] for a in merged if a["accountType"] == "CHECKING")
    recent = Window(date(2026, 1, 1), TODAY)
    txns = await bank.list_transactions(cid, checking, recent, PageRequest(limit=500))
    image_id = next(t["imageIds"][0] for t in txns.items if t.get("imageIds"))
    image = await bank.get_transaction_image(cid, checking, image_id)
    assert image.content.startswith(b"\x89PNG")

"""HttpBank's optional categories against the reference core over the sandbox: every object
equals the sandbox's own, through HTTP and the reference dialect, and errors keep their FDX code."""

from __future__ import annotations

from datetime import date

import pytest

from adapters import capability
from adapters.base import PageRequest, Window
from adapters.errors import (
    ImageNotFound,
    RecurringPaymentNotFound,
    RewardProgramNotFound,
    TaxFormNotFound,
)
from adapters.http.dialect import CoreDialect
from adapters.http.mapping import DIALECT
from tests.adapters.http.conftest import Core

pytestmark = pytest.mark.anyio

ALL_TIME = Window(date.min, date.max)


async def test_the_reference_dialect_serves_every_category(core: Core) -> None:
    """The capability the gateway reads at start-up: all five, from the dialect's mappings."""
    assert capability.ALL == capability.categories(core.adapter())


async def test_a_dialect_without_mappings_serves_none(core: Core) -> None:
    """A core described without them: the adapter says so, and the gateway withholds them."""
    bare = CoreDialect(**{
        f: getattr(DIALECT, f)
        for f in ("login_body", "customer", "customer_info", "accounts", "account",
                  "transactions", "contact", "payment_networks", "statements", "window_query",
                  "page_query", "paths", "errors")
    })  # fmt: skip

    assert frozenset() == capability.categories(core.adapter(dialect=bare))
    assert {"BILLS", "REWARDS", "IMAGES", "TAX"} == capability.withheld_clusters(
        core.adapter(dialect=bare)
    )


async def test_every_category_answers_what_the_sandbox_answers(core: Core) -> None:
    """Bills, rewards, images, tax forms and transfer networks, object for object."""
    http, sandbox = core.adapter(), core.bank
    for who in ("alice", "carol"):
        customer = await sandbox.authenticate(who, f"sandbox-{who}")
        assert customer is not None
        cid = customer.customer_id
        accounts = [a["accountId"] for a in await sandbox.list_accounts(cid)]
        page = PageRequest(limit=5)

        mine = await sandbox.list_payments(cid, accounts, ALL_TIME, page)
        theirs = await http.list_payments(cid, accounts, ALL_TIME, page)
        assert (list(mine.items), mine.next_offset) == (list(theirs.items), theirs.next_offset)
        recurring = await http.list_recurring_payments(cid, accounts, page)
        assert list(recurring.items) == list(
            (await sandbox.list_recurring_payments(cid, accounts, page)).items
        )
        rid = recurring.items[0]["recurringPaymentId"]
        assert list(
            (
                await sandbox.list_recurring_payment_payments(cid, rid, accounts, ALL_TIME, page)
            ).items
        ) == list(
            (await http.list_recurring_payment_payments(cid, rid, accounts, ALL_TIME, page)).items
        )

        programs = await http.list_reward_programs(cid, page)
        assert list(programs.items) == list((await sandbox.list_reward_programs(cid, page)).items)
        pid = programs.items[0]["rewardProgramId"]
        assert await sandbox.get_reward_program(cid, pid) == await http.get_reward_program(cid, pid)
        assert list((await sandbox.list_reward_categories(cid, pid, page)).items) == list(
            (await http.list_reward_categories(cid, pid, page)).items
        )

        for year in (None, date.today().year - 1):
            assert list((await sandbox.list_tax_forms(cid, accounts, year, page)).items) == list(
                (await http.list_tax_forms(cid, accounts, year, page)).items
            )
        forms = (await sandbox.list_tax_forms(cid, accounts, None, page)).items
        fid = forms[0]["taxStatementId"]
        assert await sandbox.get_tax_form(cid, accounts, fid) == await http.get_tax_form(
            cid, accounts, fid
        )
        pdf = await http.get_tax_form_pdf(cid, accounts, fid)
        assert (await sandbox.get_tax_form_pdf(cid, accounts, fid)).content == pdf.content

        for aid in accounts:
            assert list(await sandbox.list_asset_transfer_networks(cid, aid)) == list(
                await http.list_asset_transfer_networks(cid, aid)
            )


async def test_a_check_image_arrives_byte_for_byte(core: Core) -> None:
    """Its media type and transaction date from the metadata, the PNG from the content."""
    http, sandbox = core.adapter(), core.bank
    customer = await sandbox.authenticate("alice", "sandbox-alice")
    assert customer is not None
    record = sandbox.data.customers[customer.customer_id]
    checking = next(a for a in record.account_ids if sandbox.data.accounts[a].images)
    image_id = next(iter(sandbox.data.accounts[checking].images))

    got = await http.get_transaction_image(customer.customer_id, checking, image_id)

    assert got == await sandbox.get_transaction_image(customer.customer_id, checking, image_id)
    assert "image/png" == got.media_type


async def test_unknown_ids_keep_their_fdx_meaning(core: Core) -> None:
    """A 404 from the core becomes the error of the thing asked for (806, 1101, 1103, 1200)."""
    http = core.adapter()
    customer = await core.bank.authenticate("alice", "sandbox-alice")
    assert customer is not None
    cid = customer.customer_id
    accounts = list(core.bank.data.customers[cid].account_ids)

    with pytest.raises(RecurringPaymentNotFound):
        await http.list_recurring_payment_payments(cid, "rcp_x", accounts, ALL_TIME, PageRequest())
    with pytest.raises(RewardProgramNotFound):
        await http.get_reward_program(cid, "rwd_x")
    with pytest.raises(ImageNotFound):
        await http.get_transaction_image(cid, accounts[0], "img_x")
    with pytest.raises(TaxFormNotFound):
        await http.get_tax_form(cid, accounts, "tax_x")

"""Checks of the optional categories (adapters/capability.py): one per category, skipped when
the adapter says it does not serve it.

Each checks what a recipient relies on: FDX 6.2 schemas (when the document is at hand), ids
stable between two calls, pages that give every item once, answers limited to the accounts
asked about, the tax-year filter, images whose bytes are of their stated type, and the FDX
error of an unknown id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from adapters import capability
from adapters.base import FdxObject, Page, PageRequest, Window
from adapters.conformance.checks import SMALL_PAGE, UNKNOWN, Skip, Subject, check, day_of
from adapters.conformance.schemas import validator
from adapters.errors import (
    AccountNotFound,
    ImageNotFound,
    RecurringPaymentNotFound,
    RewardProgramNotFound,
    TaxFormNotFound,
)

ALL_TIME = Window(date.min, date.max)
MAX_IMAGES = 6  # fetched per account: enough to see each kind, few enough to stay quick
# FDX 6.2 getAccountTransactionImages media types and the bytes each file starts with.
MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
}
Lister = Callable[[PageRequest], Awaitable[Page[FdxObject]]]


def _served(s: Subject, category: str) -> None:
    if category not in capability.categories(s.adapter):
        raise Skip(f"the adapter does not serve {category} (its clusters are withheld)")


def _expect(s: Subject, problems: list[str], value: Any, schema: str) -> int:
    if s.spec is None:
        return 0
    problems.extend(validator(s.spec)(value, schema))
    return 1


async def _walk(listing: Lister, key: str, problems: list[str], what: str) -> list[FdxObject]:
    """Every item by pages of SMALL_PAGE, compared with one big page: each once, in order."""
    whole = list((await listing(PageRequest(limit=10_000))).items)
    walked: list[FdxObject] = []
    offset: str | None = None
    for _ in range(1000):
        page = await listing(PageRequest(offset, SMALL_PAGE))
        if len(page.items) > SMALL_PAGE:
            problems.append(f"{what}: a page holds more than its limit")
        walked.extend(page.items)
        offset = page.next_offset
        if offset is None or len(walked) > len(whole) + SMALL_PAGE:
            break
    if [i.get(key) for i in walked] != [i.get(key) for i in whole]:
        problems.append(f"{what}: pages of {SMALL_PAGE} do not give the whole list once, in order")
    again = list((await listing(PageRequest(limit=10_000))).items)
    if [i.get(key) for i in again] != [i.get(key) for i in whole]:
        problems.append(f"{what}: {key}s change between two calls")
    return whole


@check("bills")
async def _bills(s: Subject, problems: list[str]) -> str:
    _served(s, capability.BILLS)
    bank = capability.bills(s.adapter)
    cid = (await s.customer()).customer_id
    accounts = [a["accountId"] for a in await s.accounts()]
    payments = await _walk(
        lambda p: bank.list_payments(cid, accounts, ALL_TIME, p), "paymentId", problems, "payments"
    )
    recurring = await _walk(
        lambda p: bank.list_recurring_payments(cid, accounts, p),
        "recurringPaymentId",
        problems,
        "recurring payments",
    )
    checked = _expect(s, problems, {"payments": payments}, "Paymentsentity")
    checked += _expect(s, problems, {"recurringPayments": recurring}, "RecurringPaymentsentity")
    for p in payments:
        if p.get("fromAccountId") not in accounts:
            problems.append(f"payment {p.get('paymentId')}: from an account not asked about")
    if payments:
        source = str(payments[0]["fromAccountId"])
        others = [a for a in accounts if a != source]
        narrowed = await bank.list_payments(cid, others, ALL_TIME, PageRequest(limit=10_000))
        if any(p.get("fromAccountId") == source for p in narrowed.items):
            problems.append("list_payments answers for an account it was not given")
        day = date.fromisoformat(str(payments[0]["dueDate"]))
        window = await bank.list_payments(cid, accounts, Window(day, day), PageRequest())
        if any(p.get("dueDate") != day.isoformat() for p in window.items) or not window.items:
            problems.append("list_payments does not keep to the dueDate window")
    for r in recurring:
        rid = str(r["recurringPaymentId"])
        spawned = await bank.list_recurring_payment_payments(
            cid, rid, accounts, ALL_TIME, PageRequest(limit=10_000)
        )
        if any(p.get("recurringPaymentId") != rid for p in spawned.items):
            problems.append(f"recurring payment {rid}: lists another's payments")
    try:
        await bank.list_recurring_payment_payments(cid, UNKNOWN, accounts, ALL_TIME, PageRequest())
        problems.append("an unknown recurring payment was answered (expected 806)")
    except RecurringPaymentNotFound:
        pass
    return f"{len(payments)} payment(s), {len(recurring)} recurring; {checked} schema check(s)"


@check("rewards")
async def _rewards(s: Subject, problems: list[str]) -> str:
    _served(s, capability.REWARDS)
    bank = capability.rewards(s.adapter)
    cid = (await s.customer()).customer_id
    programs = await _walk(
        lambda p: bank.list_reward_programs(cid, p), "rewardProgramId", problems, "programs"
    )
    checked = _expect(s, problems, {"rewardPrograms": programs}, "RewardProgramsentity")
    for program in programs:
        pid = str(program["rewardProgramId"])
        if await bank.get_reward_program(cid, pid) != program:
            problems.append(f"program {pid}: get_reward_program and the list disagree")
        categories = await _walk(
            _categories_of(bank, cid, pid), "categoryId", problems, f"program {pid} categories"
        )
        checked += _expect(s, problems, {"rewardCategories": categories}, "RewardCategoriesentity")
    try:
        await bank.get_reward_program(cid, UNKNOWN)
        problems.append("an unknown reward program was answered (expected 1101)")
    except RewardProgramNotFound:
        pass
    return f"{len(programs)} program(s) with their categories; {checked} schema check(s)"


def _categories_of(bank: Any, cid: str, program_id: str) -> Lister:
    async def listing(page: PageRequest) -> Page[FdxObject]:
        found: Page[FdxObject] = await bank.list_reward_categories(cid, program_id, page)
        return found

    return listing


@check("images")
async def _images(s: Subject, problems: list[str]) -> str:
    _served(s, capability.IMAGES)
    bank = capability.images(s.adapter)
    cid = (await s.customer()).customer_id
    fetched = 0
    for a in await s.accounts():
        aid = a["accountId"]
        with_images = [t for t in await s.history(aid) if t.get("imageIds")]
        for txn in with_images[:MAX_IMAGES]:
            for image_id in txn["imageIds"]:
                image = await bank.get_transaction_image(cid, aid, str(image_id))
                fetched += 1
                starts = MAGIC.get(image.media_type)
                if starts is None:
                    problems.append(f"image {image_id}: media type {image.media_type!r}")
                elif not image.content.startswith(starts):
                    problems.append(f"image {image_id}: bytes are not {image.media_type}")
                if image.transaction_date != day_of(txn):
                    problems.append(f"image {image_id}: dated unlike its transaction")
        try:
            await bank.get_transaction_image(cid, aid, UNKNOWN)
            problems.append(f"{aid}: an unknown image was answered (expected 1103)")
        except ImageNotFound:
            pass
    return f"{fetched} image(s): types FDX lists, bytes of that type, dated as the transaction"


@check("tax-forms")
async def _tax_forms(s: Subject, problems: list[str]) -> str:
    _served(s, capability.TAX)
    bank = capability.tax_forms(s.adapter)
    cid = (await s.customer()).customer_id
    accounts = [a["accountId"] for a in await s.accounts()]
    forms = await _walk(
        lambda p: bank.list_tax_forms(cid, accounts, None, p), "taxStatementId", problems, "forms"
    )
    checked = _expect(s, problems, {"statements": forms}, "TaxStatementList")
    for year in {f.get("taxYear") for f in forms}:
        assert isinstance(year, int)
        kept = await bank.list_tax_forms(cid, accounts, year, PageRequest(limit=10_000))
        expected = [f["taxStatementId"] for f in forms if f.get("taxYear") == year]
        if [f.get("taxStatementId") for f in kept.items] != expected:
            problems.append(f"taxYear {year}: the filter gives other forms")
    for form in forms:
        fid = str(form["taxStatementId"])
        if await bank.get_tax_form(cid, accounts, fid) != form:
            problems.append(f"tax form {fid}: get_tax_form and the list disagree")
        pdf = await bank.get_tax_form_pdf(cid, accounts, fid)
        if not pdf.content.startswith(b"%PDF-"):
            problems.append(f"tax form {fid}: its PDF is not a PDF")
        owners = _form_accounts(form)
        if not owners <= set(accounts):
            problems.append(f"tax form {fid}: names an account not asked about")
        rest = [a for a in accounts if a not in owners]
        if any(f.get("taxStatementId") == fid for f in (await _all_tax(bank, cid, rest))):
            problems.append(f"tax form {fid}: listed without its accounts")
    try:
        await bank.get_tax_form(cid, accounts, UNKNOWN)
        problems.append("an unknown tax form was answered (expected 1200)")
    except TaxFormNotFound:
        pass
    return f"{len(forms)} form(s), year filter and PDFs; {checked} schema check(s)"


async def _all_tax(bank: Any, cid: str, accounts: Sequence[str]) -> list[FdxObject]:
    return list((await bank.list_tax_forms(cid, accounts, None, PageRequest(limit=10_000))).items)


def _form_accounts(form: FdxObject) -> set[str]:
    return {
        str(body.get("accountId"))
        for f in form.get("forms", ())
        if isinstance(f, dict)
        for body in f.values()
        if isinstance(body, dict)
    }


@check("transfer-networks")
async def _transfer_networks(s: Subject, problems: list[str]) -> str:
    _served(s, capability.TRANSFER_NETWORKS)
    bank = capability.transfer_networks(s.adapter)
    cid = (await s.customer()).customer_id
    found = checked = 0
    for a in await s.accounts():
        networks = list(await bank.list_asset_transfer_networks(cid, a["accountId"]))
        found += len(networks)
        checked += _expect(
            s, problems, {"assetTransferNetworks": networks}, "AssetTransferNetworkList"
        )
    try:
        await bank.list_asset_transfer_networks(cid, UNKNOWN)
        problems.append("an unknown account's transfer networks were answered (expected 701)")
    except AccountNotFound:
        pass
    return f"{found} network(s) over the accounts; {checked} schema check(s)"

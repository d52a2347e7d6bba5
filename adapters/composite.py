"""``CompositeBank``: one BankAdapter over several, e.g. a deposits core and a card system.

The customer's accounts from every member are merged into one list. Each account gets an id of
its own, ``acc_`` + 24 hex digits of a keyed BLAKE2b digest of (member label, native id): stable
across restarts (same key, same labels), opaque (it reveals neither the member nor the native id)
and collision-free in practice (96 bits). The composite keeps the reverse mapping in memory and
rebuilds it on a miss by listing the customer's accounts, so any instance can serve any id.

Authentication and customer data go to the primary member; every member must know the customer
by the primary's customer id (most banks share one customer number across systems). Calls about
one account go only to the member that owns it, so one slow or failing member never stalls the
others' accounts; only the merged account list needs every member to answer.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from adapters import capability
from adapters.base import (
    Account,
    AccountContact,
    AdapterOptions,
    AssetTransferNetwork,
    BankAdapter,
    Customer,
    CustomerInfo,
    Document,
    FdxObject,
    Page,
    PageRequest,
    Payment,
    PaymentNetwork,
    RecurringPayment,
    RewardCategory,
    RewardProgram,
    Statement,
    TaxStatement,
    Transaction,
    TransactionImage,
    Window,
)
from adapters.errors import (
    AccountNotFound,
    AdapterError,
    RecurringPaymentNotFound,
    RewardProgramNotFound,
    TaxFormNotFound,
)

ID_PREFIX = "acc_"


class CompositeBank:
    """A BankAdapter routing each call to the member adapter that owns the account."""

    name = "composite"

    def __init__(
        self, members: Mapping[str, BankAdapter], primary: str, *, id_key: bytes = b""
    ) -> None:
        if primary not in members:
            raise ValueError(f"composite: primary {primary!r} is not a member")
        if len(id_key) > 64:
            raise ValueError("composite: id_key is at most 64 bytes")
        self.members = dict(members)
        self.primary = primary
        self._key = id_key
        self._owners: dict[str, tuple[str, str]] = {}  # composite id → (label, native id)
        # An optional category (adapters/capability.py) is served when any member serves it;
        # the customer's data of that category is merged over those members.
        self.by_category = {
            name: [label for label, m in self.members.items() if name in capability.categories(m)]
            for name in capability.ALL
        }
        self.categories = frozenset(name for name, labels in self.by_category.items() if labels)
        # Ids of a member's payments, programs and tax forms: ``<member tag>.<native id>``, the
        # tag a keyed digest of the label, so two members' ids never collide and each call
        # about one goes to its member alone (the native ids are the bank's own opaque ids).
        self._tags = {label: self._tag(label) for label in self.members}
        self._by_tag = {tag: label for label, tag in self._tags.items()}

    @classmethod
    def from_options(
        cls, members: Mapping[str, BankAdapter], primary: str, options: AdapterOptions
    ) -> CompositeBank:
        """``[composite]`` options: ``primary`` (a label; default the first listed) and
        ``id_key`` (text; changing it, or a label, changes every id and orphans consents)."""
        unknown = set(options) - {"primary", "id_key"}
        if unknown:
            raise ValueError(f"composite: unknown option(s) {', '.join(sorted(unknown))}")
        key = str(options.get("id_key", "")).encode()
        return cls(members, str(options.get("primary", primary)), id_key=key)

    def account_id(self, label: str, native_id: str) -> str:
        """The composite id of ``native_id`` at member ``label`` (and remember the way back)."""
        digest = hashlib.blake2b(
            f"{label}\x00{native_id}".encode(), key=self._key, digest_size=12
        ).hexdigest()
        composite = ID_PREFIX + digest
        self._owners[composite] = (label, native_id)
        return composite

    def _tag(self, label: str) -> str:
        digest = hashlib.blake2b(f"item\x00{label}".encode(), key=self._key, digest_size=4)
        return digest.hexdigest()

    def item_id(self, label: str, native_id: str) -> str:
        return f"{self._tags[label]}.{native_id}"

    def _item_owner(self, item_id: str, category: str) -> tuple[str, str] | None:
        """(member label, native id) of one of our item ids, if a member serving it made it."""
        tag, dot, native = item_id.partition(".")
        label = self._by_tag.get(tag)
        if not dot or label is None or label not in self.by_category[category]:
            return None
        return label, native

    async def authenticate(self, username: str, password: str) -> Customer | None:
        return await self.members[self.primary].authenticate(username, password)

    async def get_customer(self, customer_id: str) -> Customer:
        return await self.members[self.primary].get_customer(customer_id)

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        listed, _ = await self._list_all(customer_id, strict=True)
        return [account for _, account in listed]

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        label, native = await self._owner(customer_id, account_id)
        account = await self.members[label].get_account(customer_id, native)
        return _with_id(account, account_id)

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        label, native = await self._owner(customer_id, account_id)
        found = await self.members[label].list_transactions(customer_id, native, window, page)
        return _rewritten(found, account_id)

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        label, native = await self._owner(customer_id, account_id)
        return await self.members[label].get_contact(customer_id, native)

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        label, native = await self._owner(customer_id, account_id)
        return await self.members[label].list_payment_networks(customer_id, native, page)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        label, native = await self._owner(customer_id, account_id)
        found = await self.members[label].list_statements(customer_id, native, window, page)
        return _rewritten(found, account_id)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        label, native = await self._owner(customer_id, account_id)
        return await self.members[label].get_statement(customer_id, native, statement_id)

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        """The primary's Customer, with ``accounts[]`` listing every member's accounts."""
        info = await self.members[self.primary].get_customer_info(customer_id)
        listed, _ = await self._list_all(customer_id, strict=True)
        relationships = {
            self.account_id(self.primary, str(a.get("accountId"))): a.get("relationship")
            for a in info.get("accounts", ())
            if isinstance(a, dict)
        }
        accounts = []
        for _, account in listed:
            entry: dict[str, Any] = {"accountId": account["accountId"]}
            if relationships.get(account["accountId"]):
                entry["relationship"] = relationships[account["accountId"]]
            accounts.append(entry)
        return {**info, "accounts": accounts}

    # ---- the optional categories, merged ----

    async def list_payments(
        self, customer_id: str, account_ids: Sequence[str], window: Window, page: PageRequest
    ) -> Page[Payment]:
        async def one(label: str, natives: list[str], at: PageRequest) -> Page[FdxObject]:
            bank = capability.bills(self.members[label])
            return await bank.list_payments(customer_id, natives, window, at)

        return await self._merged(customer_id, capability.BILLS, account_ids, page, one)

    async def list_recurring_payments(
        self, customer_id: str, account_ids: Sequence[str], page: PageRequest
    ) -> Page[RecurringPayment]:
        async def one(label: str, natives: list[str], at: PageRequest) -> Page[FdxObject]:
            bank = capability.bills(self.members[label])
            return await bank.list_recurring_payments(customer_id, natives, at)

        return await self._merged(customer_id, capability.BILLS, account_ids, page, one)

    async def list_recurring_payment_payments(
        self,
        customer_id: str,
        recurring_payment_id: str,
        account_ids: Sequence[str],
        window: Window,
        page: PageRequest,
    ) -> Page[Payment]:
        owner = self._item_owner(recurring_payment_id, capability.BILLS)
        natives = None if owner is None else (await self._natives(customer_id, account_ids))
        if owner is None or not natives or not natives.get(owner[0]):
            raise RecurringPaymentNotFound("composite: no member knows it")
        label, native = owner
        bank = capability.bills(self.members[label])
        found = await bank.list_recurring_payment_payments(
            customer_id, native, natives[label], window, page
        )
        return Page([self._ours(label, p) for p in found.items], found.next_offset, found.total)

    async def list_reward_programs(
        self, customer_id: str, page: PageRequest
    ) -> Page[RewardProgram]:
        async def one(label: str, natives: list[str], at: PageRequest) -> Page[FdxObject]:
            return await capability.rewards(self.members[label]).list_reward_programs(
                customer_id, at
            )

        return await self._merged(customer_id, capability.REWARDS, None, page, one)

    async def get_reward_program(self, customer_id: str, program_id: str) -> RewardProgram:
        label, native = self._program(program_id)
        bank = capability.rewards(self.members[label])
        return self._ours(label, await bank.get_reward_program(customer_id, native))

    async def list_reward_categories(
        self, customer_id: str, program_id: str, page: PageRequest
    ) -> Page[RewardCategory]:
        label, native = self._program(program_id)
        bank = capability.rewards(self.members[label])
        found = await bank.list_reward_categories(customer_id, native, page)
        return Page([self._ours(label, c) for c in found.items], found.next_offset, found.total)

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        label, native = await self._owner(customer_id, account_id)
        bank = capability.images(self.members[label])
        return await bank.get_transaction_image(customer_id, native, image_id)

    async def list_tax_forms(
        self,
        customer_id: str,
        account_ids: Sequence[str],
        tax_year: int | None,
        page: PageRequest,
    ) -> Page[TaxStatement]:
        async def one(label: str, natives: list[str], at: PageRequest) -> Page[FdxObject]:
            bank = capability.tax_forms(self.members[label])
            return await bank.list_tax_forms(customer_id, natives, tax_year, at)

        return await self._merged(customer_id, capability.TAX, account_ids, page, one)

    async def get_tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> TaxStatement:
        label, natives, native = await self._tax_form(customer_id, account_ids, tax_form_id)
        bank = capability.tax_forms(self.members[label])
        return self._ours(label, await bank.get_tax_form(customer_id, natives, native))

    async def get_tax_form_pdf(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> Document:
        label, natives, native = await self._tax_form(customer_id, account_ids, tax_form_id)
        bank = capability.tax_forms(self.members[label])
        return await bank.get_tax_form_pdf(customer_id, natives, native)

    async def list_asset_transfer_networks(
        self, customer_id: str, account_id: str
    ) -> Sequence[AssetTransferNetwork]:
        label, native = await self._owner(customer_id, account_id)
        bank = capability.transfer_networks(self.members[label])
        return await bank.list_asset_transfer_networks(customer_id, native)

    async def _merged(
        self,
        customer_id: str,
        category: str,
        account_ids: Sequence[str] | None,
        page: PageRequest,
        one: Callable[[str, list[str], PageRequest], Awaitable[Page[FdxObject]]],
    ) -> Page[FdxObject]:
        """The members' lists one after another, as one list: a page takes from a member until
        it is full, then from the next; the cursor ``m<i>-<member cursor>`` says which member
        and where in it. ``account_ids`` (None: not account-bound) go to each member as its
        native ids, and only members holding one of them are asked."""
        labels = self.by_category[category]
        by_member = None if account_ids is None else await self._natives(customer_id, account_ids)
        i, offset = _cursor(page.offset)
        items: list[FdxObject] = []
        while i < len(labels) and len(items) < page.limit:
            label = labels[i]
            natives = [] if by_member is None else by_member.get(label, [])
            if by_member is None or natives:
                at = PageRequest(offset, page.limit - len(items))
                found = await one(label, natives, at)
                items.extend(self._ours(label, item) for item in found.items)
                if found.next_offset is not None:
                    return Page(items, f"m{i}-{found.next_offset}")
            i, offset = i + 1, None
        return Page(items, f"m{i}-" if i < len(labels) else None)

    async def _natives(self, customer_id: str, account_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for account_id in account_ids:
            try:
                label, native = await self._owner(customer_id, account_id)
            except AccountNotFound:
                continue
            out.setdefault(label, []).append(native)
        return out

    def _ours(self, label: str, obj: FdxObject) -> FdxObject:
        """``obj`` with every account id it names as the composite's (a copy)."""
        out = dict(obj)
        for key in ("paymentId", "recurringPaymentId", "rewardProgramId", "taxStatementId"):
            if key in out:
                out[key] = self.item_id(label, str(out[key]))
        if "fromAccountId" in out:
            out["fromAccountId"] = self.account_id(label, str(out["fromAccountId"]))
        if isinstance(out.get("memberships"), list):
            out["memberships"] = [
                {**m, "accountIds": [self.account_id(label, str(a)) for a in m["accountIds"]]}
                if isinstance(m, dict) and isinstance(m.get("accountIds"), list)
                else m
                for m in out["memberships"]
            ]
        if isinstance(out.get("forms"), list):
            out["forms"] = [
                {k: self._our_form(label, v) for k, v in form.items()}
                if isinstance(form, dict)
                else form
                for form in out["forms"]
            ]
        return out

    def _our_form(self, label: str, body: Any) -> Any:
        """One tax form of a statement, with its account and form ids as the composite's."""
        if not isinstance(body, dict):
            return body
        out = dict(body)
        if "accountId" in out:
            out["accountId"] = self.account_id(label, str(out["accountId"]))
        if "taxFormId" in out:
            out["taxFormId"] = self.item_id(label, str(out["taxFormId"]))
        return out

    def _program(self, program_id: str) -> tuple[str, str]:
        owner = self._item_owner(program_id, capability.REWARDS)
        if owner is None:
            raise RewardProgramNotFound("composite: no member knows it")
        return owner

    async def _tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> tuple[str, list[str], str]:
        owner = self._item_owner(tax_form_id, capability.TAX)
        natives = None if owner is None else (await self._natives(customer_id, account_ids))
        if owner is None or not natives or not natives.get(owner[0]):
            raise TaxFormNotFound("composite: no member knows it")
        return owner[0], natives[owner[0]], owner[1]

    async def aclose(self) -> None:
        for member in self.members.values():
            try:
                await member.aclose()
            except AdapterError:
                pass  # closing one member must not keep the others open

    async def _list_all(
        self, customer_id: str, *, strict: bool
    ) -> tuple[list[tuple[str, Account]], list[AdapterError]]:
        """Every member's accounts with composite ids, in member order, and the failures of
        members that did not answer. ``strict``: any failure fails the call (a partial list
        would silently hide accounts from the consumer)."""
        labels = list(self.members)
        answers = await asyncio.gather(
            *(self.members[label].list_accounts(customer_id) for label in labels),
            return_exceptions=True,
        )
        listed: list[tuple[str, Account]] = []
        failures: list[AdapterError] = []
        for label, answer in zip(labels, answers, strict=True):
            if isinstance(answer, BaseException):
                if strict or not isinstance(answer, AdapterError):
                    raise answer
                failures.append(answer)
                continue
            for account in answer:
                composite = self.account_id(label, str(account["accountId"]))
                listed.append((label, _with_id(account, composite)))
        return listed, failures

    async def _owner(self, customer_id: str, account_id: str) -> tuple[str, str]:
        owner = self._owners.get(account_id)
        if owner is None and account_id.startswith(ID_PREFIX):
            # Unknown here (another instance issued it, or a restart): list and look again,
            # tolerating members that are down as long as the one that owns the id answers.
            _, failures = await self._list_all(customer_id, strict=False)
            owner = self._owners.get(account_id)
            if owner is None and failures:
                raise failures[0]  # the owner may be the member that is down: not a 404
        if owner is None:
            raise AccountNotFound("composite: unknown account")
        return owner


def _cursor(offset: str | None) -> tuple[int, str | None]:
    """``m<i>-<member cursor>`` → (i, member cursor or None); anything else starts over."""
    if offset is None or not offset.startswith("m") or "-" not in offset:
        return 0, None
    index, _, rest = offset[1:].partition("-")
    if not index.isdigit():
        return 0, None
    return int(index), rest or None


def _with_id(obj: FdxObject, account_id: str) -> FdxObject:
    # Members' objects are read-only (adapters/base.py): rewrite a copy.
    return {**obj, "accountId": account_id}


def _rewritten(page: Page[FdxObject], account_id: str) -> Page[FdxObject]:
    items = [{**item, "accountId": account_id} for item in page.items]
    return Page(items, page.next_offset, page.total)

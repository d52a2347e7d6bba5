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
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.base import (
    Account,
    AccountContact,
    AdapterOptions,
    BankAdapter,
    Customer,
    CustomerInfo,
    Document,
    FdxObject,
    Page,
    PageRequest,
    PaymentNetwork,
    Statement,
    Transaction,
    Window,
)
from adapters.errors import AccountNotFound, AdapterError

ID_PREFIX = "acc_"


class CompositeBank:
    """A BankAdapter routing each call to the member adapter that owns the account."""

    name = "composite"
    # The optional categories (adapters/capability.py) are not merged across members yet: a
    # composite offers the core clusters only.
    categories: frozenset[str] = frozenset()

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


def _with_id(obj: FdxObject, account_id: str) -> FdxObject:
    # Members' objects are read-only (adapters/base.py): rewrite a copy.
    return {**obj, "accountId": account_id}


def _rewritten(page: Page[FdxObject], account_id: str) -> Page[FdxObject]:
    items = [{**item, "accountId": account_id} for item in page.items]
    return Page(items, page.next_offset, page.total)

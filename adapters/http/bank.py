"""``HttpBank``: a BankAdapter for a bank core that serves accounts and transactions as JSON.

HTTP concerns live in ``CoreClient`` (pool, timeouts, retries, breaker, auth), the core's
dialect in a ``CoreDialect`` (paths, query, JSON → FDX). This class only joins the two and makes
sure that a body the dialect cannot read becomes ``BankUnavailable``, never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from adapters.base import (
    Account,
    AccountContact,
    AdapterOptions,
    Customer,
    CustomerInfo,
    Document,
    Page,
    PageRequest,
    PaymentNetwork,
    Statement,
    Transaction,
    Window,
)
from adapters.errors import (
    AccountNotFound,
    BankUnavailable,
    CustomerNotFound,
    StatementNotFound,
)
from adapters.http.client import CoreClient
from adapters.http.config import HttpCoreConfig
from adapters.http.dialect import CoreDialect, load_dialect


class HttpBank:
    """One bank core over HTTP; ``name`` is its label (an upstream, in logs and errors)."""

    def __init__(
        self,
        config: HttpCoreConfig,
        *,
        name: str = "http",
        dialect: CoreDialect | None = None,
        draw: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.dialect = dialect or load_dialect(config.mapping)
        extra: dict[str, Any] = {
            k: v for k, v in {"draw": draw, "sleep": sleep, "clock": clock}.items() if v
        }
        self.client = CoreClient(config, label=name, errors=self.dialect.errors, **extra)
        self.paths = self.dialect.paths

    @classmethod
    def from_options(cls, options: AdapterOptions, *, name: str = "http") -> HttpBank:
        return cls(HttpCoreConfig.from_options(options), name=name)

    async def authenticate(self, username: str, password: str) -> Customer | None:
        body = self.dialect.login_body(username, password)
        refused = self.dialect.login_refused
        answer = await self.client.post_json(self.paths.login, body, CustomerNotFound, refused)
        if answer is None:
            return None
        with self._mapping():
            return self.dialect.customer(answer)

    async def get_customer(self, customer_id: str) -> Customer:
        raw = await self._get(self.paths.customer, customer_id, None, CustomerNotFound)
        with self._mapping():
            return self.dialect.customer(raw)

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        raw = await self._get(self.paths.accounts, customer_id, None, CustomerNotFound)
        with self._mapping():
            return self.dialect.accounts(raw)

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        raw = await self._get(self.paths.account, customer_id, account_id, AccountNotFound)
        with self._mapping():
            return self._owned(self.dialect.account(raw), account_id)

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        query = self.dialect.window_query(window, page)
        raw = await self._get(
            self.paths.transactions, customer_id, account_id, AccountNotFound, query
        )
        with self._mapping():
            return self.dialect.transactions(raw)

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        raw = await self._get(self.paths.contact, customer_id, account_id, AccountNotFound)
        with self._mapping():
            return self.dialect.contact(raw)

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        query = self.dialect.page_query(page)
        raw = await self._get(
            self.paths.payment_networks, customer_id, account_id, AccountNotFound, query
        )
        with self._mapping():
            return self.dialect.payment_networks(raw)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        query = self.dialect.window_query(window, page)
        raw = await self._get(
            self.paths.statements, customer_id, account_id, AccountNotFound, query
        )
        with self._mapping():
            return self.dialect.statements(raw)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        path = self.paths.statement.format(
            customer=quote(customer_id, safe=""),
            account=quote(account_id, safe=""),
            statement=quote(statement_id, safe=""),
        )
        content, media_type = await self.client.get_bytes(path, StatementNotFound)
        return Document(content=content, media_type=media_type or "application/pdf")

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        raw = await self._get(self.paths.customer, customer_id, None, CustomerNotFound)
        with self._mapping():
            return self.dialect.customer_info(raw)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _get(
        self,
        template: str,
        customer_id: str,
        account_id: str | None,
        missing: type[CustomerNotFound] | type[AccountNotFound],
        query: dict[str, str] | None = None,
    ) -> Any:
        path = template.format(
            customer=quote(customer_id, safe=""), account=quote(account_id or "", safe="")
        )
        return await self.client.get_json(path, query, missing)

    def _owned(self, account: Account, account_id: str) -> Account:
        if account.get("accountId") != account_id:
            raise BankUnavailable(f"{self.name}: the core answered for another account")
        return account

    @contextmanager
    def _mapping(self) -> Iterator[None]:
        try:
            yield
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"{self.name}: unexpected {type(exc).__name__} in the core's answer"
            raise BankUnavailable(detail) from exc

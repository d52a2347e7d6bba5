"""``HttpBank``: a BankAdapter for a bank core that serves accounts and transactions as JSON.

HTTP concerns live in ``CoreClient`` (pool, timeouts, retries, breaker, auth), the core's
dialect in a ``CoreDialect`` (paths, query, JSON → FDX). This class joins the two, makes sure
that a body the dialect cannot read becomes ``BankUnavailable``, never a 500, and, when
configured, revalidates what it mapped before instead of mapping it again (``EtagCache``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
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
    AdapterError,
    BankUnavailable,
    CustomerNotFound,
    StatementNotFound,
)
from adapters.http.client import CoreClient, target
from adapters.http.config import HttpCoreConfig
from adapters.http.dialect import CoreDialect, load_dialect
from adapters.http.etag_cache import EtagCache

T = TypeVar("T")
Missing = type[CustomerNotFound] | type[AccountNotFound]


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
        self.cache: EtagCache | None = None
        if config.revalidates:
            self.cache = EtagCache(
                config.etag_cache_entries,
                config.etag_cache_bytes,
                config.etag_cache_max_age,
                clock=clock or time.monotonic,
            )

    @classmethod
    def from_options(cls, options: AdapterOptions, *, name: str = "http") -> HttpBank:
        return cls(HttpCoreConfig.from_options(options), name=name)

    async def authenticate(self, username: str, password: str) -> Customer | None:
        body = self.dialect.login_body(username, password)
        refused = self.dialect.login_refused
        answer = await self.client.post_json(self.paths.login, body, CustomerNotFound, refused)
        if answer is None:
            return None
        return self._map(self.dialect.customer, answer)

    async def get_customer(self, customer_id: str) -> Customer:
        url = self._target(self.paths.customer, customer_id)
        return await self._get(self.dialect.customer, url, CustomerNotFound)

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        url = self._target(self.paths.accounts, customer_id)
        return await self._get(self.dialect.accounts, url, CustomerNotFound)

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        url = self._target(self.paths.account, customer_id, account_id)
        account = await self._get(self.dialect.account, url, AccountNotFound)
        if account.get("accountId") != account_id:
            raise BankUnavailable(f"{self.name}: the core answered for another account")
        return account

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        url = self._target(self.paths.transactions, customer_id, account_id, page, window)
        return await self._get(self.dialect.transactions, url, AccountNotFound)

    async def get_contact(self, customer_id: str, account_id: str) -> AccountContact:
        url = self._target(self.paths.contact, customer_id, account_id)
        return await self._get(self.dialect.contact, url, AccountNotFound)

    async def list_payment_networks(
        self, customer_id: str, account_id: str, page: PageRequest
    ) -> Page[PaymentNetwork]:
        url = self._target(self.paths.payment_networks, customer_id, account_id, page)
        return await self._get(self.dialect.payment_networks, url, AccountNotFound)

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Statement]:
        url = self._target(self.paths.statements, customer_id, account_id, page, window)
        return await self._get(self.dialect.statements, url, AccountNotFound)

    async def get_statement(self, customer_id: str, account_id: str, statement_id: str) -> Document:
        path = self.paths.statement.format(
            customer=quote(customer_id, safe=""),
            account=quote(account_id, safe=""),
            statement=quote(statement_id, safe=""),
        )
        answer = await self.client.get(target(path), StatementNotFound)
        return Document(
            content=answer.body or b"", media_type=answer.media_type or "application/pdf"
        )

    async def get_customer_info(self, customer_id: str) -> CustomerInfo:
        url = self._target(self.paths.customer, customer_id)
        return await self._get(self.dialect.customer_info, url, CustomerNotFound)

    async def aclose(self) -> None:
        if self.cache is not None:
            self.cache.clear()
        await self.client.aclose()

    def _target(
        self,
        template: str,
        customer_id: str,
        account_id: str = "",
        page: PageRequest | None = None,
        window: Window | None = None,
    ) -> str:
        """The request target for a template, ids (percent-encoded) and the dialect's query."""
        customer, account = quote(customer_id, safe=""), quote(account_id, safe="")
        path = template.format(customer=customer, account=account)
        query = None
        if page is not None:
            dialect = self.dialect
            query = (
                dialect.page_query(page) if window is None else dialect.window_query(window, page)
            )
        return target(path, query)

    async def _get(self, mapper: Callable[[Any], T], url: str, missing: Missing) -> T:
        """GET ``url`` and map its JSON with ``mapper``. With the cache on, the request carries
        the ETag of the answer last mapped for (mapper, url), and a 304 reuses that answer:
        the core still confirms every call, only the parsing and mapping are saved."""
        cache = self.cache
        if cache is None:
            answer = await self.client.get(url, missing)
            return self._map(mapper, self.client.json(answer.body))
        # The URL names the customer and the account, and the cache is this adapter's own
        # (one credential to one core): an answer is never offered for another customer.
        key = (mapper, url)
        held = cache.get(key)
        try:
            answer = await self.client.get(url, missing, None if held is None else held.etag)
        except AdapterError:
            cache.drop(key)  # gone, refused or unreachable: keep nothing of it
            raise
        if held is not None and answer.body is None:
            value: T = held.value
            return value
        value = self._map(mapper, self.client.json(answer.body))
        if answer.etag is None:
            cache.drop(key)
        else:
            cache.put(key, answer.etag, value, len(answer.body or b""))
        return value

    def _map(self, mapper: Callable[[Any], T], raw: Any) -> T:
        try:
            return mapper(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            detail = f"{self.name}: unexpected {type(exc).__name__} in the core's answer"
            raise BankUnavailable(detail) from exc

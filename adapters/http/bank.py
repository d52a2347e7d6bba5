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
    AssetTransferNetwork,
    Customer,
    CustomerInfo,
    Document,
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
    BankUnavailable,
    CategoryNotServed,
    CustomerNotFound,
    ImageNotFound,
    RecurringPaymentNotFound,
    RewardProgramNotFound,
    StatementNotFound,
    TaxFormNotFound,
)
from adapters.http.client import CoreClient, target
from adapters.http.config import HttpCoreConfig
from adapters.http.dialect import CoreDialect, load_dialect
from adapters.http.etag_cache import EtagCache

T = TypeVar("T")
Missing = type[AdapterError]


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
        # What the core's dialect maps (adapters/capability.py reads it at start-up).
        self.categories = self.dialect.categories
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

    # ---- the optional categories (present when the dialect maps them: ``categories``) ----

    async def list_payments(
        self, customer_id: str, account_ids: Sequence[str], window: Window, page: PageRequest
    ) -> Page[Payment]:
        mapper = self._needs(self.dialect.payments)
        url = self._listing(self.paths.payments, customer_id, "", account_ids, page, window)
        return await self._get(mapper, url, CustomerNotFound)

    async def list_recurring_payments(
        self, customer_id: str, account_ids: Sequence[str], page: PageRequest
    ) -> Page[RecurringPayment]:
        mapper = self._needs(self.dialect.recurring_payments)
        url = self._listing(self.paths.recurring_payments, customer_id, "", account_ids, page)
        return await self._get(mapper, url, CustomerNotFound)

    async def list_recurring_payment_payments(
        self,
        customer_id: str,
        recurring_payment_id: str,
        account_ids: Sequence[str],
        window: Window,
        page: PageRequest,
    ) -> Page[Payment]:
        mapper = self._needs(self.dialect.payments)
        template = self.paths.recurring_payment_payments
        url = self._listing(template, customer_id, recurring_payment_id, account_ids, page, window)
        return await self._get(mapper, url, RecurringPaymentNotFound)

    async def list_reward_programs(
        self, customer_id: str, page: PageRequest
    ) -> Page[RewardProgram]:
        mapper = self._needs(self.dialect.reward_programs)
        path = self._item(self.paths.reward_programs, customer_id)
        return await self._get(
            mapper, target(path, self.dialect.page_query(page)), CustomerNotFound
        )

    async def get_reward_program(self, customer_id: str, program_id: str) -> RewardProgram:
        mapper = self._needs(self.dialect.reward_program)
        path = self._item(self.paths.reward_program, customer_id, item=program_id)
        return await self._get(mapper, target(path), RewardProgramNotFound)

    async def list_reward_categories(
        self, customer_id: str, program_id: str, page: PageRequest
    ) -> Page[RewardCategory]:
        mapper = self._needs(self.dialect.reward_categories)
        path = self._item(self.paths.reward_categories, customer_id, item=program_id)
        query = self.dialect.page_query(page)
        return await self._get(mapper, target(path, query), RewardProgramNotFound)

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        mapper = self._needs(self.dialect.image)
        path = self._item(self.paths.image, customer_id, account_id, image_id)
        media_type, day = await self._get(mapper, target(path), ImageNotFound)
        content_path = self._item(self.paths.image_content, customer_id, account_id, image_id)
        answer = await self.client.get(target(content_path), ImageNotFound)
        return TransactionImage(answer.body or b"", media_type, day)

    async def list_tax_forms(
        self,
        customer_id: str,
        account_ids: Sequence[str],
        tax_year: int | None,
        page: PageRequest,
    ) -> Page[TaxStatement]:
        mapper = self._needs(self.dialect.tax_documents)
        path = self._item(self.paths.tax_documents, customer_id)
        query = {**self._accounts(account_ids), **self.dialect.page_query(page)}
        if tax_year is not None:
            query["year"] = str(tax_year)
        return await self._get(mapper, target(path, query), CustomerNotFound)

    async def get_tax_form(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> TaxStatement:
        mapper = self._needs(self.dialect.tax_document)
        path = self._item(self.paths.tax_document, customer_id, item=tax_form_id)
        return await self._get(mapper, target(path, self._accounts(account_ids)), TaxFormNotFound)

    async def get_tax_form_pdf(
        self, customer_id: str, account_ids: Sequence[str], tax_form_id: str
    ) -> Document:
        self._needs(self.dialect.tax_document)
        path = self._item(self.paths.tax_document_pdf, customer_id, item=tax_form_id)
        answer = await self.client.get(target(path, self._accounts(account_ids)), TaxFormNotFound)
        return Document(answer.body or b"", answer.media_type or "application/pdf")

    async def list_asset_transfer_networks(
        self, customer_id: str, account_id: str
    ) -> Sequence[AssetTransferNetwork]:
        mapper = self._needs(self.dialect.transfer_networks)
        path = self._item(self.paths.transfer_networks, customer_id, account_id)
        return await self._get(mapper, target(path), AccountNotFound)

    def _needs(self, mapper: Callable[[Any], T] | None) -> Callable[[Any], T]:
        if mapper is None:
            raise CategoryNotServed(f"{self.name}: the core's dialect does not map this")
        return mapper

    def _item(self, template: str, customer_id: str, account_id: str = "", item: str = "") -> str:
        return template.format(
            customer=quote(customer_id, safe=""),
            account=quote(account_id, safe=""),
            item=quote(item, safe=""),
        )

    def _accounts(self, account_ids: Sequence[str]) -> dict[str, str]:
        query = self._needs(self.dialect.accounts_query)
        return query(account_ids)

    def _listing(
        self,
        template: str,
        customer_id: str,
        item: str,
        account_ids: Sequence[str],
        page: PageRequest,
        window: Window | None = None,
    ) -> str:
        dialect = self.dialect
        paged = dialect.page_query(page) if window is None else dialect.window_query(window, page)
        path = self._item(template, customer_id, item=item)
        return target(path, {**self._accounts(account_ids), **paged})

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

"""The reference core dialect: a typical core's JSON (snake_case, minor units, its own codes)
mapped to FDX v6 objects. Copy this module to describe your own core (docs/adapters.md).

Declarative where a field is only renamed (``*_FIELDS``: core key → FDX field), plain functions
where a value changes (amount sign → ``debitCreditMemo``, account number → masked display, core
codes → FDX enums). Core keys not named here are dropped: nothing unmapped reaches a recipient.
Recorded samples of every shape live in tests/adapters/http/samples/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any

from adapters.base import (
    Account,
    AccountContact,
    AssetTransferNetwork,
    Customer,
    CustomerInfo,
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
    Window,
)
from adapters.errors import AccountClosed, AccountTypeNotSupported, StatementProcessing
from adapters.http.dialect import CoreDialect

Raw = Mapping[str, Any]

# ---- enums: core code → FDX value (docs/fdx.md §2) ----

CATEGORIES = {
    "deposit": "DEPOSIT_ACCOUNT",
    "card": "LOC_ACCOUNT",
    "credit_line": "LOC_ACCOUNT",
    "loan": "LOAN_ACCOUNT",
    "investment": "INVESTMENT_ACCOUNT",
}
STATUSES = {
    "active": "OPEN",
    "closed": "CLOSED",
    "blocked": "RESTRICTED",
    "pending_open": "PENDINGOPEN",
    "pending_close": "PENDINGCLOSE",
    "paid_off": "PAID",
    "delinquent": "DELINQUENT",
    "overdrawn": "NEGATIVECURRENTBALANCE",
}
TRANSACTION_STATES = {"booked": "POSTED", "pending": "PENDING", "authorized": "AUTHORIZATION"}
RAILS = {"ach": "US_ACH", "wire": "US_FEDWIRE", "fednow": "US_FEDNOW", "rtp": "US_RTP"}
NUMBER_KINDS = {"account": "ACCOUNT_NUMBER", "token": "TOKENIZED_ACCOUNT_NUMBER"}

# ---- renames: core key → FDX field ----

ACCOUNT_FIELDS = {
    "id": "accountId",
    "nickname": "nickname",
    "opened_on": "accountOpenDate",
    "closed_on": "accountCloseDate",
    "last_activity_on": "lastActivityDate",
    "positions": "holdings",
}
PRODUCT_FIELDS = {"name": "productName", "description": "description"}
BALANCE_FIELDS = {
    "as_of": "balanceAsOf",
    "current": "currentBalance",
    "available": "availableBalance",
    "opening_day": "openingDayBalance",
}
TRANSACTION_FIELDS = {
    "id": "transactionId",
    "account_id": "accountId",
    "created_at": "transactionTimestamp",
    "booked_at": "postedTimestamp",
    "text": "description",
    "category": "category",
    "sub_category": "subCategory",
    "counterparty": "payee",
    "auth_ref": "referenceTransactionId",
    "check_no": "checkNumber",
    "image_ids": "imageIds",
    "memo": "memo",
    "units": "shares",
    "unit_price": "price",
    "sub_account_sec": "subAccountSec",
    "sub_account_fund": "subAccountFund",
    "inv401k_source": "inv401kSource",
    "payment_details": "paymentDetails",
}
SECURITY_FIELDS = {
    "id": "securityId",
    "id_type": "securityIdType",
    "type": "securityType",
    "symbol": "symbol",
}
STATEMENT_FIELDS = {"id": "statementId", "period_end": "statementDate", "title": "description"}
ADDRESS_FIELDS = {
    "street": "line1",
    "city": "city",
    "state": "region",
    "zip": "postalCode",
    "country": "country",
}

_SNAKE = re.compile(r"_([a-z0-9])")


def camel(name: str) -> str:
    """``annual_percentage_yield`` → ``annualPercentageYield`` (the ``terms`` object)."""
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def mask(number: str) -> str:
    """FDX ``accountNumberDisplay``: the last 4 digits only (docs/fdx.md §2, §8 item 16)."""
    digits = "".join(c for c in number if c.isdigit())
    return "****" + digits[-4:]


def renamed(raw: Raw, fields: Mapping[str, str], into: FdxObject | None = None) -> FdxObject:
    out: FdxObject = {} if into is None else into
    for key, value in raw.items():
        name = fields.get(key)
        if name is not None and value is not None:
            out[name] = value
    return out


# ---- customers ----


def customer(raw: Raw) -> Customer:
    return Customer(str(raw["id"]), f"{raw['first_name']} {raw['last_name']}".strip())


def customer_info(raw: Raw) -> CustomerInfo:
    info: FdxObject = {
        "customerId": str(raw["id"]),
        "type": "BUSINESS" if raw.get("business") else "CONSUMER",
        "name": {"first": raw["first_name"], "last": raw["last_name"]},
    }
    if raw.get("born_on"):
        info["dateOfBirth"] = raw["born_on"]
    if raw.get("tax_id_last4"):
        info["taxId"] = "*****" + str(raw["tax_id_last4"])[-4:]  # never the full number
        info["taxIdCountry"] = raw.get("tax_country", "US")
    if raw.get("since"):
        info["customerStartDate"] = raw["since"]
    info.update(_contact_points(raw))
    info["accounts"] = [
        {"accountId": str(a["id"]), "relationship": str(a.get("role", "primary")).upper()}
        for a in raw.get("accounts", ())
    ]
    return info


def _contact_points(raw: Raw) -> FdxObject:
    return {
        "emails": list(raw.get("emails", ())),
        "addresses": [
            renamed(a, ADDRESS_FIELDS, {"type": str(a.get("kind", "home")).upper()})
            for a in raw.get("addresses", ())
        ],
        "telephones": [
            {"type": str(p["kind"]).upper(), "country": p["country_code"], "number": p["number"]}
            for p in raw.get("phones", ())
        ],
    }


# ---- accounts ----


def account(raw: Raw) -> Account:
    product: Raw = raw.get("product") or {}
    out: FdxObject = {
        "accountCategory": CATEGORIES[raw["category"]],
        "status": STATUSES[raw["state"]],
        "currency": {"currencyCode": raw.get("currency", "USD")},
    }
    renamed(raw, ACCOUNT_FIELDS, out)
    renamed(product, PRODUCT_FIELDS, out)
    if product.get("type"):
        out["accountType"] = str(product["type"]).upper()
    if raw.get("number"):
        out["accountNumberDisplay"] = mask(str(raw["number"]))  # the full number stays here
    if raw.get("balance_type"):
        out["balanceType"] = str(raw["balance_type"]).upper()
    renamed(raw.get("balances") or {}, BALANCE_FIELDS, out)
    for key, value in (raw.get("terms") or {}).items():
        out[camel(key)] = value
    return out


def accounts(body: Raw) -> list[Account]:
    return [account(a) for a in body["accounts"]]


# ---- transactions: the hot path, one loop over the core's keys per transaction ----


def _amount(value: Any, out: FdxObject) -> None:
    # The core signs minor units; FDX wants an absolute decimal amount plus its direction.
    minor = int(value)
    out["amount"] = abs(minor) / 100
    out["debitCreditMemo"] = "DEBIT" if minor < 0 else "CREDIT"


def _state(value: Any, out: FdxObject) -> None:
    out["status"] = TRANSACTION_STATES[value]


def _kind(value: Any, out: FdxObject) -> None:
    out["transactionType"] = str(value).upper()


def _fx(value: Any, out: FdxObject) -> None:
    out["foreignAmount"] = value["amount"]
    out["foreignCurrency"] = value["currency"]


def _security(value: Any, out: FdxObject) -> None:
    renamed(value, SECURITY_FIELDS, out)


TRANSACTION_CONVERTERS: dict[str, Callable[[Any, FdxObject], None]] = {
    "amount_minor": _amount,
    "state": _state,
    "kind": _kind,
    "fx": _fx,
    "security": _security,
}


def transaction(raw: Raw, category: str) -> Transaction:
    out: FdxObject = {"accountCategory": category}
    fields, converters = TRANSACTION_FIELDS, TRANSACTION_CONVERTERS
    for key, value in raw.items():
        name = fields.get(key)
        if name is not None:
            if value is not None:
                out[name] = value
        else:
            convert = converters.get(key)
            if convert is not None:
                convert(value, out)
    return out


def transactions(body: Raw) -> Page[Transaction]:
    category = CATEGORIES[body["account"]["category"]]
    items = [transaction(t, category) for t in body["transactions"]]
    return Page(items, _cursor(body.get("next_cursor")), body.get("total"))


def _cursor(value: Any) -> str | None:
    return None if value is None else str(value)


# ---- the rest ----


def contact(raw: Raw) -> AccountContact:
    holders = [
        {
            "name": {"first": h["first_name"], "last": h["last_name"]},
            "relationship": str(h.get("role", "primary")).upper(),
        }
        for h in raw["holders"]
    ]
    return {"holders": holders, **_contact_points(raw)}


def payment_network(raw: Raw) -> PaymentNetwork:
    return {
        "bankId": raw["routing"],
        "identifier": raw["number"],
        "identifierType": NUMBER_KINDS[raw.get("number_kind", "account")],
        "type": RAILS[raw["rail"]],
        "transferIn": bool(raw.get("can_receive")),
        "transferOut": bool(raw.get("can_send")),
        "supportsRequestForPayment": bool(raw.get("request_for_payment")),
    }


def payment_networks(body: Raw) -> Page[PaymentNetwork]:
    items = [payment_network(n) for n in body["networks"]]
    return Page(items, _cursor(body.get("next_cursor")), body.get("total"))


def statement(raw: Raw, account_id: str) -> Statement:
    out = renamed(raw, STATEMENT_FIELDS, {"accountId": account_id})
    out["status"] = str(raw.get("state", "available")).upper()
    return out


def statements(body: Raw) -> Page[Statement]:
    account_id = str(body["account"]["id"])
    items = [statement(s, account_id) for s in body["statements"]]
    return Page(items, _cursor(body.get("next_cursor")), body.get("total"))


def window_query(window: Window, page: PageRequest) -> dict[str, str]:
    query = {"from": window.start.isoformat(), "to": window.end.isoformat(), **page_query(page)}
    return query


def page_query(page: PageRequest) -> dict[str, str]:
    query = {"limit": str(page.limit)}
    if page.offset:
        query["cursor"] = page.offset
    return query


# ---- the optional categories ----
# Their objects are FDX's own shapes, nested deep (a tax form has dozens of boxes), so the core
# carries them in snake_case and they are camel-cased whole; the gateway's projection still
# decides which top-level fields leave.


def camelized(value: Any) -> Any:
    """``value`` with every object key camel-cased, at every depth."""
    if isinstance(value, Mapping):
        return {camel(str(k)): camelized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelized(v) for v in value]
    return value


def _page_of(body: Raw, key: str) -> Page[FdxObject]:
    items = [camelized(i) for i in body[key]]
    return Page(items, _cursor(body.get("next_cursor")), body.get("total"))


def payments(body: Raw) -> Page[Payment]:
    return _page_of(body, "payments")


def recurring_payments(body: Raw) -> Page[RecurringPayment]:
    return _page_of(body, "standing_payments")


def reward_programs(body: Raw) -> Page[RewardProgram]:
    return _page_of(body, "programs")


def reward_program(body: Raw) -> RewardProgram:
    program: RewardProgram = camelized(body)
    return program


def reward_categories(body: Raw) -> Page[RewardCategory]:
    return _page_of(body, "categories")


def image(body: Raw) -> tuple[str, date]:
    return str(body["media_type"]), date.fromisoformat(str(body["transaction_date"]))


def tax_documents(body: Raw) -> Page[TaxStatement]:
    return _page_of(body, "documents")


def tax_document(body: Raw) -> TaxStatement:
    document: TaxStatement = camelized(body)
    return document


def transfer_networks(body: Raw) -> list[AssetTransferNetwork]:
    return [camelized(n) for n in body["networks"]]


def accounts_query(account_ids: Sequence[str]) -> dict[str, str]:
    return {"accounts": ",".join(account_ids)}


def login_body(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


DIALECT = CoreDialect(
    login_body=login_body,
    customer=customer,
    customer_info=customer_info,
    accounts=accounts,
    account=account,
    transactions=transactions,
    contact=contact,
    payment_networks=payment_networks,
    statements=statements,
    window_query=window_query,
    page_query=page_query,
    payments=payments,
    recurring_payments=recurring_payments,
    reward_programs=reward_programs,
    reward_program=reward_program,
    reward_categories=reward_categories,
    image=image,
    tax_documents=tax_documents,
    tax_document=tax_document,
    transfer_networks=transfer_networks,
    accounts_query=accounts_query,
    errors={
        "account_closed": AccountClosed,
        "account_type_not_supported": AccountTypeNotSupported,
        "statement_processing": StatementProcessing,
    },
)

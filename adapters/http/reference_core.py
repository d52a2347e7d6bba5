"""A reference bank core speaking the reference dialect over HTTP, backed by any BankAdapter.

It plays the bank's core for tests, the conformance kit, benchmarks and anyone trying the HTTP
adapter: its data is the sandbox bank's, turned into the core's JSON by the inverse of
adapters/http/mapping.py, so the HTTP adapter in front of it must answer exactly what the sandbox
answers in process. ``Behaviour`` scripts misbehaviour (slow, failing, flapping, malformed,
maintenance) and counts requests; a bearer token can be required on every call. Its JSON answers
carry a strong ETag (a digest of the body) and a GET whose If-None-Match matches is answered
304 Not Modified without a body (RFC 9110 §8.8.3, §13.1.2, §15.4.5); ``Behaviour.etags`` makes
them weak or leaves them out, to play a core that has none::

    python -m adapters.http.reference_core --port 9100 [--token-file FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import ssl
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import orjson
from aiohttp import hdrs, web
from aiohttp.helpers import ETag

from adapters import capability
from adapters.base import BankAdapter, FdxObject, Page, PageRequest, Window
from adapters.errors import (
    AccountClosed,
    AccountTypeNotSupported,
    AdapterError,
    ScheduledMaintenance,
    StatementProcessing,
)
from adapters.http import mapping

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# ---- FDX → core: the inverse of mapping.py, so the two can be checked against each other ----

_CATEGORY = {fdx: core for core, fdx in mapping.CATEGORIES.items() if core != "credit_line"}
_STATUS = {fdx: core for core, fdx in mapping.STATUSES.items()}
_STATE = {fdx: core for core, fdx in mapping.TRANSACTION_STATES.items()}
_RAIL = {fdx: core for core, fdx in mapping.RAILS.items()}
_KIND = {fdx: core for core, fdx in mapping.NUMBER_KINDS.items()}
_SPECIAL_ACCOUNT = {
    "accountCategory", "status", "currency", "accountType", "accountNumberDisplay",
    "balanceType", "productName", "description",
}  # fmt: skip


def _inverse(fields: Mapping[str, str]) -> dict[str, str]:
    return {fdx: core for core, fdx in fields.items()}


_ACCOUNT = _inverse(mapping.ACCOUNT_FIELDS)
_BALANCE = _inverse(mapping.BALANCE_FIELDS)
_TRANSACTION = _inverse(mapping.TRANSACTION_FIELDS)
_SECURITY = _inverse(mapping.SECURITY_FIELDS)
_STATEMENT = _inverse(mapping.STATEMENT_FIELDS)
_ADDRESS = _inverse(mapping.ADDRESS_FIELDS)


def snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def core_account(fdx: FdxObject) -> dict[str, Any]:
    core: dict[str, Any] = {
        "category": _CATEGORY[fdx["accountCategory"]],
        "state": _STATUS[fdx["status"]],
        "currency": fdx["currency"]["currencyCode"],
        "product": {"type": fdx["accountType"].lower(), "name": fdx.get("productName")},
    }
    if "description" in fdx:
        core["product"]["description"] = fdx["description"]
    if "accountNumberDisplay" in fdx:
        # The sandbox never reveals a full number; a core would: make one ending the same.
        core["number"] = "00" + "7" * 6 + fdx["accountNumberDisplay"][-4:]
    if "balanceType" in fdx:
        core["balance_type"] = fdx["balanceType"].lower()
    balances, terms = {}, {}
    for key, value in fdx.items():
        if key in _ACCOUNT:
            core[_ACCOUNT[key]] = value
        elif key in _BALANCE:
            balances[_BALANCE[key]] = value
        elif key not in _SPECIAL_ACCOUNT:
            terms[snake(key)] = value
    return {**core, "balances": balances, "terms": terms}


def core_transaction(fdx: FdxObject) -> dict[str, Any]:
    core: dict[str, Any] = {}
    for key, value in fdx.items():
        if key in _TRANSACTION:
            core[_TRANSACTION[key]] = value
        elif key in _SECURITY:
            core.setdefault("security", {})[_SECURITY[key]] = value
    minor = round(fdx["amount"] * 100)
    core["amount_minor"] = -minor if fdx["debitCreditMemo"] == "DEBIT" else minor
    core["state"] = _STATE[fdx["status"]]
    if "transactionType" in fdx:
        core["kind"] = fdx["transactionType"].lower()
    if "foreignAmount" in fdx:
        core["fx"] = {"amount": fdx["foreignAmount"], "currency": fdx["foreignCurrency"]}
    return core


def _points(fdx: FdxObject) -> dict[str, Any]:
    return {
        "emails": fdx.get("emails", []),
        "addresses": [
            {**{_ADDRESS[k]: v for k, v in a.items() if k in _ADDRESS}, "kind": a["type"].lower()}
            for a in fdx.get("addresses", [])
        ],
        "phones": [
            {"kind": t["type"].lower(), "country_code": t["country"], "number": t["number"]}
            for t in fdx.get("telephones", [])
        ],
    }


def core_customer(fdx: FdxObject) -> dict[str, Any]:
    core: dict[str, Any] = {
        "id": fdx["customerId"],
        "first_name": fdx["name"]["first"],
        "last_name": fdx["name"]["last"],
        "business": fdx.get("type") == "BUSINESS",
        **_points(fdx),
        "accounts": [
            {"id": a["accountId"], "role": a.get("relationship", "PRIMARY").lower()}
            for a in fdx.get("accounts", [])
        ],
    }
    if "dateOfBirth" in fdx:
        core["born_on"] = fdx["dateOfBirth"]
    if "taxId" in fdx:
        core["tax_id_last4"] = fdx["taxId"][-4:]
        core["tax_country"] = fdx.get("taxIdCountry", "US")
    if "customerStartDate" in fdx:
        core["since"] = fdx["customerStartDate"]
    return core


def core_contact(fdx: FdxObject) -> dict[str, Any]:
    holders = [
        {
            "first_name": h["name"]["first"],
            "last_name": h["name"]["last"],
            "role": h.get("relationship", "PRIMARY").lower(),
        }
        for h in fdx["holders"]
    ]
    return {"holders": holders, **_points(fdx)}


def core_network(fdx: FdxObject) -> dict[str, Any]:
    return {
        "routing": fdx["bankId"],
        "number": fdx["identifier"],
        "number_kind": _KIND[fdx["identifierType"]],
        "rail": _RAIL[fdx["type"]],
        "can_receive": fdx["transferIn"],
        "can_send": fdx["transferOut"],
        "request_for_payment": fdx.get("supportsRequestForPayment", False),
    }


def core_statement(fdx: FdxObject) -> dict[str, Any]:
    core = {_STATEMENT[k]: v for k, v in fdx.items() if k in _STATEMENT}
    core["state"] = fdx.get("status", "AVAILABLE").lower()
    return core


# ---- misbehaviour on demand ----


@dataclass
class Behaviour:
    """What the core does to the next requests. ``script`` is consumed one entry per request
    (``None`` = behave); when it is empty, ``always`` applies. Entries: an HTTP status to answer
    with, ``"slow"`` (wait ``delay`` seconds, or until ``release`` is set), ``"malformed"``,
    ``"maintenance"`` (503 + Retry-After), ``"reset"`` (drop the connection). ``etags``:
    ``"strong"`` validators on JSON answers, ``"weak"`` ones (``W/``), or ``"off"``."""

    script: deque[int | str | None] = field(default_factory=deque)
    always: int | str | None = None
    delay: float = 0.0
    release: asyncio.Event | None = None
    retry_after: int | str | None = 120  # seconds or an HTTP-date; None: body flag only
    token: str | None = None
    requests: Counter[str] = field(default_factory=Counter)
    authorizations: list[str | None] = field(default_factory=list)
    etags: str = "strong"
    # (path and query, If-None-Match) of each request, and how many were answered 304.
    conditions: deque[tuple[str, str | None]] = field(default_factory=lambda: deque(maxlen=1000))
    not_modified: int = 0

    def next(self) -> int | str | None:
        return self.script.popleft() if self.script else self.always


_ERROR_CODES: dict[type[AdapterError], str] = {
    AccountClosed: "account_closed",
    AccountTypeNotSupported: "account_type_not_supported",
    StatementProcessing: "statement_processing",
}


def _json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(body), status=status, headers=headers, content_type="application/json"
    )


def _json_bytes(body: bytes) -> web.Response:
    return web.Response(body=body, content_type="application/json")


class ReferenceCore:
    """The core's aiohttp application over ``bank``.

    ``frozen``: the bank's data never changes (a benchmark), so each GET answer is built once
    per URL and kept, with its ETag; the core then "answers at once", as the benchmark of the
    adapter needs (docs/performance.md §5), and its own cost does not take the load generator's CPU.
    """

    def __init__(
        self, bank: BankAdapter, behaviour: Behaviour | None = None, *, frozen: bool = False
    ) -> None:
        self.bank = bank
        self.behaviour = behaviour or Behaviour()
        self.frozen = frozen
        self._transactions: dict[tuple[str, str], dict[str, Any]] = {}
        self._answers: dict[str, tuple[bytes, str]] = {}

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._misbehave])
        c, a = "/customers/{customer}", "/customers/{customer}/accounts/{account}"
        app.add_routes(
            [
                web.post("/auth/login", self.login),
                web.get(c, self.customer),
                web.get(c + "/accounts", self.accounts),
                web.get(a, self.account),
                web.get(a + "/transactions", self.transactions),
                web.get(a + "/contact", self.contact),
                web.get(a + "/payment-networks", self.networks),
                web.get(a + "/statements", self.statements),
                web.get(a + "/statements/{statement}", self.statement),
                # The optional categories, when the bank behind serves them.
                web.get(c + "/bill-payments", self.payments),
                web.get(c + "/standing-payments", self.standing_payments),
                web.get(c + "/standing-payments/{item}/payments", self.standing_payment_payments),
                web.get(c + "/rewards", self.reward_programs),
                web.get(c + "/rewards/{item}", self.reward_program),
                web.get(c + "/rewards/{item}/categories", self.reward_categories),
                web.get(a + "/images/{item}", self.image),
                web.get(a + "/images/{item}/content", self.image_content),
                web.get(c + "/tax-documents", self.tax_documents),
                web.get(c + "/tax-documents/{item}", self.tax_document),
                web.get(c + "/tax-documents/{item}/pdf", self.tax_document_pdf),
                web.get(a + "/transfer-networks", self.transfer_networks),
            ]
        )
        return app

    @web.middleware
    async def _misbehave(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        b = self.behaviour
        route = request.match_info.route.resource
        b.requests[route.canonical if route is not None else request.path] += 1
        b.authorizations.append(request.headers.get("Authorization"))
        b.conditions.append((request.path_qs, request.headers.get(hdrs.IF_NONE_MATCH)))
        if b.token is not None and not hmac.compare_digest(
            request.headers.get("Authorization", ""), f"Bearer {b.token}"
        ):
            return _json({"error": "unauthorized"}, 401)
        fault = b.next()
        if fault == "slow":
            if b.release is not None:
                await b.release.wait()
            else:
                await asyncio.sleep(b.delay)
        elif fault == "malformed":
            return web.Response(body=b'{"accounts": [', content_type="application/json")
        elif fault == "maintenance":
            after = {} if b.retry_after is None else {"Retry-After": str(b.retry_after)}
            return _json({"maintenance": True}, 503, after)
        elif fault == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        elif isinstance(fault, int):
            return _json({"error": "injected"}, fault)
        kept = self._answers.get(request.path_qs) if self.frozen else None
        if kept is not None and request.method == "GET":
            body, tag = kept
            return self._conditional(request, _json_bytes(body), tag)
        try:
            response = await handler(request)
        except AdapterError as exc:
            return self._failure(exc)
        answer = self._conditional(request, response)
        if self.frozen and request.method == "GET" and response.etag is not None:
            if isinstance(response, web.Response) and isinstance(response.body, bytes):
                self._answers[request.path_qs] = (response.body, response.etag.value)
        return answer

    def _conditional(
        self, request: web.Request, response: web.StreamResponse, tag: str | None = None
    ) -> web.StreamResponse:
        """A validator on every 200 JSON answer; 304 when the client already holds it."""
        b = self.behaviour
        if (
            b.etags == "off"
            or response.status != 200
            or not isinstance(response, web.Response)
            or response.content_type != "application/json"
            or not isinstance(response.body, bytes)
        ):
            return response
        tag = tag or hashlib.blake2b(response.body, digest_size=16).hexdigest()
        response.etag = ETag(tag, is_weak=b.etags == "weak")
        # §13.1.2: If-None-Match uses the weak comparison; "*" matches any current answer.
        held = request.if_none_match or ()
        if request.method == "GET" and any(e.value in (tag, "*") for e in held):
            b.not_modified += 1
            answer = web.Response(status=304)
            answer.etag = response.etag
            return answer
        return response

    def _failure(self, exc: AdapterError) -> web.Response:
        if isinstance(exc, ScheduledMaintenance):
            return _json({"maintenance": True}, 503, {"Retry-After": str(exc.retry_after)})
        for cls, code in _ERROR_CODES.items():
            if isinstance(exc, cls):
                return _json({"error": code}, 409)
        name = type(exc).__name__
        if name.endswith("NotFound"):
            return _json({"error": "not_found"}, 404)
        return _json({"error": "unavailable"}, 503 if name == "BankUnavailable" else 504)

    async def login(self, request: web.Request) -> web.Response:
        body = await request.json(loads=orjson.loads)
        customer = await self.bank.authenticate(str(body["username"]), str(body["password"]))
        if customer is None:
            return _json({"error": "invalid_credentials"}, 401)
        info = await self.bank.get_customer_info(customer.customer_id)
        return _json(core_customer(info))

    async def customer(self, request: web.Request) -> web.Response:
        await self.bank.get_customer(request.match_info["customer"])
        info = await self.bank.get_customer_info(request.match_info["customer"])
        return _json(core_customer(info))

    async def accounts(self, request: web.Request) -> web.Response:
        found = await self.bank.list_accounts(request.match_info["customer"])
        return _json({"accounts": [core_account(a) for a in found]})

    async def account(self, request: web.Request) -> web.Response:
        m = request.match_info
        return _json(core_account(await self.bank.get_account(m["customer"], m["account"])))

    async def transactions(self, request: web.Request) -> web.Response:
        m, window, page = request.match_info, _window(request), _page(request)
        account = await self.bank.get_account(m["customer"], m["account"])
        found = await self.bank.list_transactions(m["customer"], m["account"], window, page)
        body = {
            "account": {"id": m["account"], "category": _CATEGORY[account["accountCategory"]]},
            "transactions": [self._core_transaction(t) for t in found.items],
            "next_cursor": found.next_offset,
            "total": found.total,
        }
        return _json(body)

    def _core_transaction(self, fdx: FdxObject) -> dict[str, Any]:
        # Converted once per transaction: the core answers "at once" in benchmarks.
        key = (fdx["accountId"], fdx["transactionId"])
        core = self._transactions.get(key)
        if core is None:
            core = self._transactions[key] = core_transaction(fdx)
        return core

    async def contact(self, request: web.Request) -> web.Response:
        m = request.match_info
        return _json(core_contact(await self.bank.get_contact(m["customer"], m["account"])))

    async def networks(self, request: web.Request) -> web.Response:
        m = request.match_info
        found = await self.bank.list_payment_networks(m["customer"], m["account"], _page(request))
        body = {
            "networks": [core_network(n) for n in found.items],
            "next_cursor": found.next_offset,
            "total": found.total,
        }
        return _json(body)

    async def statements(self, request: web.Request) -> web.Response:
        m, window, page = request.match_info, _window(request), _page(request)
        found = await self.bank.list_statements(m["customer"], m["account"], window, page)
        body = {
            "account": {"id": m["account"]},
            "statements": [core_statement(s) for s in found.items],
            "next_cursor": found.next_offset,
            "total": found.total,
        }
        return _json(body)

    async def statement(self, request: web.Request) -> web.Response:
        m = request.match_info
        document = await self.bank.get_statement(m["customer"], m["account"], m["statement"])
        return web.Response(body=document.content, content_type=document.media_type)

    # ---- the optional categories: FDX shapes in deep snake_case (mapping.camelized inverts) ----

    async def payments(self, request: web.Request) -> web.Response:
        bank, m = capability.bills(self.bank), request.match_info
        found = await bank.list_payments(
            m["customer"], _accounts(request), _window(request), _page(request)
        )
        return _json(_listing("payments", found))

    async def standing_payments(self, request: web.Request) -> web.Response:
        bank, m = capability.bills(self.bank), request.match_info
        found = await bank.list_recurring_payments(
            m["customer"], _accounts(request), _page(request)
        )
        return _json(_listing("standing_payments", found))

    async def standing_payment_payments(self, request: web.Request) -> web.Response:
        bank, m = capability.bills(self.bank), request.match_info
        found = await bank.list_recurring_payment_payments(
            m["customer"], m["item"], _accounts(request), _window(request), _page(request)
        )
        return _json(_listing("payments", found))

    async def reward_programs(self, request: web.Request) -> web.Response:
        bank, m = capability.rewards(self.bank), request.match_info
        found = await bank.list_reward_programs(m["customer"], _page(request))
        return _json(_listing("programs", found))

    async def reward_program(self, request: web.Request) -> web.Response:
        bank, m = capability.rewards(self.bank), request.match_info
        return _json(snaked(await bank.get_reward_program(m["customer"], m["item"])))

    async def reward_categories(self, request: web.Request) -> web.Response:
        bank, m = capability.rewards(self.bank), request.match_info
        found = await bank.list_reward_categories(m["customer"], m["item"], _page(request))
        return _json(_listing("categories", found))

    async def image(self, request: web.Request) -> web.Response:
        bank, m = capability.images(self.bank), request.match_info
        found = await bank.get_transaction_image(m["customer"], m["account"], m["item"])
        body = {"media_type": found.media_type, "transaction_date": found.transaction_date}
        return _json({k: str(v) for k, v in body.items()})

    async def image_content(self, request: web.Request) -> web.Response:
        bank, m = capability.images(self.bank), request.match_info
        found = await bank.get_transaction_image(m["customer"], m["account"], m["item"])
        return web.Response(body=found.content, content_type=found.media_type)

    async def tax_documents(self, request: web.Request) -> web.Response:
        bank, m = capability.tax_forms(self.bank), request.match_info
        year = request.query.get("year")
        found = await bank.list_tax_forms(
            m["customer"], _accounts(request), int(year) if year else None, _page(request)
        )
        return _json(_listing("documents", found))

    async def tax_document(self, request: web.Request) -> web.Response:
        bank, m = capability.tax_forms(self.bank), request.match_info
        found = await bank.get_tax_form(m["customer"], _accounts(request), m["item"])
        return _json(snaked(found))

    async def tax_document_pdf(self, request: web.Request) -> web.Response:
        bank, m = capability.tax_forms(self.bank), request.match_info
        found = await bank.get_tax_form_pdf(m["customer"], _accounts(request), m["item"])
        return web.Response(body=found.content, content_type=found.media_type)

    async def transfer_networks(self, request: web.Request) -> web.Response:
        bank, m = capability.transfer_networks(self.bank), request.match_info
        found = await bank.list_asset_transfer_networks(m["customer"], m["account"])
        return _json({"networks": [snaked(n) for n in found]})


def snaked(value: Any) -> Any:
    """``value`` with every object key in snake_case, at every depth."""
    if isinstance(value, dict):
        return {snake(str(k)): snaked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snaked(v) for v in value]
    return value


def _listing(key: str, page: Page[FdxObject]) -> dict[str, Any]:
    return {
        key: [snaked(i) for i in page.items],
        "next_cursor": page.next_offset,
        "total": page.total,
    }


def _accounts(request: web.Request) -> list[str]:
    return [a for a in request.query.get("accounts", "").split(",") if a]


def _window(request: web.Request) -> Window:
    q = request.query
    return Window(date.fromisoformat(q["from"]), date.fromisoformat(q["to"]))


def _page(request: web.Request) -> PageRequest:
    return PageRequest(request.query.get("cursor"), int(request.query.get("limit", "100")))


async def serve(
    core: ReferenceCore,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[web.AppRunner, int]:
    """Start ``core`` on ``host:port`` (0: a free port); returns the runner and the port."""
    runner = web.AppRunner(core.app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    return runner, int(runner.addresses[0][1])


def main() -> None:
    from adapters.sandbox import SandboxBank

    parser = argparse.ArgumentParser(description="the reference bank core, over the sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--token-file", help="require this bearer token on every call")
    args = parser.parse_args()
    token = None
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as f:
            token = f.read().strip()
    core = ReferenceCore(SandboxBank(), Behaviour(token=token))
    web.run_app(core.app(), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

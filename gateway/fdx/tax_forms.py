"""TAX: ``GET /tax-forms`` and ``GET /tax-forms/{taxFormId}`` (FDX searchForTaxForms,
getTaxForm), read-only.

A tax document is the customer's but is issued for accounts: only documents whose every form
belongs to a consented account with TAX exist for the recipient. The adapter is given those
accounts, and the gateway checks its answer anyway (an HTTP core answers whatever it answers): a
listed document with a form outside them is dropped, and one asked for by id is refused as
unknown (404/1200) before its JSON or its PDF is served, since a PDF cannot be narrowed.
``accountId`` narrows to one of them (404/701 for any other), ``taxYear`` to a year
(FDX allows 2018 to 2050: 400/1202 otherwise), ``taxForms`` to form types (comma-separated).
A document comes as TaxStatement JSON with its ``forms`` (``taxDataType=JSON``, the default) or
its PDF in ``pdf`` (``BASE64_PDF``); ``GET /tax-forms/{taxFormId}`` with ``Accept:
application/pdf`` answers the PDF itself. The look-back window does not apply: a tax form
reports a whole year, and FDX asks for it by year.
"""

from __future__ import annotations

import base64
import re
from dataclasses import replace
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from adapters import capability
from adapters.base import TaxFormsSource, TaxStatement
from adapters.errors import TaxFormNotFound
from authz.services import Services
from gateway.audit import AuditLog
from gateway.errors import AccountNotFound, InvalidInput, TaxYearNotSupported
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.negotiation import negotiate
from gateway.pagination import envelope, page_request
from gateway.projection import project
from gateway.responses import NO_STORE, fdx_json

LIST = "GET /tax-forms"
ONE = "GET /tax-forms/{taxFormId}"
YEARS = range(2018, 2051)  # TaxYear in FDX 6.2: minimum 2018, maximum 2050
DATA_TYPES = ("JSON", "BASE64_PDF")
_YEAR = re.compile(r"[0-9]{4}")
_FORM_TYPE = re.compile(r"[A-Za-z0-9]{1,40}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


async def list_tax_forms(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    negotiate(call.request, ("application/json",))
    bank = capability.tax_forms(call.services.bank)
    wanted = _account(call, accounts)
    year, kinds, data_type = _year(call), _form_types(call), _data_type(call)
    paging = page_request(call.query, call.services.settings)
    page = await bank.list_tax_forms(call.ctx.customer_id, wanted, year, paging)
    statements = [s for s in page.items if _within(s, wanted)]
    if len(statements) != len(page.items):
        page = replace(page, total=None)
    if kinds is not None:
        # Filtered here, after the adapter's page: the page's total no longer counts what is shown.
        statements = [s for s in statements if _types(s) & kinds]
        page = replace(page, total=None)
    items = [await _shaped(call, bank, s, wanted, clusters, data_type) for s in statements]
    body = envelope(call.request, page, "statements", items)
    return Served(fdx_json(body), wanted, clusters, len(items))


async def get_tax_form(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    bank = capability.tax_forms(call.services.bank)
    tax_form_id = call.path["taxFormId"]
    media_type = negotiate(call.request, ("application/json", "application/pdf"))
    statement = await bank.get_tax_form(call.ctx.customer_id, accounts, tax_form_id)
    if not _within(statement, accounts):
        raise TaxFormNotFound("a form of the statement is outside the consent")
    if media_type == "application/pdf":
        document = await bank.get_tax_form_pdf(call.ctx.customer_id, accounts, tax_form_id)
        response = Response(document.content, media_type="application/pdf")
        response.headers["cache-control"] = NO_STORE
        name = _UNSAFE.sub("_", tax_form_id)[:64] or "tax-form"
        response.headers["content-disposition"] = f'inline; filename="tax-form-{name}.pdf"'
        return Served(response, accounts, clusters, 1)
    body = await _shaped(call, bank, statement, accounts, clusters, _data_type(call))
    return Served(fdx_json(body), accounts, clusters, 1)


async def _shaped(
    call: Call,
    bank: TaxFormsSource,
    statement: TaxStatement,
    accounts: tuple[str, ...],
    clusters: frozenset[str],
    data_type: str,
) -> dict[str, Any]:
    """The statement projected to TAX's fields, its forms narrowed to the consented accounts
    (the adapter already did; this holds whatever it does), as JSON forms or as a PDF."""
    out = dict(project(statement, call.services.policy.allowed_fields("tax_statement", clusters)))
    forms = out.get("forms")
    if isinstance(forms, list):
        out["forms"] = [f for f in forms if _form_accounts(f) <= set(accounts)]
    if data_type == "BASE64_PDF":
        document = await bank.get_tax_form_pdf(
            call.ctx.customer_id, accounts, str(statement.get("taxStatementId"))
        )
        out.pop("forms", None)
        out["taxDataType"] = "BASE64_PDF"
        out["pdf"] = base64.b64encode(document.content).decode("ascii")
    return out


def _account(call: Call, accounts: tuple[str, ...]) -> tuple[str, ...]:
    account_id = call.query.get("accountId")
    if account_id is None:
        return accounts
    if account_id not in accounts:
        raise AccountNotFound()
    return (account_id,)


def _year(call: Call) -> int | None:
    raw = call.query.get("taxYear")
    if raw is None:
        return None
    if not _YEAR.fullmatch(raw) or int(raw) not in YEARS:
        raise TaxYearNotSupported(f"taxYear must be a year from {YEARS[0]} to {YEARS[-1]}")
    return int(raw)


def _form_types(call: Call) -> frozenset[str] | None:
    raw = call.query.get("taxForms")
    if raw is None:
        return None
    kinds = frozenset(k.strip() for k in raw.split(",") if k.strip())
    if not kinds or not all(_FORM_TYPE.fullmatch(k) for k in kinds):
        raise InvalidInput("taxForms is a comma-separated list of FDX TypeFormType names")
    return kinds


def _data_type(call: Call) -> str:
    raw = call.query.get("taxDataType", "JSON")
    if raw not in DATA_TYPES:
        raise InvalidInput("taxDataType must be JSON or BASE64_PDF")
    return raw


def _types(statement: TaxStatement) -> frozenset[str]:
    return frozenset(
        str(body.get("taxFormType"))
        for form in statement.get("forms", ())
        if isinstance(form, dict)
        for body in form.values()
        if isinstance(body, dict)
    )


def _within(statement: TaxStatement, accounts: tuple[str, ...]) -> bool:
    """Whether the statement has forms and every one is for a consented account: what decides
    that its PDF, which holds every form, may be served at all."""
    forms = statement.get("forms")
    if not isinstance(forms, list) or not forms:
        return False
    consented = set(accounts)
    return all(_form_accounts(f) <= consented for f in forms)


def _form_accounts(form: Any) -> set[str]:
    if not isinstance(form, dict):
        return {""}
    return {str(b.get("accountId")) for b in form.values() if isinstance(b, dict)}


def routes(services: Services, audit: AuditLog) -> list[Route]:
    return [
        fdx_route("/tax-forms", LIST, list_tax_forms, services, audit),
        fdx_route("/tax-forms/{taxFormId}", ONE, get_tax_form, services, audit),
    ]

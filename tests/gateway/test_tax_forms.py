"""TAX: last year's 1099-INT and 1099-B as FDX TaxStatement JSON and as PDF."""

from __future__ import annotations

import base64
from typing import Any

from tests.gateway.conftest import assert_fdx_error

EVERY = {"CHECKING": ["TAX"], "SAVINGS": ["TAX"], "TAXABLE": ["TAX"]}


def _types(statements: list[dict[str, Any]]) -> list[str]:
    return sorted(k for s in statements for f in s["forms"] for k in f)


def test_last_years_forms_are_listed_as_tax_statements(alice, fdx_validate):
    """A 1099-INT per deposit account and a 1099-B for the brokerage, for 2025."""
    token = alice.grant(EVERY)

    response = alice.h.get("/fdx/v6/tax-forms?taxYear=2025", token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "TaxStatementList")
    statements = response.json()["statements"]
    assert ["tax1099B", "tax1099Int", "tax1099Int"] == _types(statements)
    assert {2025} == {s["taxYear"] for s in statements}
    assert all(s["recipient"]["tin"].startswith("xxx-xx-") for s in statements)


def test_the_tax_year_filter(alice, fdx_validate):
    """Another year has none; a year FDX does not know is 400/1202."""
    token = alice.grant(EVERY)

    none = alice.h.get("/fdx/v6/tax-forms?taxYear=2024", token)
    bad = alice.h.get("/fdx/v6/tax-forms?taxYear=1999", token)

    assert [] == none.json()["statements"]
    assert_fdx_error(bad, 400, "1202", fdx_validate)


def test_only_forms_of_consented_accounts(alice, fdx_validate):
    """TAX on the brokerage only: its 1099-B and nothing else; accountId of another: 404/701."""
    token = alice.grant({"TAXABLE": ["TAX"], "CHECKING": ["ACCOUNT_BASIC"]})

    listed = alice.h.get("/fdx/v6/tax-forms", token).json()["statements"]
    other = alice.h.get(f"/fdx/v6/tax-forms?accountId={alice.accounts['CHECKING']}", token)

    assert ["tax1099B"] == _types(listed)
    assert_fdx_error(other, 404, "701", fdx_validate)
    interest = next(s for s in alice.record.tax_statements if "tax1099Int" in s["forms"][0])
    hidden = alice.h.get(f"/fdx/v6/tax-forms/{interest['taxStatementId']}", token)
    assert_fdx_error(hidden, 404, "1200", fdx_validate)


def test_one_form_as_json_and_as_pdf(alice, fdx_validate):
    """By id: TaxStatement JSON by default, the PDF with Accept: application/pdf or inside the
    JSON with taxDataType=BASE64_PDF."""
    token = alice.grant(EVERY)
    form_id = alice.record.tax_statements[0]["taxStatementId"]
    url = f"/fdx/v6/tax-forms/{form_id}"

    as_json = alice.h.get(url, token)
    as_pdf = alice.h.get(url, token, headers={"Accept": "application/pdf"})
    embedded = alice.h.get(f"{url}?taxDataType=BASE64_PDF", token)

    fdx_validate(as_json.json(), "TaxStatement4")
    assert form_id == as_json.json()["taxStatementId"]
    assert "application/pdf" == as_pdf.headers["content-type"]
    assert "nosniff" == as_pdf.headers["x-content-type-options"]  # bytes from the core
    assert as_pdf.content.startswith(b"%PDF-")
    assert b"1099-INT" in as_pdf.content
    assert "BASE64_PDF" == embedded.json()["taxDataType"]
    assert base64.b64decode(embedded.json()["pdf"]) == as_pdf.content


def test_tax_form_errors(alice, fdx_validate):
    """Unknown id 404/1200; Accept nothing offered 406/1203; no TAX at all 403/602."""
    token = alice.grant(EVERY)
    no_tax = alice.grant({"CHECKING": ["ACCOUNT_BASIC"]})

    unknown = alice.h.get("/fdx/v6/tax-forms/tax_nope", token)
    not_acceptable = alice.h.get(
        "/fdx/v6/tax-forms/tax_nope", token, headers={"Accept": "image/png"}
    )
    forbidden = alice.h.get("/fdx/v6/tax-forms", no_tax)

    assert_fdx_error(unknown, 404, "1200", fdx_validate)
    assert_fdx_error(not_acceptable, 406, "1203", fdx_validate)
    assert_fdx_error(forbidden, 403, "602", fdx_validate)


def test_the_form_type_filter(alice):
    """taxForms=Tax1099B keeps the broker statement only."""
    token = alice.grant(EVERY)

    body = alice.h.get("/fdx/v6/tax-forms?taxForms=Tax1099B", token).json()

    assert ["tax1099B"] == _types(body["statements"])
    assert "totalElements" not in body["page"]  # the adapter's total counted the others too

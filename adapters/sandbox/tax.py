"""Last tax year's information returns (FDX TaxStatement) and their PDF renderings.

A 1099-INT for each deposit account that earned interest in the year, and a 1099-B for a taxable
brokerage account that sold securities in it (a 401(k) reports no sales to the customer). Figures
come from the accounts' own transactions; the recipient's TIN is masked to its last four digits,
and no account number appears (``accountId`` ties each form to its account).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from fpdf import FPDF

from adapters.sandbox.book import opaque_id
from adapters.sandbox.catalog import BANK_NAME, SECURITIES, Person
from adapters.sandbox.pdf import ascii_text
from adapters.sandbox.simulate import price

ISSUER_TIN = "94-1234567"  # fictional EIN
ISSUER_STREET = "100 Sandbox Plaza"
ISSUER: dict[str, Any] = {
    "tin": ISSUER_TIN,
    "partyType": "BUSINESS",
    "businessName": {"name1": BANK_NAME},
    "address": {
        "line1": ISSUER_STREET,
        "city": "Portland",
        "region": "OR",
        "postalCode": "97204",
        "country": "US",
    },
    "phone": {"number": "8005550100"},
}
FORM_DATE = (1, 31)  # information returns are furnished by January 31


def tax_year(today: date) -> int:
    return today.year - 1


def interest_form(
    seed: int, person: Person, account_id: str, transactions: Iterable[dict[str, Any]], year: int
) -> dict[str, Any] | None:
    """A TaxStatement with one 1099-INT, or None when the account earned nothing that year."""
    cents = sum(
        round(float(t["amount"]) * 100)
        for t in transactions
        if t.get("transactionType") == "INTEREST" and _posted_in(t, year)
    )
    if cents <= 0:
        return None
    return _statement(seed, person, account_id, year, "Tax1099Int", "tax1099Int",
                      {"interestIncome": cents / 100, "federalTaxWithheld": 0.0})  # fmt: skip


def broker_form(
    seed: int, person: Person, account_id: str, transactions: Iterable[dict[str, Any]], year: int
) -> dict[str, Any] | None:
    """A TaxStatement with one 1099-B listing the year's sales, or None when nothing was sold."""
    details = []
    for t in transactions:
        if t.get("transactionType") != "SOLD" or not _posted_in(t, year):
            continue
        security = next(s for s in SECURITIES if s.symbol == t.get("symbol"))
        sold_on = date.fromisoformat(str(t["postedTimestamp"])[:10])
        shares = float(t["shares"])
        basis = round(shares * price(security, sold_on.replace(year=sold_on.year - 1)), 2)
        details.append(
            {
                "securityName": security.name,
                "cusip": security.cusip,
                "numberOfShares": shares,
                "saleDescription": f"{shares:g} sh. {security.symbol}",
                "variousDatesAcquired": True,
                "dateOfSale": sold_on.isoformat(),
                "salesPrice": float(t["amount"]),
                "costBasis": basis,
                "longOrShort": "LONG",
                "noncoveredSecurity": False,
                "basisReported": True,
                "grossOrNet": "GROSS",
            }
        )
    if not details:
        return None
    return _statement(seed, person, account_id, year, "Tax1099B", "tax1099B",
                      {"securityDetails": details, "federalTaxWithheld": 0.0})  # fmt: skip


def render_tax_pdf(statement: dict[str, Any]) -> bytes:
    """The statement as the customer would print it: issuer, recipient and every box filled."""
    pdf = FPDF(format="Letter")
    pdf.set_compression(False)
    year = int(statement["taxYear"])
    pdf.set_title(ascii_text(f"{BANK_NAME} tax statement {year}"))
    pdf.set_author(BANK_NAME)
    pdf.set_creation_date(datetime(year + 1, *FORM_DATE, tzinfo=UTC))
    pdf.add_page()
    for form in statement["forms"]:
        for key, body in form.items():
            _form_page(pdf, statement, key, body)
    return bytes(pdf.output())


def _form_page(pdf: FPDF, statement: dict[str, Any], key: str, body: dict[str, Any]) -> None:
    title = {"tax1099Int": "Form 1099-INT  Interest Income",
             "tax1099B": "Form 1099-B  Proceeds From Broker Transactions"}[key]  # fmt: skip
    recipient = statement["recipient"]
    name = recipient["individualName"]
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, f"{title}  ({statement['taxYear']})", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    lines = [
        f"PAYER: {BANK_NAME}, {ISSUER_STREET}, Portland OR  TIN {ISSUER_TIN}",
        ascii_text(f"RECIPIENT: {name['first']} {name['last']}  TIN {recipient['tin']}"),
        f"Form id: {body['taxFormId']}",
    ]
    if key == "tax1099Int":
        lines.append(f"Box 1 Interest income: ${body['interestIncome']:,.2f}")
        lines.append(f"Box 4 Federal income tax withheld: ${body['federalTaxWithheld']:,.2f}")
    else:
        for d in body["securityDetails"]:
            lines.append(
                f"{d['saleDescription']}  sold {d['dateOfSale']}  proceeds ${d['salesPrice']:,.2f}"
                f"  basis ${d['costBasis']:,.2f}  (CUSIP {d['cusip']})"
            )
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)


def _statement(
    seed: int,
    person: Person,
    account_id: str,
    year: int,
    form_type: str,
    key: str,
    boxes: dict[str, Any],
) -> dict[str, Any]:
    statement_id = opaque_id("tax", seed, account_id, year, form_type)
    recipient = {
        "tin": f"xxx-xx-{person.tax_id_last4}",
        "partyType": "INDIVIDUAL",
        "individualName": {"first": person.first, "last": person.last},
        "address": {
            "line1": person.line1,
            "city": person.city,
            "region": person.region,
            "postalCode": person.postal_code,
            "country": "US",
        },
    }
    form = {
        "taxYear": year,
        "taxFormId": statement_id,
        "taxFormDate": date(year + 1, *FORM_DATE).isoformat(),
        "taxFormType": form_type,
        "accountId": account_id,
        "corrected": False,
        "issuer": ISSUER,
        "recipient": recipient,
        **boxes,
    }
    return {
        "taxYear": year,
        "taxStatementId": statement_id,
        "issuer": ISSUER,
        "recipient": recipient,
        "taxDataType": "JSON",
        "forms": [{key: form}],
    }


def _posted_in(txn: dict[str, Any], year: int) -> bool:
    return str(txn.get("postedTimestamp", ""))[:4] == str(year)

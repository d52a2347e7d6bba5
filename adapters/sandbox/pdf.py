"""Monthly statements as real PDF documents (fpdf2, built-in Helvetica).

The core PDF fonts only cover Latin-1, so every string is folded to ASCII first: accents are
stripped and other scripts dropped. Content streams are left uncompressed; statements are small
and searchable bytes make them easy to check.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from fpdf import FPDF

from adapters.sandbox.catalog import BANK_NAME

COLUMNS = ((24, "Date"), (96, "Description"), (30, "Amount"), (30, "Type"))


def ascii_text(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(folded.split())


def money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) / 100:,.2f}"


def render_statement(
    *,
    customer: str,
    account: dict[str, Any],
    start: date,
    end: date,
    opening: int,
    closing: int,
    transactions: Iterable[dict[str, Any]],
) -> bytes:
    """One statement period; ``transactions`` are the posted ones, in any order."""
    pdf = FPDF(format="Letter")
    pdf.set_compression(False)
    pdf.set_title(ascii_text(f"{BANK_NAME} statement {start.isoformat()} to {end.isoformat()}"))
    pdf.set_author(BANK_NAME)
    pdf.set_creation_date(datetime(end.year, end.month, end.day, tzinfo=UTC))
    pdf.add_page()
    _header(pdf, customer, account, start, end, opening, closing)
    _table(pdf, sorted(transactions, key=lambda t: t["postedTimestamp"]))
    return bytes(pdf.output())


def _header(
    pdf: FPDF,
    customer: str,
    account: dict[str, Any],
    start: date,
    end: date,
    opening: int,
    closing: int,
) -> None:
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, BANK_NAME, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    lines = (
        ascii_text(customer),
        ascii_text(f"{account['productName']} {account['accountNumberDisplay']}"),
        f"Statement period: {start.isoformat()} to {end.isoformat()}",
        f"Opening balance: {money(opening)}",
        f"Closing balance: {money(closing)}",
    )
    for line in lines:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _table(pdf: FPDF, transactions: list[dict[str, Any]]) -> None:
    pdf.set_font("Helvetica", "B", 10)
    for width, title in COLUMNS:
        pdf.cell(width, 7, title, border="B")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    if not transactions:
        pdf.cell(0, 6, "No transactions this period.", new_x="LMARGIN", new_y="NEXT")
    for txn in transactions:
        sign = "-" if txn["debitCreditMemo"] == "DEBIT" else ""
        cells = (
            txn["postedTimestamp"][:10],
            ascii_text(txn["description"])[:52],
            f"{sign}{txn['amount']:,.2f}",
            txn["transactionType"],
        )
        for (width, _), text in zip(COLUMNS, cells, strict=True):
            pdf.cell(width, 5, text)
        pdf.ln()

"""Check images as real PNG files (Pillow): the front as the payee saw it, the back endorsed.

Drawn from the check transaction itself (number, date, amount, memo), with Pillow's built-in
bitmap font, so the same check always gives the same bytes. The account number is printed
masked in the MICR line: an image must not become a second way out for the full number.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw

from adapters.sandbox.catalog import BANK_NAME
from adapters.sandbox.pdf import ascii_text
from adapters.sandbox.setup import ROUTING_NUMBER

SIZE = (640, 280)  # ~6 x 2.75 in at ~106 dpi: a personal check's proportions
INK = (20, 30, 70)
PAPER = (232, 240, 236)


def render_check(txn: dict[str, Any], side: str, *, drawer: str, masked_account: str) -> bytes:
    """A PNG of one side (``front`` or ``back``) of the check ``txn`` records."""
    image = Image.new("RGB", SIZE, PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((4, 4, SIZE[0] - 5, SIZE[1] - 5), outline=INK, width=2)
    if side == "front":
        _front(draw, txn, drawer, masked_account)
    else:
        _back(draw, txn)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _front(draw: ImageDraw.ImageDraw, txn: dict[str, Any], drawer: str, masked: str) -> None:
    day = str(txn.get("transactionTimestamp", ""))[:10]
    payee = txn.get("payee") or txn.get("memo") or "Cash"
    lines = (
        ((20, 18), ascii_text(drawer)),
        ((480, 18), f"No. {txn.get('checkNumber', '')}"),
        ((480, 48), f"Date {day}"),
        ((20, 96), f"PAY TO THE ORDER OF  {ascii_text(str(payee))}"),
        ((480, 96), f"$ {float(txn['amount']):,.2f}"),
        ((20, 150), f"Memo: {ascii_text(str(txn.get('memo', '')))}"),
        ((400, 150), "______________________"),
        ((20, 200), BANK_NAME),
        ((20, 240), f"|: {ROUTING_NUMBER} |:  {masked}  || {txn.get('checkNumber', '')}"),
    )
    for where, text in lines:
        draw.text(where, text, fill=INK)


def _back(draw: ImageDraw.ImageDraw, txn: dict[str, Any]) -> None:
    posted = str(txn.get("postedTimestamp", txn.get("transactionTimestamp", "")))[:10]
    draw.text((20, 18), "ENDORSE HERE", fill=INK)
    draw.line((20, 60, 300, 60), fill=INK)
    draw.text((20, 80), "FOR DEPOSIT ONLY", fill=INK)
    draw.text((20, 200), f"PAID {posted}  {BANK_NAME.upper()}", fill=INK)

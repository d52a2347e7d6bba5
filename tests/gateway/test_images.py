"""IMAGES: check images by the ids in a transaction's imageIds."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.gateway.conftest import Alice, assert_fdx_error

CHECKS = "startTime=2025-03-15&endTime=2026-03-15&limit=500"


def _checks(alice: Alice, token: str) -> list[dict[str, Any]]:
    account = alice.accounts["CHECKING"]
    txns = alice.h.get(f"/fdx/v6/accounts/{account}/transactions?{CHECKS}", token).json()
    return [t for t in txns["transactions"] if t.get("imageIds")]


def test_every_month_has_a_check_with_images(alice, fdx_validate):
    """A checking account shows a check in each of the last twelve months, with two images."""
    token = alice.grant({"CHECKING": ["TRANSACTIONS", "IMAGES"]})

    checks = _checks(alice, token)

    months = {t["transactionTimestamp"][:7] for t in checks}
    assert len(months) >= 12
    assert all(len(t["imageIds"]) == 2 for t in checks)


def test_a_check_image_is_a_real_png(alice):
    """The front of the newest check: image/png, decodable, never cached."""
    token = alice.grant({"CHECKING": ["TRANSACTIONS", "IMAGES"]})
    image_id = _checks(alice, token)[0]["imageIds"][0]
    account = alice.accounts["CHECKING"]

    response = alice.h.get(f"/fdx/v6/accounts/{account}/transaction-images/{image_id}", token)

    assert 200 == response.status_code
    assert "image/png" == response.headers["content-type"]
    assert "no-store" == response.headers["cache-control"]
    assert "nosniff" == response.headers["x-content-type-options"]  # bytes from the core
    assert (640, 280) == Image.open(io.BytesIO(response.content)).size


def test_an_image_older_than_the_lookback_is_not_found(alice, fdx_validate):
    """A 60-day look-back: a check from ten months ago answers 404/1103, a recent one 200."""
    full = alice.grant({"CHECKING": ["TRANSACTIONS", "IMAGES"]})
    checks = _checks(alice, full)
    old = next(t for t in checks if t["transactionTimestamp"] < "2025-06-01")["imageIds"][0]
    recent = checks[0]["imageIds"][0]
    token = alice.grant({"CHECKING": ["IMAGES"]}, lookback=60)
    base = f"/fdx/v6/accounts/{alice.accounts['CHECKING']}/transaction-images"

    assert_fdx_error(alice.h.get(f"{base}/{old}", token), 404, "1103", fdx_validate)
    assert 200 == alice.h.get(f"{base}/{recent}", token).status_code


def test_images_obey_the_consented_accounts_and_cluster(alice, fdx_validate):
    """Another account: 404/701; the account without IMAGES: 403/602; unknown image: 404/1103."""
    full = alice.grant({"CHECKING": ["TRANSACTIONS", "IMAGES"]})
    image_id = _checks(alice, full)[0]["imageIds"][0]
    chk = alice.accounts["CHECKING"]
    savings_only = alice.grant({"SAVINGS": ["IMAGES"]})
    no_images = alice.grant({"CHECKING": ["TRANSACTIONS"]})

    outside = alice.h.get(f"/fdx/v6/accounts/{chk}/transaction-images/{image_id}", savings_only)
    without = alice.h.get(f"/fdx/v6/accounts/{chk}/transaction-images/{image_id}", no_images)
    unknown = alice.h.get(f"/fdx/v6/accounts/{chk}/transaction-images/img_nope", full)

    assert_fdx_error(outside, 404, "701", fdx_validate)
    assert_fdx_error(without, 403, "602", fdx_validate)
    assert_fdx_error(unknown, 404, "1103", fdx_validate)


def test_an_image_the_client_cannot_accept_is_406(alice, fdx_validate):
    """Accept: application/json only: the PNG cannot be sent, 406/1203."""
    full = alice.grant({"CHECKING": ["TRANSACTIONS", "IMAGES"]})
    image_id = _checks(alice, full)[0]["imageIds"][0]
    chk = alice.accounts["CHECKING"]

    response = alice.h.get(
        f"/fdx/v6/accounts/{chk}/transaction-images/{image_id}",
        full,
        headers={"Accept": "application/json"},
    )

    assert_fdx_error(response, 406, "1203", fdx_validate)

"""Every failure leaves as an FDX Error1, with the right status, code and headers."""

from __future__ import annotations

import pytest

from adapters.errors import (
    AccountClosed,
    BankTimeout,
    BankUnavailable,
    CustomerNotFound,
    ScheduledMaintenance,
)
from tests.gateway.conftest import assert_fdx_error

TXNS = "/fdx/v6/accounts/acc-chk/transactions"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (BankTimeout("core slow for alice"), 503, "501"),
        (BankUnavailable("down"), 503, "501"),
        (AccountClosed("acc-chk"), 409, "705"),
        (CustomerNotFound("cust-1"), 404, "601"),
    ],
    ids=["timeout", "unavailable", "closed", "customer"],
)
def test_adapter_errors_map_through_the_one_table(h, fdx_validate, error, status, code):
    """adapters.errors.fdx_code_for decides; the adapter's own message never leaves."""
    _, token = h.grant()
    h.bank.fail = error

    body = assert_fdx_error(h.get(TXNS, token), status, code, fdx_validate)

    assert str(error) not in body["debugMessage"]


def test_maintenance_says_when_to_retry(h, fdx_validate):
    """503/503 with Retry-After (RFC 9110 §10.2.3)."""
    _, token = h.grant()
    h.bank.fail = ScheduledMaintenance(retry_after=120)

    response = h.get(TXNS, token)

    assert_fdx_error(response, 503, "503", fdx_validate)
    assert "120" == response.headers["retry-after"]


def test_an_unexpected_exception_is_a_500_with_only_the_interaction_id(h, fdx_validate, caplog):
    """No traceback, no exception text: the interaction id joins the response to the log."""
    _, token = h.grant()
    h.bank.fail = RuntimeError("secret detail of customer alice")

    with caplog.at_level("DEBUG"):
        response = h.get(TXNS, token, headers={"x-fapi-interaction-id": "abc-123"})

    logged = "\n".join(r.getMessage() + str(r.exc_info or "") for r in caplog.records)
    assert "abc-123" in logged
    assert "alice" not in logged, "the exception's text never reaches the log"
    assert token not in logged

    body = assert_fdx_error(response, 500, "500", fdx_validate)
    assert "interaction id abc-123" == body["debugMessage"]
    assert "alice" not in response.text
    assert "Traceback" not in response.text


def test_an_unknown_path_under_v6_is_1107(h, fdx_validate):
    """404/1107 in the FDX shape, even without a token."""
    response = h.get("/fdx/v6/nothing/here", None)

    assert_fdx_error(response, 404, "1107", fdx_validate)


def test_a_wrong_method_is_1206(h, fdx_validate):
    """405/1206 with Allow: GET, before any token check."""
    response = h.client.post("/fdx/v6/accounts")

    assert_fdx_error(response, 405, "1206", fdx_validate)
    assert "GET" == response.headers["allow"]


@pytest.mark.parametrize("path", ["/fdx/v5/accounts", "/fdx/v7", "/fdx/v4/accounts/a/transactions"])
def test_another_fdx_version_is_1106(h, fdx_validate, path):
    """501/1106: FdxVersion not supported."""
    assert_fdx_error(h.get(path, None), 501, "1106", fdx_validate)


def test_the_bare_v6_root_is_not_found(h, fdx_validate):
    """/fdx/v6 itself is no operation: 404/1107, not 501."""
    assert_fdx_error(h.get("/fdx/v6", None), 404, "1107", fdx_validate)

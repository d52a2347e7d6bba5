"""Every failure leaves as an FDX Error1, with the right status, code and headers."""

from __future__ import annotations

import inspect

import pytest

from adapters import errors as bank
from adapters.errors import (
    AccountClosed,
    BankTimeout,
    BankUnavailable,
    CustomerNotFound,
    ScheduledMaintenance,
)
from gateway.errors import FROM_ADAPTER, FdxError, from_adapter
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
    """gateway.errors.FROM_ADAPTER decides; the adapter's own message never leaves. An
    unplanned outage carries no Retry-After: only planned downtime does (gateway/metrics.py)."""
    _, token = h.grant()
    h.bank.fail = error

    response = h.get(TXNS, token)
    body = assert_fdx_error(response, status, code, fdx_validate)

    assert str(error) not in body["debugMessage"]
    assert "retry-after" not in response.headers


# Every adapter error and the answer it gets (docs/adapters.md lists the same table).
ANSWERS = [
    (bank.CustomerNotFound, 404, "601"),
    (bank.AccountNotFound, 404, "701"),
    (bank.StatementNotFound, 404, "1104"),
    (bank.StatementProcessing, 400, "1300"),
    (bank.RecurringPaymentNotFound, 404, "806"),
    (bank.RewardProgramNotFound, 404, "1101"),
    (bank.RewardCategoriesNotFound, 404, "1102"),
    (bank.ImageNotFound, 404, "1103"),
    (bank.TaxFormNotFound, 404, "1200"),
    (bank.TaxFormsNotYetAvailable, 409, "1205"),
    (bank.CategoryNotServed, 501, "1106"),
    (bank.AccountClosed, 409, "705"),
    (bank.AccountTypeNotSupported, 422, "704"),
    (bank.ScheduledMaintenance, 503, "503"),
    (bank.BankUnavailable, 503, "501"),
    (bank.BankTimeout, 503, "501"),
]


@pytest.mark.parametrize(
    ("error", "status", "code"), ANSWERS, ids=[error.__name__ for error, _, _ in ANSWERS]
)
def test_the_table_answers_each_adapter_error(error, status, code):
    """Status and code come from the gateway's class; the message is the FDX one, not the
    adapter's text."""
    answer = from_adapter(error("alice's account acc-1"))

    assert (status, code) == (answer.status, answer.code)
    assert "alice" not in answer.debug


def test_every_adapter_error_is_in_the_table():
    """A new adapter error without a row would be a 500: each has its own answer."""
    defined = {
        cls
        for _, cls in inspect.getmembers(bank, inspect.isclass)
        if issubclass(cls, bank.AdapterError) and cls is not bank.AdapterError
    }

    assert defined == {error for error, _, _ in ANSWERS}
    assert all(type(from_adapter(cls())) is not FdxError for cls in defined)


def test_no_row_of_the_table_is_hidden_by_a_base_above_it():
    """Read top to bottom, first match wins: a subclass must stand above its base."""
    rows = list(FROM_ADAPTER)

    hidden = [
        (later.__name__, earlier.__name__)
        for i, earlier in enumerate(rows)
        for later in rows[i + 1 :]
        if issubclass(later, earlier)
    ]
    assert [] == hidden


def test_an_adapter_error_outside_the_table_is_a_500():
    """A class the table does not know (an adapter's own subclass of the base) answers 500."""

    class Odd(bank.AdapterError):
        pass

    answer = from_adapter(Odd("detail"))

    assert (500, "500", "Internal server error") == (answer.status, answer.code, answer.debug)


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

"""links.next.href: the request's path and query with only the cursor replaced."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from gateway.pagination import next_href

PATH = "/fdx/v6/accounts/a1/transactions"


def _request(query: str, path: str = PATH) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "root_path": "",
            "query_string": query.encode("latin-1"),
            "headers": [(b"host", b"bank.example")],
        }
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "offset=7"),
        ("startTime=2026-01-01&limit=2", "startTime=2026-01-01&limit=2&offset=7"),
        ("limit=2&offset=3&endTime=2026-02-01", "limit=2&endTime=2026-02-01&offset=7"),
        ("pageKey=3&limit=2", "limit=2&pageKey=7"),
        ("off%73et=3&limit=2", "limit=2&offset=7"),
        ("limit=2&&x=a+b%20c&", "limit=2&x=a+b%20c&offset=7"),
    ],
)
def test_the_cursor_is_replaced_and_the_rest_kept_as_sent(query: str, expected: str) -> None:
    """Other parameters keep their order and spelling; an encoded cursor name is still found."""
    assert next_href(_request(query), "7") == f"{PATH}?{expected}"


def test_a_path_with_reserved_characters_stays_one_path() -> None:
    """A decoded ``?`` or ``#`` in the path is escaped again, as Starlette's request.url does."""
    request = _request("limit=1", path="/fdx/v6/accounts/a?b#c/transactions")

    assert next_href(request, "2") == "/fdx/v6/accounts/a%3Fb%23c/transactions?limit=1&offset=2"
    assert next_href(request, "2").split("?")[0] == request.url.path

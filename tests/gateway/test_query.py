"""Query aliases (``one_of``) and the FDX JSON response's headers."""

from __future__ import annotations

import orjson
import pytest
from starlette.responses import Response

from gateway.errors import InvalidInput
from gateway.query import one_of
from gateway.responses import fdx_json


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, None),
        ({"offset": "2"}, "2"),
        ({"pageKey": "3"}, "3"),
        ({"offset": "4", "pageKey": "4"}, "4"),
        ({"limit": "5"}, None),
    ],
    ids=["neither", "first", "second", "both-agree", "other-names"],
)
def test_the_first_present_alias_is_the_value(query, expected):
    """Either alias may carry the value; both may, if they agree."""
    assert expected == one_of(query, "offset", "pageKey")


def test_aliases_that_disagree_are_refused():
    """offset=1&pageKey=2 is ambiguous: 400/401 naming both."""
    with pytest.raises(InvalidInput, match="offset and pageKey disagree"):
        one_of({"offset": "1", "pageKey": "2"}, "offset", "pageKey")


@pytest.mark.parametrize("headers", [None, {"Retry-After": "5"}], ids=["data", "with-headers"])
def test_fdx_json_has_the_headers_starlette_would_give(headers):
    """The fast response and Starlette's own agree on headers, in order, and on the body."""
    body = {"page": {"totalElements": 1}, "transactions": [{"amount": 1.5}]}
    expected = Response(
        orjson.dumps(body),
        status_code=200,
        media_type="application/json",
        headers={"cache-control": "no-store", **(headers or {})},
    )

    actual = fdx_json(body, 200, headers)

    assert expected.raw_headers == actual.raw_headers
    assert expected.body == actual.body
    assert "application/json" == actual.media_type

"""Reading the query (``read_query``, ``one_of``) and the FDX JSON response's headers."""

from __future__ import annotations

import itertools
from urllib.parse import parse_qsl

import orjson
import pytest
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors import InvalidInput
from gateway.query import MAX_FIELDS, one_of, read_query
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


def _read(raw: bytes) -> dict[str, str]:
    return read_query(Request({"type": "http", "query_string": raw}))


def _stdlib(raw: bytes) -> dict[str, str]:
    return dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="strict"))


PIECES = (b"a", b"b", b"=", b"&", b";", b"", b"\xc3\xa9", b"\xff", b" ", b"#", b"?", b"x=1")


@pytest.mark.parametrize("size", [1, 2, 3, 4])
def test_every_plain_query_reads_as_parse_qsl_reads_it(size):
    """Without ``%`` or ``+`` nothing is decoded, and the fast split gives parse_qsl's pairs:
    every string of up to four pieces, repeated names aside (those are refused)."""
    for parts in itertools.product(PIECES, repeat=size):
        raw = b"".join(parts)
        names = [p.partition(b"=")[0] for p in raw.split(b"&") if p]
        if len(names) != len(set(names)):
            continue

        assert _stdlib(raw) == _read(raw), raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a=%C3%A9&b=x+y", {"a": "\u00e9", "b": "x y"}),
        (b"q=%2B%26&r", {"q": "+&", "r": ""}),
        (b"startTime=2026-01-01&endTime=2026-01-31&limit=100",
         {"startTime": "2026-01-01", "endTime": "2026-01-31", "limit": "100"}),
    ],
    ids=["escaped", "escaped-separators", "plain"],
)  # fmt: skip
def test_escaped_queries_are_decoded(raw, expected):
    """Percent escapes and ``+`` go through parse_qsl, as before."""
    assert expected == _read(raw)


@pytest.mark.parametrize("escaped", [False, True], ids=["plain", "escaped"])
def test_too_many_fields_are_refused(escaped):
    """64 fields at most, with or without escapes, as parse_qsl's max_num_fields."""
    fields = [f"f{n}={'%41' if escaped else 'A'}" for n in range(MAX_FIELDS)]
    _read("&".join(fields).encode())

    with pytest.raises(InvalidInput, match="not valid"):
        _read("&".join([*fields, "one=more"]).encode())


def test_a_bad_escape_is_refused():
    """An escape that is not UTF-8 is 400/401, not a 500."""
    with pytest.raises(InvalidInput, match="not valid"):
        _read(b"a=%FF")

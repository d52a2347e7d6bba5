"""Query parameters of FDX requests, read once and strictly.

A repeated parameter is ambiguous (which ``limit`` wins?), so it is refused rather than guessed;
an oversized value is refused before anything parses it. Unknown parameters are ignored, as FDX
clients may send newer ones (e.g. 6.4's ``pageKey`` to a 6.2 server).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.requests import Request

from gateway.errors import InvalidInput

MAX_VALUE = 1024
MAX_FIELDS = 64

Query = dict[str, str]
_PLAIN = re.compile(rb"[^%+]*").fullmatch  # nothing for parse_qsl to decode


def read_query(request: Request) -> Query:
    raw = request.scope.get("query_string", b"")
    if not raw:
        return {}
    if raw.count(b"&") >= MAX_FIELDS:
        raise InvalidInput("query string is not valid")  # parse_qsl's max_num_fields
    text = raw.decode("latin-1")
    try:
        pairs = _split(text) if _PLAIN(raw) else _parse(text)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput("query string is not valid") from None
    query: Query = {}
    for name, value in pairs:
        if name in query:
            raise InvalidInput(f"query parameter {_safe(name)} is repeated")
        if len(value) > MAX_VALUE:
            raise InvalidInput(f"query parameter {_safe(name)} is too long")
        query[name] = value
    return query


def _parse(text: str) -> list[tuple[str, str]]:
    return parse_qsl(
        text,
        keep_blank_values=True,
        encoding="utf-8",
        errors="strict",
        max_num_fields=MAX_FIELDS,
    )


def _split(text: str) -> list[tuple[str, str]]:
    """``_parse`` of a query with no ``%`` and no ``+``, where decoding changes nothing: the
    same pairs (a name without ``=`` has an empty value, empty parts are skipped) at a third of
    the cost. Every FDX list call pays for its query, and clients rarely escape anything."""
    pairs = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return pairs


def one_of(query: Query, *names: str) -> str | None:
    """The value of the first present alias (FDX 6.4 ``pageKey`` for ``offset``, ``startDate``
    for ``startTime``); two aliases with different values are refused."""
    found: str | None = None
    for name in names:
        value = query.get(name)
        if value is None:
            continue
        if found is not None and value != found:
            raise InvalidInput(f"{' and '.join(names)} disagree")
        found = value
    return found


def _safe(name: str) -> str:
    """A parameter name fit to echo in ``debugMessage``: short, and only harmless characters."""
    cleaned = "".join(c for c in name[:40] if c.isalnum() or c in "_-")
    return cleaned or "(unnamed)"

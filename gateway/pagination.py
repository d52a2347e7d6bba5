"""Pagination (docs/fdx.md §1): ``limit`` plus an opaque cursor, ``offset`` or its FDX 6.4 alias
``pageKey``; the response carries ``page.nextOffset`` and ``page.nextPageKey`` (the same value)
and ``links.next.href``, which repeats the original query with only the cursor replaced."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_plus

from starlette.requests import Request

from adapters.base import Page, PageRequest
from config.settings import Settings
from gateway.errors import InvalidInput
from gateway.query import Query, one_of

_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,64}")
_LIMIT = re.compile(r"[0-9]{1,6}")


def page_request(query: Query, settings: Settings) -> PageRequest:
    raw_limit = query.get("limit")
    if raw_limit is None:
        limit = settings.page_limit_default
    elif _LIMIT.fullmatch(raw_limit) and 1 <= int(raw_limit) <= settings.page_limit_max:
        limit = int(raw_limit)
    else:
        raise InvalidInput(f"limit must be a whole number from 1 to {settings.page_limit_max}")
    offset = one_of(query, "offset", "pageKey")
    if offset is not None and not _CURSOR.fullmatch(offset):
        raise InvalidInput("offset is not a cursor this server issued")
    return PageRequest(offset=offset, limit=limit)


def envelope(request: Request, page: Page[Any], key: str, items: list[Any]) -> dict[str, Any]:
    """``{"page", "links"?, key: items}``: the FDX paginated array shape."""
    meta: dict[str, Any] = {}
    body: dict[str, Any] = {"page": meta}
    if page.next_offset is not None:
        meta["nextOffset"] = meta["nextPageKey"] = page.next_offset
        body["links"] = {"next": {"href": next_href(request, page.next_offset)}}
    if page.total is not None:
        meta["totalElements"] = page.total
    body[key] = items
    return body


def next_href(request: Request, cursor: str) -> str:
    """The request's own path and query with the cursor replaced (FDX 4.1 §11: the next link
    repeats the original parameters). ``pageKey`` stays ``pageKey`` if that is what was sent.

    Every page of every list pays for this, so it works on the raw query string: the other
    parameters are kept exactly as the client sent them (read_query has already refused one that
    is not valid UTF-8), only the names are decoded to find the cursor, and the cursor, which
    matches ``_CURSOR``, needs no quoting (~5 µs instead of ~20 µs for parse and re-encode)."""
    scope = request.scope
    name = "offset"
    kept: list[str] = []
    for part in scope.get("query_string", b"").decode("latin-1").split("&"):
        if not part:
            continue
        key = part.split("=", 1)[0]
        if "%" in key or "+" in key:
            key = unquote_plus(key)
        if key == "pageKey":
            name = key
        elif key != "offset":
            kept.append(part)
    kept.append(f"{name}={cursor}")
    # Starlette's request.url.path, without building the whole URL.
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    return f"{path}?{'&'.join(kept)}"

"""``display_timezone``: a tz database zone, resolved once per name."""

from __future__ import annotations

from datetime import UTC, tzinfo
from functools import cache
from zoneinfo import ZoneInfo


@cache
def zone(name: str) -> tzinfo:
    """The tz database zone ``name`` (ValueError if unknown); "UTC" needs no database."""
    if name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc

"""Dates and times as people write them, in their language ("7 March 2027, 14:05 UTC",
"2027年3月7日 14:05 JST"), from Babel's CLDR data rather than a format string per language.

Shown in ``display_timezone`` (the bank's consumers' zone, a tz database name), named by its
abbreviation, so nobody has to convert from UTC in their head."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_time

from config.zones import zone

# The CLDR locale for each screen language: British English writes the day first, in words.
LOCALES = {"en": "en_GB", "ja": "ja", "es": "es"}
_JOIN = {"ja": " "}  # between the date and the time; ", " elsewhere


def in_words(ts: float, lang: str, tz: str = "UTC") -> str:
    """The date alone: "7 March 2027"."""
    moment = datetime.fromtimestamp(ts, zone(tz))
    return format_date(moment, format="long", locale=LOCALES.get(lang, "en_GB"))


def at(ts: float, lang: str, tz: str = "UTC") -> str:
    """Date and time with the zone's abbreviation: "7 March 2027, 14:05 UTC"."""
    moment = datetime.fromtimestamp(ts, zone(tz))
    locale = LOCALES.get(lang, "en_GB")
    day = format_date(moment, format="long", locale=locale)
    clock = format_time(moment, format="short", locale=locale)
    return f"{day}{_JOIN.get(lang, ', ')}{clock} {moment.tzname()}"

"""Dates as people write them, in their language ("7 March 2027", "2027年3月7日"), via Babel's
CLDR data rather than a format string per language."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from babel.dates import format_date

# The CLDR locale for each screen language: British English writes the day first, in words.
LOCALES = {"en": "en_GB", "ja": "ja", "es": "es"}


def in_words(ts: float, lang: str, tz: tzinfo = UTC) -> str:
    return format_date(
        datetime.fromtimestamp(ts, tz), format="long", locale=LOCALES.get(lang, "en_GB")
    )

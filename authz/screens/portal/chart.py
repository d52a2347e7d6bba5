"""Accesses per day as the numbers of an SVG bar chart, computed here and drawn by a template.

The chart has a labelled scale (0, halfway, the busiest day's count, each with a grid line)
and dates in the consumer's words and zone. Everything the template draws is a number or a
date string computed in Python and escaped by
Jinja's autoescape; no markup is built by hand. The same numbers feed the table that is the
chart's text alternative (WCAG 2.2 SC 1.1.1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from babel.dates import format_date, format_skeleton

from authz.notices import dates
from config import zones

DAY = 86400
WIDTH = 600  # viewBox units; the SVG scales to its container
HEIGHT = 160
AXIS = 24  # room for the date labels under the bars
LEFT = 32  # room for the scale's numbers left of the bars
TOP = 16  # room for the scale's caption above the bars
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    day: str  # in words, in the consumer's language and zone: "3 December 2025"
    short: str  # for the axis: "3 Dec"
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    text: str
    anchor: str  # SVG text-anchor: the first label starts at its bar, the last ends at its bar


@dataclass(frozen=True, slots=True)
class Tick:
    """A line of the scale: its height and the number of accesses it stands for."""

    y: float
    value: int


@dataclass(frozen=True, slots=True)
class Chart:
    bars: tuple[Bar, ...]
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - AXIS
    left: int = LEFT
    top: int = TOP

    @property
    def ticks(self) -> tuple[Tick, ...]:
        """The scale: 0, the peak and (from 2 up) a whole number halfway, each a grid line."""
        if self.peak == 0:
            return (Tick(self.baseline, 0),)
        values = sorted({0, (self.peak + 1) // 2, self.peak})
        plot = self.baseline - self.top
        return tuple(Tick(round(self.baseline - plot * v / self.peak, 2), v) for v in values)

    @property
    def labels(self) -> tuple[Label, ...]:
        """Dates written under the axis: the first, middle and last day."""
        if not self.bars:
            return ()
        first, middle, last = self.bars[0], self.bars[len(self.bars) // 2], self.bars[-1]
        return (
            Label(first.x, first.short, "start"),
            Label(round(middle.x + middle.width / 2, 2), middle.short, "middle"),
            Label(round(last.x + last.width, 2), last.short, "end"),
        )


def daily(
    times: Iterable[float], now: float, days: int = 30, *, lang: str = "en", tz: str = "UTC"
) -> Chart:
    """One bar per day (in the zone ``tz``) for the ``days`` days ending today; accesses
    outside are ignored."""
    zone = zones.zone(tz)
    today = datetime.fromtimestamp(now, zone).date()
    first = today - timedelta(days=days - 1)
    counts = Counter(
        d for d in (datetime.fromtimestamp(t, zone).date() for t in times) if first <= d <= today
    )
    peak = max(counts.values(), default=0)
    plot = HEIGHT - AXIS - TOP
    step = (WIDTH - LEFT) / days
    bars = []
    for i in range(days):
        day = first + timedelta(days=i)
        n = counts.get(day, 0)
        height = 0.0 if peak == 0 else round(plot * n / peak, 2)
        bars.append(
            Bar(
                day=_words(day, lang),
                short=format_skeleton("MMMd", day, locale=dates.LOCALES.get(lang, "en_GB")),
                count=n,
                x=round(LEFT + i * step + GAP / 2, 2),
                y=round(HEIGHT - AXIS - height, 2),
                width=round(step - GAP, 2),
                height=height,
            )
        )
    return Chart(bars=tuple(bars), total=sum(counts.values()), peak=peak)


def _words(day: date, lang: str) -> str:
    return format_date(day, format="long", locale=dates.LOCALES.get(lang, "en_GB"))

"""Accesses per day as the numbers of an SVG bar chart, computed here and drawn by a template.

Everything the template draws is a number or a date string computed in Python and escaped by
Jinja's autoescape; no markup is built by hand. The same numbers feed the table that is the
chart's text alternative (WCAG 2.2 SC 1.1.1).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

DAY = 86400
WIDTH = 600  # viewBox units; the SVG scales to its container
HEIGHT = 160
AXIS = 24  # room for the date labels under the bars
GAP = 2


@dataclass(frozen=True, slots=True)
class Bar:
    day: str  # YYYY-MM-DD (UTC)
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
class Chart:
    bars: tuple[Bar, ...]
    total: int
    peak: int
    width: int = WIDTH
    height: int = HEIGHT
    baseline: int = HEIGHT - AXIS

    @property
    def labels(self) -> tuple[Label, ...]:
        """Dates written under the axis: the first, middle and last day."""
        if not self.bars:
            return ()
        first, middle, last = self.bars[0], self.bars[len(self.bars) // 2], self.bars[-1]
        return (
            Label(first.x, first.day, "start"),
            Label(round(middle.x + middle.width / 2, 2), middle.day, "middle"),
            Label(round(last.x + last.width, 2), last.day, "end"),
        )


def daily(times: Iterable[float], now: float, days: int = 30) -> Chart:
    """One bar per UTC day for the ``days`` days ending today; accesses outside are ignored."""
    today = int(now // DAY)
    first = today - days + 1
    counts = Counter(int(t // DAY) for t in times if first <= int(t // DAY) <= today)
    peak = max(counts.values(), default=0)
    plot = HEIGHT - AXIS - 4  # tallest bar leaves a little headroom
    step = WIDTH / days
    bars = []
    for i in range(days):
        n = counts.get(first + i, 0)
        height = 0.0 if peak == 0 else round(plot * n / peak, 2)
        bars.append(
            Bar(
                day=datetime.fromtimestamp((first + i) * DAY, UTC).strftime("%Y-%m-%d"),
                count=n,
                x=round(i * step + GAP / 2, 2),
                y=round(HEIGHT - AXIS - height, 2),
                width=round(step - GAP, 2),
                height=height,
            )
        )
    return Chart(bars=tuple(bars), total=sum(counts.values()), peak=peak)

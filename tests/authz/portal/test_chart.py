"""authz.screens.portal.chart: accesses per UTC day as bar geometry."""

from __future__ import annotations

from authz.screens.portal import chart

NOW = 1_767_225_600.0 + 3600  # 2026-01-01T01:00:00Z
DAY = 86400


def test_a_bar_per_day_for_thirty_days_ending_today() -> None:
    """30 bars, oldest first, today last."""
    drawn = chart.daily([], NOW)

    assert len(drawn.bars) == 30
    assert (drawn.bars[0].day, drawn.bars[-1].day) == ("3 December 2025", "1 January 2026")
    assert (drawn.total, drawn.peak) == (0, 0)
    assert all(b.height == 0 for b in drawn.bars)


def test_the_busiest_day_is_the_tallest_bar_and_older_accesses_are_left_out() -> None:
    """Heights are proportional to the peak; accesses older than 30 days are not counted."""
    times = [NOW, NOW - 60, NOW - DAY, NOW - 40 * DAY]

    drawn = chart.daily(times, NOW)

    today, yesterday = drawn.bars[-1], drawn.bars[-2]
    assert (today.count, yesterday.count, drawn.total, drawn.peak) == (2, 1, 3, 2)
    assert today.height == 2 * yesterday.height
    assert today.y + today.height == drawn.baseline


def test_the_axis_is_labelled_with_three_dates_inside_the_chart() -> None:
    """First, middle and last day, anchored so none is cut off at the edges."""
    labels = chart.daily([], NOW).labels

    assert [(label.text, label.anchor) for label in labels] == [
        ("3 Dec", "start"),
        ("18 Dec", "middle"),
        ("1 Jan", "end"),
    ]
    assert labels[-1].x <= chart.WIDTH


def test_the_scale_is_labelled_from_zero_to_the_busiest_day() -> None:
    """Grid lines at 0, halfway and the peak, the peak's line at the tallest bar's top."""
    times = [NOW] * 4 + [NOW - DAY]
    drawn = chart.daily(times, NOW)
    assert [tick.value for tick in drawn.ticks] == [0, 2, 4]
    assert drawn.ticks[0].y == drawn.baseline
    assert drawn.ticks[-1].y == drawn.bars[-1].y
    assert all(bar.x >= drawn.left for bar in drawn.bars)
    assert [tick.value for tick in chart.daily([], NOW).ticks] == [0]


def test_days_follow_the_consumers_zone_and_language() -> None:
    """An access at 23:30 UTC is the next day in Tokyo, in Japanese words."""
    late = NOW - 3600 - 1800  # 2025-12-31T23:30:00Z = 2026-01-01 08:30 JST
    drawn = chart.daily([late], NOW, lang="ja", tz="Asia/Tokyo")
    assert drawn.bars[-1].day == "2026年1月1日"
    assert drawn.bars[-1].count == 1
    utc = chart.daily([late], NOW)
    assert (utc.bars[-2].day, utc.bars[-2].count) == ("31 December 2025", 1)

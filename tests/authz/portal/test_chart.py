"""authz.screens.portal.chart: accesses per UTC day as bar geometry."""

from __future__ import annotations

from authz.screens.portal import chart

NOW = 1_767_225_600.0 + 3600  # 2026-01-01T01:00:00Z
DAY = 86400


def test_a_bar_per_day_for_thirty_days_ending_today() -> None:
    """30 bars, oldest first, today last."""
    drawn = chart.daily([], NOW)

    assert len(drawn.bars) == 30
    assert (drawn.bars[0].day, drawn.bars[-1].day) == ("2025-12-03", "2026-01-01")
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
        ("2025-12-03", "start"),
        ("2025-12-18", "middle"),
        ("2026-01-01", "end"),
    ]
    assert labels[-1].x <= chart.WIDTH

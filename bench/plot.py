"""The throughput and p99 plot of docs/performance.md, as a hand-made SVG (no plotting library:
the figure is two panels of polylines, and the stdlib escapes what goes into it).

    python -m bench.plot bench/results/fdx_read.json docs/performance-fdx-read.svg
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from xml.sax.saxutils import escape

COLOURS = {"bare": "#555555", "sqlite": "#1f77b4", "postgres": "#d62728"}
LABELS = {
    "bare": "bare Starlette endpoint",
    "sqlite": "gateway, SQLite + memory",
    "postgres": "gateway, PostgreSQL + Redis",
}
WIDTH, HEIGHT = 920, 400
PANEL_W, PANEL_H = 360, 250
LEFT, TOP = 80, 70
GAP = 100


class Point(Protocol):
    @property
    def rps(self) -> float: ...
    @property
    def p99_ms(self) -> float: ...


def fdx_read_svg(
    med: Mapping[str, Mapping[int, Point]], conns: Sequence[int], facts: Mapping[str, Any]
) -> str:
    kinds = list(med)
    rps = {k: [med[k][c].rps for c in conns] for k in kinds}
    p99 = {k: [med[k][c].p99_ms for c in conns] for k in kinds}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        _text(
            WIDTH / 2,
            24,
            "GET /fdx/v6/accounts/{id}/transactions, 100 a page: "
            "server on one core, wrk on the other",
            size=14,
            anchor="middle",
        ),
        _text(
            WIDTH / 2,
            44,
            f"{facts.get('cpu', '')}, {facts.get('nproc', '?')} cores, "
            f"Python {facts.get('python', '?')}; medians of alternating rounds",
            anchor="middle",
            fill="#555",
        ),
    ]
    parts += _panel(LEFT, "throughput (requests/s)", conns, rps, kinds)
    parts += _panel(LEFT + PANEL_W + GAP, "p99 latency (ms)", conns, p99, kinds)
    y = TOP + PANEL_H + 55
    x = LEFT
    for kind in kinds:
        colour = COLOURS.get(kind, "#2ca02c")
        parts.append(
            f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" '
            f'stroke="{colour}" stroke-width="2.5"/>'
        )
        parts.append(_text(x + 30, y, LABELS.get(kind, kind)))
        x += 60 + 7 * len(LABELS.get(kind, kind))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _panel(
    x0: float,
    title: str,
    conns: Sequence[int],
    series: Mapping[str, Sequence[float]],
    kinds: Sequence[str],
) -> list[str]:
    top = max(max(v) for v in series.values())
    y_max = _nice(top * 1.1)
    lx = [math.log2(c) for c in conns]
    lo, hi = min(lx), max(lx)
    span = (hi - lo) or 1.0

    def px(i: int) -> float:
        return x0 + (lx[i] - lo) / span * PANEL_W

    def py(v: float) -> float:
        return TOP + PANEL_H - v / y_max * PANEL_H

    out = [
        _text(x0 + PANEL_W / 2, TOP - 10, title, size=13, anchor="middle"),
        f'<rect x="{x0}" y="{TOP}" width="{PANEL_W}" height="{PANEL_H}" fill="none" '
        'stroke="#999"/>',
    ]
    for step in range(6):
        v = y_max * step / 5
        y = py(v)
        out.append(
            f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + PANEL_W}" y2="{y:.1f}" stroke="#e5e5e5"/>'
        )
        out.append(_text(x0 - 6, y + 4, _fmt(v), anchor="end", fill="#555"))
    for i, c in enumerate(conns):
        x = px(i)
        out.append(
            f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + PANEL_H}" stroke="#e5e5e5"/>'
        )
        out.append(_text(x, TOP + PANEL_H + 16, str(c), anchor="middle", fill="#555"))
    out.append(
        _text(
            x0 + PANEL_W / 2,
            TOP + PANEL_H + 33,
            "concurrent connections (log scale)",
            anchor="middle",
            fill="#555",
        )
    )
    for kind in kinds:
        colour = COLOURS.get(kind, "#2ca02c")
        points = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(series[kind]))
        out.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
        )
        for i, v in enumerate(series[kind]):
            out.append(
                f'<circle cx="{px(i):.1f}" cy="{py(v):.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(kind)}: {_fmt(v)}</title></circle>"
            )
    return out


def _nice(v: float) -> float:
    """The round number at or above ``v`` that makes five even gridlines."""
    if v <= 0:
        return 1.0
    exp = 10.0 ** math.floor(math.log10(v))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if m * exp >= v:
            return m * exp
    return 10 * exp


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}".rstrip("0").rstrip(".")
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _text(
    x: float, y: float, s: str, *, size: int = 12, anchor: str = "start", fill: str = "#222"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}">{escape(s)}</text>'
    )


class _Median:
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.rps = float(raw["rps"])
        self.p99_ms = float(raw["p99_ms"])


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 2:
        print("usage: python -m bench.plot RESULTS.json OUT.svg", file=sys.stderr)
        return 2
    result = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    conns = [int(c) for c in result["connections"]]
    med = {k: {int(c): _Median(v) for c, v in per.items()} for k, per in result["median"].items()}
    Path(args[1]).write_text(fdx_read_svg(med, conns, result["machine"]), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

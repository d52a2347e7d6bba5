"""The conformance report: one outcome per check, the latency of each adapter call, a verdict."""

from __future__ import annotations

import enum
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class Status(enum.StrEnum):
    PASSED = "PASS"
    FAILED = "FAIL"
    SKIPPED = "SKIP"


@dataclass(frozen=True, slots=True)
class Outcome:
    check: str
    status: Status
    detail: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Latency:
    method: str
    calls: int
    p50_ms: float
    max_ms: float

    @classmethod
    def of(cls, method: str, seconds: Sequence[float]) -> Latency:
        return cls(method, len(seconds), statistics.median(seconds) * 1e3, max(seconds) * 1e3)


@dataclass(frozen=True, slots=True)
class Report:
    adapter: str
    outcomes: tuple[Outcome, ...]
    latencies: tuple[Latency, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """No check failed (skipped checks do not fail a run, but the report shows them)."""
        return all(o.status is not Status.FAILED for o in self.outcomes)

    def counts(self) -> Mapping[Status, int]:
        return {s: sum(o.status is s for o in self.outcomes) for s in Status}

    def render(self, *, problems_shown: int = 5) -> str:
        lines = [f"FDX adapter conformance: {self.adapter}", ""]
        width = max((len(o.check) for o in self.outcomes), default=10)
        for o in self.outcomes:
            lines.append(f"  {o.status.value}  {o.check:<{width}}  {o.detail}")
            for problem in o.problems[:problems_shown]:
                lines.append(f"        {'':<{width}}  - {problem}")
            if len(o.problems) > problems_shown:
                lines.append(f"        {'':<{width}}  … {len(o.problems) - problems_shown} more")
        if self.latencies:
            lines += ["", f"  {'latency':<24} {'calls':>6} {'p50 ms':>9} {'max ms':>9}"]
            for lat in self.latencies:
                lines.append(
                    f"  {lat.method:<24} {lat.calls:>6} {lat.p50_ms:>9.2f} {lat.max_ms:>9.2f}"
                )
        c = self.counts()
        verdict = "PASSED" if self.passed else "FAILED"
        lines += [
            "",
            f"{verdict}: {c[Status.PASSED]} passed, {c[Status.FAILED]} failed, "
            f"{c[Status.SKIPPED]} skipped",
        ]
        return "\n".join(lines)

"""Exponential backoff with full jitter between retries of idempotent reads.

``delay = random() × min(cap, base × 2^attempt)`` ("full jitter", AWS Architecture Blog,
"Exponential Backoff and Jitter", 2015): spreads retries of many clients over the whole interval,
so a core that blinked is not hit by a synchronized wave. Randomness is injected for tests.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    base: float = 0.05
    cap: float = 1.0

    def delay(self, attempt: int, draw: float) -> float:
        """Seconds to wait before retry number ``attempt + 1``; ``draw`` is uniform in [0, 1)."""
        return draw * min(self.cap, self.base * 2.0**attempt)

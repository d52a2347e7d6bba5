"""The published rate limits of the FDX data API: per recipient and per consent, the same rule
for every recipient (CFPB 12 CFR 1033.311(d): reasonable, written, non-discriminatory).

Each FDX data call counts once against its recipient (``client_id``) and once against its
consent, in fixed windows of ``rate_limit_window`` seconds aligned to the clock: at most
``rate_limit_per_client × window`` calls per recipient and ``rate_limit_per_consent × window``
per consent in each window, so a recipient may burst through a window's allowance at once.
Over either limit the call is refused with HTTP 429, FDX code 1207 and ``Retry-After`` (the
seconds until the window ends: RFC 9110 §10.2.3), and audited as a 429.

The counters live in the StateStore, so every gateway instance sharing it enforces one limit:
two increments a call, sent beside the gate's own reads (``RateLimiter.admit``), so a call that
the gate then refuses (a revoked token, an ended consent) may have been counted: it was traffic
of that recipient all the same. The consumer's revocation (the portal) and the recipient's
``PUT /consents/{id}/revocation`` never pass here: ending a consent must never be blocked.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable

from authz.store.base import Kind, StateStore
from config.settings import Settings
from gateway.errors import FdxError


class TooManyRequests(FdxError):
    """FDX 1207 / HTTP 429 (docs/fdx.md §3)."""

    code, status, message = "1207", 429, "Too Many Requests"


class RateLimiter:
    def __init__(
        self,
        state: StateStore,
        *,
        per_client: int,
        per_consent: int,
        window: int,
        clock: Callable[[], float],
    ) -> None:
        self._state = state
        self._client_limit = per_client * window
        self._consent_limit = per_consent * window
        self._window = window
        self._clock = clock

    @classmethod
    def from_settings(
        cls, state: StateStore, settings: Settings, clock: Callable[[], float]
    ) -> RateLimiter:
        return cls(
            state,
            per_client=settings.rate_limit_per_client,
            per_consent=settings.rate_limit_per_consent,
            window=settings.rate_limit_window,
            clock=clock,
        )

    @property
    def enabled(self) -> bool:
        return bool(self._client_limit or self._consent_limit)

    async def check(self, client_id: str, consent_id: str) -> None:
        """Count one call; raises ``TooManyRequests`` when it is over either limit."""
        await self.admit(client_id, consent_id)

    def admit(self, client_id: str, consent_id: str) -> asyncio.Future[None]:
        """Start counting one call now and answer later: the future fails with
        ``TooManyRequests`` when the call is over either limit. The FDX gate starts it beside
        its own reads, so on a shared Redis the two counters travel in the gate's pipeline
        (authz.store.redis) instead of a round trip of their own, and awaits it once its checks
        pass: a refusal of the gate still wins over a 429. A caller that stops waiting cancels
        the future; counters already sent stay counted."""
        now = self._clock()
        index = int(now // self._window)
        names: list[str] = []
        limits: list[int] = []
        if self._client_limit:
            names.append(f"c:{client_id}:{index}")
            limits.append(self._client_limit)
        if self._consent_limit:
            names.append(f"k:{consent_id}:{index}")
            limits.append(self._consent_limit)
        if not names:
            done = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return asyncio.ensure_future(self._judge(names, limits, index, now))

    async def _judge(self, names: list[str], limits: list[int], index: int, now: float) -> None:
        # The TTL only cleans up: the window index in the key decides which window counts.
        counts = await self._state.incr_many(Kind.RATE, names, ttl=self._window + 1)
        if any(count > limit for count, limit in zip(counts, limits, strict=True)):
            retry = max(1, math.ceil((index + 1) * self._window - now))
            raise TooManyRequests(
                f"rate limit exceeded; retry after {retry} s",
                headers={"Retry-After": str(retry)},
            )


__all__ = ["RateLimiter", "TooManyRequests"]

"""The published rate limits: per recipient and per consent, the same for every recipient, FDX
429/1207 with Retry-After, audited, and never in the way of a consent's revocation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.testclient import TestClient

from authz.access_tokens import CONSENTS_SCOPE
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore
from authz.store.redis import Command, RedisStateStore
from config.policy import load_policy
from config.settings import Settings
from gateway.errors import fdx_exception_handlers
from gateway.fdx import routes, version_routes
from gateway.middleware import InteractionIdMiddleware
from gateway.ratelimit import RateLimiter, TooManyRequests
from tests.contracts.conftest import REDIS_URL, new_prefix, purge_prefix, require_redis
from tests.gateway.conftest import FakeClock, Harness, assert_fdx_error

ACCOUNTS = "/fdx/v6/accounts"
WINDOW = 10
PER_CONSENT = 1  # per second: 10 calls in a 10 s window
PER_CLIENT = 2  # per second: 20 calls in a 10 s window


class Limited(Harness):
    """The gateway harness with small limits, so a test can reach them in a few calls."""

    def __init__(self) -> None:
        super().__init__()
        self.client.close()
        self.clock.now = 1_780_000_000.0  # the start of a window
        settings = Settings(
            rate_limit_per_client=PER_CLIENT,
            rate_limit_per_consent=PER_CONSENT,
            rate_limit_window=WINDOW,
            profile="sandbox",  # plain bearer tokens: sender constraint is tested elsewhere
        )
        self.services = Services.build(
            settings,
            policy=load_policy(),
            records=self.records,
            state=self.state,
            bank=self.bank,
            keys=SigningKeys.generate(),
            clock=self.clock,
        )
        self.client = TestClient(self.app(), raise_server_exceptions=False)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Mount("/fdx/v6", routes=routes(self.services)), *version_routes()],
            middleware=[Middleware(InteractionIdMiddleware)],
            exception_handlers=fdx_exception_handlers,
        )

    def calls(self, token: str, n: int) -> list[int]:
        return [self.get(ACCOUNTS, token).status_code for _ in range(n)]


@pytest.fixture
def lim() -> Iterator[Limited]:
    harness = Limited()
    with harness.client:
        yield harness


def test_the_call_over_the_consent_limit_gets_fdx_1207_with_retry_after(lim, fdx_validate):
    """Ten calls in the window pass; the eleventh is refused until the window ends."""
    _, token = lim.grant()
    lim.clock.advance(3.5)

    statuses = lim.calls(token, 10)
    refused = lim.get(ACCOUNTS, token)

    assert [200] * 10 == statuses
    body = assert_fdx_error(refused, 429, "1207", fdx_validate)
    assert "7" == refused.headers["retry-after"]  # 6.5 s left, rounded up
    assert "Too Many Requests" == body["message"]


def test_the_next_window_opens_again(lim):
    """A refused recipient is served again once the window it exhausted has passed."""
    _, token = lim.grant()
    lim.calls(token, 11)
    lim.clock.advance(WINDOW)

    assert 200 == lim.get(ACCOUNTS, token).status_code


def test_the_recipient_limit_spans_its_consents_and_spares_other_recipients(lim):
    """Twenty calls a window per recipient over any consents; another recipient is unaffected."""
    _, first = lim.grant()
    _, second = lim.grant()
    _, other = lim.grant(client_id="client-2")

    statuses = lim.calls(first, 10) + lim.calls(second, 10) + lim.calls(second, 1)

    assert [200] * 20 + [429] == statuses
    assert 200 == lim.get(ACCOUNTS, other).status_code


def test_a_refused_call_is_audited_as_429(lim):
    """The recipient's attempt over the limit is in the consumer's access log."""
    consent, token = lim.grant()
    lim.calls(token, 11)

    statuses = [event.status for event in lim.audit(consent)]

    assert [200] * 10 + [429] == statuses


def test_consent_revocation_is_never_rate_limited(lim):
    """Over every limit, the recipient can still end the consent (PUT /consents/{id}/revocation)."""
    consent, token = lim.grant()
    lim.calls(token, 30)
    manage, _ = lim.services.tokens.issue(
        consent_id=None, client_id="client-1", sub="client-1", scope=CONSENTS_SCOPE
    )

    response = lim.client.put(
        f"/fdx/v6/consents/{consent.id}/revocation",
        json={"reason": "USER_ACTION", "initiator": "DATA_RECIPIENT"},
        headers={"Authorization": f"Bearer {manage}"},
    )

    assert 204 == response.status_code, response.text


def test_limits_are_shared_by_every_limiter_on_one_state_store():
    """Two gateway instances sharing the StateStore enforce one limit between them."""
    clock = FakeClock(1_780_000_000.0)
    state = MemoryStateStore(clock=clock)
    a, b = (
        RateLimiter(state, per_client=100, per_consent=1, window=WINDOW, clock=clock)
        for _ in range(2)
    )

    async def run() -> list[bool]:
        out = []
        for limiter in (a, b) * 6:
            try:
                await limiter.check("app", "consent")
                out.append(True)
            except TooManyRequests:
                out.append(False)
        return out

    assert [True] * 10 + [False] * 2 == anyio.run(run)


def test_a_limit_of_zero_is_off():
    """0 turns a limit off: no counter is even kept."""
    clock = FakeClock()
    state = MemoryStateStore(clock=clock)
    limiter = RateLimiter(state, per_client=0, per_consent=0, window=WINDOW, clock=clock)

    async def run() -> None:
        for _ in range(50):
            await limiter.check("app", "consent")

    anyio.run(run)

    assert (False, 0) == (limiter.enabled, len(state))


def test_the_published_defaults_are_in_the_settings_and_the_docs():
    """README and docs/security.md state the limits the settings enforce."""
    from pathlib import Path

    from config.settings import Settings

    s = Settings()
    root = Path(__file__).resolve().parents[2]
    docs: dict[str, Any] = {
        name: (root / name).read_text(encoding="utf-8")
        for name in ("README.md", "docs/security.md")
    }

    assert (50, 10, 10) == (s.rate_limit_per_client, s.rate_limit_per_consent, s.rate_limit_window)
    for text in docs.values():
        assert "50 requests per second" in text
        assert "10 requests per second" in text
        assert "1207" in text


def test_the_gate_refusal_wins_over_the_limit(lim):
    """Counted beside the gate's reads, judged after them: over the limit, a call on a revoked
    token is still told 401, not 429."""
    _, token = lim.grant()
    lim.calls(token, 10)
    jti = lim.services.tokens.verify(token).jti
    anyio.run(lambda: lim.state.put(Kind.REVOKED_ACCESS, jti, {}, ttl=600))

    assert 401 == lim.get(ACCOUNTS, token).status_code


class CountingRedis(RedisStateStore):
    """A Redis state store that counts the commands of each round trip."""

    round_trips: list[int]

    async def _pipeline(self, calls: list[tuple[Command, ...]]) -> list[list[object]]:
        self.round_trips.append(sum(len(call) for call in calls))
        return await super()._pipeline(calls)


def test_the_counters_travel_in_the_gates_own_round_trip():
    """On Redis, an FDX call's two counters and its revoked-token read are one pipeline: the
    limit costs no round trip of its own."""
    require_redis()
    prefix = new_prefix()
    harness = Limited()
    store = CountingRedis(REDIS_URL, clock=harness.clock, prefix=prefix)
    store.round_trips = []
    harness.services = replace(harness.services, state=store)
    harness.client = TestClient(harness.app(), raise_server_exceptions=False)
    try:
        with harness.client:
            _, token = harness.grant()
            assert 200 == harness.get(ACCOUNTS, token).status_code
            assert harness.client.portal is not None
            harness.client.portal.call(store.aclose)
    finally:
        purge_prefix(prefix)

    assert [3] == store.round_trips  # GET revoked:<jti>, then EVALSHA incr × 2

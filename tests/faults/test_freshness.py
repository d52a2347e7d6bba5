"""The freshness rule under faults, with real processes: a consent revocation that was
acknowledged, or committed at all, stops the very next data call on every instance, whatever
happened to Redis (whose stamps let the instances skip the database), to PostgreSQL, or to the
instance that was revoking.

One world for the module (its own redis-server and PostgreSQL, instances A and B: see
tests/faults/script.py). Each test grants its own consent and warms A's cache with data calls
before the fault.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults import script
from tests.faults.servers import ServerMissing
from tests.multi.driver import Driver, StepFailed, Tokens

pytestmark = pytest.mark.anyio

REFUSED = "401/602"  # FDX: the consent is no longer active


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[script.World]:
    directory: Path = tmp_path_factory.mktemp("freshness")
    try:
        with script.world(directory) as w:
            yield w
            tracebacks = w.gateway.tracebacks()
    except ServerMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"fault tests need {exc}")
        pytest.skip(f"fault tests need real servers: {exc}")
    assert not tracebacks, f"an instance logged a traceback: {tracebacks}"


@pytest.fixture
async def driver(world: script.World) -> AsyncIterator[Driver]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield Driver(http, world.gateway.issuer)


async def _call(driver: Driver, tokens: Tokens, via: str) -> str:
    answer = await script.fdx_answer(driver, tokens, via, 0.0)
    return answer.kind


async def _warm(driver: Driver, w: script.World) -> Tokens:
    """A fresh consent, read enough times on A for its cache (stamps included) to serve it. An
    earlier test's fault may still be clearing on one instance: the grant is retried meanwhile."""
    for _ in range(int(script.WITHIN / 0.25)):
        try:
            tokens = await script.grant(driver, w.a, w.b)
            break
        except StepFailed as exc:
            if exc.status != 503:
                raise
            await asyncio.sleep(0.25)
    else:
        raise AssertionError("no grant while the instances recovered")
    assert "200" == await _answer_on(driver, tokens, w.a)
    for _ in range(5):
        assert "200" == await _call(driver, tokens, w.a)
    return tokens


async def _answer_on(driver: Driver, tokens: Tokens, via: str) -> str:
    """The first answer that is not an outage (the instance reconnects by itself)."""
    kind = ""
    for _ in range(int(script.WITHIN / 0.25)):
        kind = await _call(driver, tokens, via)
        if kind not in ("503/501", "transport"):
            return kind
        await asyncio.sleep(0.25)
    return kind


async def _revoked(driver: Driver, tokens: Tokens, via: str) -> None:
    """Revoke as the recipient, retrying while the instance answers 503."""
    for _ in range(int(script.WITHIN / 0.25)):
        try:
            answer = await driver.revoke_consent(tokens.consent_id, via=via)
        except (httpx.TransportError, StepFailed):
            answer = None
        if answer is not None and answer.status_code < 300:
            return
        await asyncio.sleep(0.25)
    raise AssertionError("the revocation was never acknowledged")


def _status(w: script.World, tokens: Tokens) -> str:
    [(status,)] = w.sql("SELECT status FROM consents WHERE id = %s", (tokens.consent_id,))
    return str(status)


async def test_a_revocation_after_redis_came_back_empty_stops_the_next_call(
    world: script.World, driver: Driver
) -> None:
    """Redis stopped (a revocation meanwhile cannot be acknowledged) and started empty: A's
    cached consent is dropped with the stamps, and the revocation made then stops A at once."""
    tokens = await _warm(driver, world)

    await asyncio.to_thread(world.redis.stop)
    try:  # its client-credentials token needs Redis (the assertion's replay cache)
        during = (await driver.revoke_consent(tokens.consent_id, via=world.b)).status_code
    except StepFailed as exc:
        during = exc.status
    await asyncio.to_thread(world.redis.start)
    first = await _answer_on(driver, tokens, world.a)
    if during >= 300:
        assert "200" == first, "not revoked yet: still served"
        await _revoked(driver, tokens, world.b)
    after = await _call(driver, tokens, world.a)

    assert during == 503 or during < 300
    assert "REVOKED" == _status(world, tokens)
    assert REFUSED == after


async def test_a_revocation_stops_the_next_call_across_a_postgresql_restart(
    world: script.World, driver: Driver
) -> None:
    """Revoked on B, PostgreSQL restarted at once: A never serves the consent again, neither
    during the restart nor after it."""
    tokens = await _warm(driver, world)

    await _revoked(driver, tokens, world.b)
    await asyncio.to_thread(world.postgres.stop)
    during = await _call(driver, tokens, world.a)
    await asyncio.to_thread(world.postgres.start)
    after = await _answer_on(driver, tokens, world.a)

    assert during in (REFUSED, "503/501")
    assert REFUSED == after


async def test_a_revocation_on_an_instance_killed_mid_way_is_never_half_seen(
    world: script.World, driver: Driver
) -> None:
    """B is killed while it revokes: whatever B got to commit is what A answers by; a
    revocation committed, acknowledged or not, stops A's next call."""
    tokens = await _warm(driver, world)

    revoking = asyncio.ensure_future(driver.revoke_consent(tokens.consent_id, via=world.b))
    await asyncio.sleep(0.05)  # the request under way, its commit perhaps
    await asyncio.to_thread(world.gateway["B"].kill)
    try:
        await revoking
    except (httpx.TransportError, StepFailed):
        pass
    committed = _status(world, tokens)
    answer = await _call(driver, tokens, world.a)
    await asyncio.to_thread(world.gateway["B"].start)

    if committed == "REVOKED":
        assert REFUSED == answer
    else:
        assert "200" == answer
        await _revoked(driver, tokens, world.a)
        assert REFUSED == await _call(driver, tokens, world.a)

"""The fault scenarios of tests/faults/script.py, with real processes, as tests.

One world for the module (its own Redis and PostgreSQL, two ``fdxgw serve`` instances); each test
runs one scenario and fails listing every problem its report found. Without redis-server or the
PostgreSQL server binaries the tests are skipped, saying which is missing, except under CI=true,
where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults import script
from tests.faults.servers import ServerMissing

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[script.World]:
    directory: Path = tmp_path_factory.mktemp("faults")
    try:
        with script.world(directory) as w:
            yield w
            tracebacks = w.gateway.tracebacks()
    except ServerMissing as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"fault tests need {exc}")
        pytest.skip(f"fault tests need real servers: {exc}")
    assert not tracebacks, f"an instance logged a traceback: {tracebacks}"


async def run(world: script.World, name: str) -> None:
    report = await script.SCENARIOS[name](world)
    assert not report.problems, report.summary()


async def test_redis_stopped_mid_load_fails_closed_and_recovers(world: script.World) -> None:
    """FDX 503/501 and OAuth temporarily_unavailable while Redis is away; back by itself; the
    audit rows of status 200 are exactly the 200s served; no consent is lost."""
    await run(world, "redis-stop")


async def test_postgres_restarted_mid_load_loses_nothing_and_leaves_no_half_grant(
    world: script.World,
) -> None:
    """The same with PostgreSQL, and every grant caught by the restart completes (the code held
    through it is redeemed after) or leaves no ACTIVE consent behind."""
    await run(world, "pg-restart")


async def test_a_killed_instance_leaves_the_flow_to_the_other(world: script.World) -> None:
    """Signed in on A, A killed: the consent is approved, the token taken and the data read on
    B; A restarted serves again."""
    await run(world, "kill-instance")


async def test_a_hung_adapter_call_ends_within_the_budget_while_others_flow(
    world: script.World,
) -> None:
    """Calls to a core hanging 60 s answer FDX 503/501 after adapter_timeout (2 s); the other
    consumer's calls are served meanwhile."""
    await run(world, "slow-adapter")

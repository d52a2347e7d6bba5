"""Keys shared by every instance: two ``fdxgw serve`` processes on one PostgreSQL and Redis,
each with a ``var`` directory of its own, publish the same JWKS, accept each other's tokens,
and follow a rotation made through the command line within ``key_reload_interval``; an
instance given another key-encryption key refuses to start."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator

import anyio
import httpx
import pytest
from joserfc import jws

from authz.kek import new_kek
from tests.contracts.conftest import (
    REDIS_URL,
    create_database,
    drop_database,
    purge_prefix,
    require_redis,
)
from tests.faults.servers import free_port
from tests.multi.driver import Driver, Tokens
from tests.multi.processes import ROOT, Deployment

pytestmark = pytest.mark.anyio

RELOAD = 1  # key_reload_interval, seconds: the bound a rotation reaches every instance within


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    require_redis()
    directory = tmp_path_factory.mktemp("keys")
    d = Deployment(
        directory,
        create_database(),
        REDIS_URL,
        settings={
            "FDX_KEY_ENCRYPTION_KEY": new_kek(),
            "FDX_KEY_RELOAD_INTERVAL": str(RELOAD),
        },
    )
    try:
        d.init()
        d.add("A", FDX_VAR_DIR=str(directory / "var-A"))
        d.add("B", FDX_VAR_DIR=str(directory / "var-B"))
        yield d
    finally:
        d.stop()
        drop_database(d.database_url)
        purge_prefix(d.prefix)
    assert not d.tracebacks(), d.tracebacks()


@pytest.fixture
async def app(gateway: Deployment) -> AsyncIterator[Driver]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield Driver(http, gateway.issuer)


def kids(url: str) -> set[str]:
    return {k["kid"] for k in httpx.get(url + "/jwks", timeout=5).json()["keys"]}


def signer(tokens: Tokens) -> str:
    return str(jws.extract_compact(tokens.access.encode()).headers()["kid"])


def fdxgw(gateway: Deployment, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        cwd=ROOT, env=gateway.env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


async def grant(app: Driver, via: str) -> Tokens:
    pushed = await app.par(via=via)
    return await app.token(await app.authorize(pushed, via=via), pushed, via=via)


async def test_every_instance_publishes_the_same_keys_and_accepts_the_others_tokens(
    app: Driver, gateway: Deployment
) -> None:
    """Issued by A, served by B, and the other way round; var_dir holds no key file."""
    a, b = gateway["A"].url, gateway["B"].url

    from_a, from_b = await grant(app, a), await grant(app, b)

    assert kids(a) == kids(b)
    assert 200 == (await app.fdx(from_a, via=b)).status_code
    assert 200 == (await app.fdx(from_b, via=a)).status_code
    assert not any(gateway.directory.glob("var-*/keys/*"))


async def test_a_rotation_reaches_every_instance_within_the_reload_interval(
    app: Driver, gateway: Deployment
) -> None:
    """``fdxgw keys rotate`` publishes ahead: both instances publish the new key and still sign
    with the old one; ``--now`` hands over: both sign with the newest. Each accepts the other's
    tokens throughout."""
    a, b = gateway["A"].url, gateway["B"].url
    old = signer(await grant(app, a))

    ahead = fdxgw(gateway, "keys", "rotate")
    pending = new_kid(ahead)
    await until(lambda: pending in kids(a) & kids(b), "the pending key on both")
    still = await grant(app, b)
    now = fdxgw(gateway, "keys", "rotate", "--now")
    newest = new_kid(now)
    await until(lambda: newest in kids(a) & kids(b), "the newest key on both")
    from_a, from_b = await grant(app, a), await grant(app, b)

    assert old == signer(still)  # published ahead: the old key signs until its time
    assert newest == signer(from_a) == signer(from_b)
    assert kids(a) == kids(b) == {old, pending, newest}
    assert 200 == (await app.fdx(from_a, via=b)).status_code
    assert 200 == (await app.fdx(still, via=a)).status_code


def new_kid(ran: subprocess.CompletedProcess[str]) -> str:
    found = re.search(r"new key (\S+) published", ran.stdout)
    assert 0 == ran.returncode, ran.stderr
    assert found, ran.stdout
    return found.group(1)


async def until(check: Callable[[], bool], what: str) -> None:
    """Poll ``check`` for a generous multiple of the reload interval (never a timing assert:
    the bound is the interval, the margin is for a loaded machine)."""
    for _ in range(300 * RELOAD):
        if check():
            return
        await anyio.sleep(0.1)
    raise AssertionError(f"{what}: not seen within {30 * RELOAD} s")


def test_an_instance_with_another_kek_refuses_to_start_saying_why(gateway: Deployment) -> None:
    """No traceback, no key material: one line naming the settings to check."""
    env = gateway.env(free_port(), FDX_KEY_ENCRYPTION_KEY=new_kek())
    ran = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "serve"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert 2 == ran.returncode
    assert "cannot start: the stored keys are sealed by key-encryption key" in ran.stderr
    assert "FDX_KEY_ENCRYPTION_KEY" in ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout

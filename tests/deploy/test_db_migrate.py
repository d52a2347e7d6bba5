"""Upgrading as docs/deployment.md says: a PostgreSQL database made and used by the previous
release (the newest commit whose schema is this one less its last migration, taken from git
and run as it was), then `fdxgw db migrate` of this release, then this release serving what
the old one recorded."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from authz.store.schema import CURRENT_VERSION, MIGRATIONS, POSTGRES_MIGRATIONS
from tests.contracts.conftest import create_database, drop_database
from tests.faults.servers import free_port
from tests.multi.driver import Driver
from tests.serving.operator import ROOT, Fdxgw, clean_environment

pytestmark = pytest.mark.anyio

SCHEMA = "authz/store/schema.py"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def _migrations_of(text: str, folder: Path) -> tuple[object, ...]:
    path = folder / "schema_at_commit.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("schema_at_commit", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return (tuple(module.MIGRATIONS), tuple(module.POSTGRES_MIGRATIONS))


def previous_release(folder: Path) -> Path:
    """The newest commit whose schema is this one less its last migration (the previous
    release's: a branch's own numbering that never shipped does not count), unpacked."""
    previous = (MIGRATIONS[:-1], POSTGRES_MIGRATIONS[:-1])
    for commit in _git("log", "--format=%H", "--", SCHEMA).split():
        if _migrations_of(_git("show", f"{commit}:{SCHEMA}"), folder) == previous:
            break
    else:
        pytest.fail("no commit with the previous schema in git history (a shallow clone?)")
    tree = folder / "previous"
    tree.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
    )
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def test_migrate_upgrades_a_database_the_previous_release_made_and_used(
    database: str, tmp_path: Path, http
):
    """The old release initialises, grants a consent and serves reads; after this release's
    `fdxgw db migrate` the same consent's token still reads, the trail still verifies, and the
    old reads count in the §1033 figures."""
    old = previous_release(tmp_path)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = clean_environment(
        FDX_ISSUER=issuer,
        FDX_PORT=str(port),
        FDX_DATABASE_URL=database,
        FDX_VAR_DIR=str(tmp_path / "var"),
        FDX_NOTIFICATION_SWEEP_INTERVAL="0",
    )
    before = Fdxgw(old, [sys.executable, "-m", "gateway.cli"], env={**env, "PYTHONPATH": str(old)})
    assert 0 == before.run("init").returncode
    before.start("serve", ready=issuer + "/healthz")
    driver = Driver(http, issuer)
    pushed = await driver.par()
    tokens = await driver.token(await driver.authorize(pushed), pushed)
    first = await driver.fdx(tokens)
    assert 200 == first.status_code, (first.text, first.headers, before.errors()[-2000:])
    before.terminate()

    after = Fdxgw(tmp_path, env=env)
    refused = after.run("db", "check")
    migrated = after.run("db", "migrate")
    after.start("serve", ready=issuer + "/healthz")
    try:
        read = await driver.fdx(tokens)
        metrics = (await http.get(issuer + "/fdx/v6/certification-metrics")).json()
        verified = after.run("audit", "verify")
    finally:
        after.kill()

    assert 2 == refused.returncode
    assert f"schema version {CURRENT_VERSION - 1}" in refused.stderr
    assert 0 == migrated.returncode, migrated.stderr
    assert 200 == read.status_code
    assert 0 == verified.returncode, verified.stdout
    assert metrics["metrics"][-1]["averageUpTime"] == 100

"""``fdxgw serve --workers 2`` with a management port, as an operator runs it: one file, real
PostgreSQL and Redis, real processes.

Every worker logs JSON lines; ``/metrics`` on the management port sums both workers and its
counters never go back from one scrape to the next; the public port answers 404 for the
operator's paths and the management port for everything else; SIGTERM lets a slow request in
flight finish, then the command exits 0.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.contracts.conftest import (
    REDIS_URL,
    create_database,
    drop_database,
    purge_prefix,
    require_redis,
)
from tests.faults.servers import free_port
from tests.multi.driver import Driver, Tokens
from tests.serving.operator import Fdxgw, write_config

pytestmark = pytest.mark.anyio

ACCOUNTS = "/fdx/v6/accounts"
SLOW_MS = 1500  # the sandbox's fault plan delays alice's transactions this long


class Served:
    def __init__(self, fdxgw: Fdxgw, public: str, management: str) -> None:
        self.fdxgw = fdxgw
        self.public = public
        self.management = management


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_redis()
    folder = tmp_path_factory.mktemp("workers")
    database = create_database()
    prefix = f"fdxgw-test-workers-{folder.name}:"
    port, management = free_port(), free_port()
    (folder / "faults.toml").write_text(
        f'[[faults]]\ncustomer = "alice"\nmethods = ["list_transactions"]\n'
        f"latency_ms = {SLOW_MS}\n",
        encoding="utf-8",
    )
    (folder / "adapters.toml").write_text('[sandbox]\nfaults = "faults.toml"\n', encoding="utf-8")
    config = write_config(
        folder,
        {
            "issuer": f"http://127.0.0.1:{port}",
            "port": port,
            "management_port": management,
            "database_url": database,
            "redis_url": REDIS_URL,
            "redis_prefix": prefix,
            "var_dir": "var",
            "adapter_config": str(folder / "adapters.toml"),
            "notification_sweep_interval": 0,
            "shutdown_timeout": 20,
        },
    )
    fdxgw = Fdxgw(folder)
    try:
        init = fdxgw.run("--config", str(config), "init")
        assert 0 == init.returncode, init.stderr
        fdxgw.start(
            "--config",
            str(config),
            "serve",
            "--workers",
            "2",
            ready=f"http://127.0.0.1:{management}/healthz",
        )
        yield Served(fdxgw, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{management}")
    finally:
        fdxgw.kill()
        purge_prefix(prefix)
        drop_database(database)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def granted(http: httpx.AsyncClient, issuer: str) -> tuple[Driver, Tokens]:
    driver = Driver(http, issuer)
    pushed = await driver.par()
    return driver, await driver.token(await driver.authorize(pushed), pushed)


def sample(page: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in page.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_metrics_sum_every_worker_and_never_go_back(served: Served, http):
    """Forty reads spread over two workers: each scrape, whichever worker answers it, counts
    at least what the previous one did, and within a flush period all forty."""
    driver, tokens = await granted(http, served.public)
    seen: list[float] = []
    cpu: list[float] = []
    for _ in range(4):
        for _ in range(10):
            assert 200 == (await driver.fdx(tokens)).status_code
        page = (await http.get(served.management + "/metrics")).text
        seen.append(sample(page, "fdxgw_http_requests_total", route=ACCOUNTS, status="200"))
        cpu.append(sample(page, "process_cpu_seconds_total"))
    for _ in range(150):  # the other worker's last reads reach its file within a second
        if seen[-1] == 40:
            break
        await asyncio.sleep(0.1)
        page = (await http.get(served.management + "/metrics")).text
        seen.append(sample(page, "fdxgw_http_requests_total", route=ACCOUNTS, status="200"))

    assert seen == sorted(seen), f"a counter went back: {seen}"
    assert 40 == seen[-1], f"scrapes saw {seen}"
    assert tokens.access not in served.fdxgw.errors()
    assert cpu == sorted(cpu), f"CPU seconds went back: {cpu}"
    assert cpu[0] > 0
    assert sample(page, "process_resident_memory_bytes") > 0


async def test_the_1033_figures_count_every_workers_reads(served: Served, http):
    """From the audit trail: every read any worker answered, once its count is refreshed
    (each worker counts the current month again at most every 5 seconds)."""
    driver, tokens = await granted(http, served.public)
    before = sample(
        (await http.get(served.management + "/metrics")).text, "fdxgw_cfpb_1033_requests_total"
    )
    for _ in range(6):
        assert 200 == (await driver.fdx(tokens)).status_code
    counted = before
    for _ in range(100):
        page = (await http.get(served.management + "/metrics")).text
        counted = sample(page, "fdxgw_cfpb_1033_requests_total")
        if counted >= before + 6:
            break
        await asyncio.sleep(0.1)

    assert counted >= before + 6


@pytest.mark.parametrize("path", ["/metrics", "/healthz", "/readyz", "/admin", "/admin/keys"])
async def test_the_public_port_hides_the_operators_paths(served: Served, http, path):
    """404, as for a path that does not exist."""
    assert 404 == (await http.get(served.public + path)).status_code


@pytest.mark.parametrize("path", ["/", ACCOUNTS, "/jwks", "/.well-known/openid-configuration"])
async def test_the_management_port_serves_nothing_else(served: Served, http, path):
    """The recipients' API is not reachable through the operators' port."""
    assert 404 == (await http.get(served.management + path)).status_code


async def test_the_management_port_answers_health(served: Served, http):
    """/healthz there carries the version; /readyz checks storage, state and the bank."""
    health = await http.get(served.management + "/healthz")
    ready = await http.get(served.management + "/readyz")

    assert (200, "alive") == (health.status_code, health.json()["status"])
    assert health.json()["version"]
    assert 200 == ready.status_code


def test_every_worker_logs_json_lines(served: Served):
    """Two workers started, each announcing itself in a JSON line; no line is anything else."""
    lines = [line for line in served.fdxgw.errors().splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # raises on a line that is not JSON
    started = {e["message"] for e in entries if e["message"].startswith("Started server process")}

    assert 2 == len(started)


async def test_sigterm_lets_a_request_in_flight_finish_then_exits_0(served: Served, http):
    """A slow read is answered in full after SIGTERM arrived; then the command exits 0.
    (The last test of the module: it stops the deployment.)"""
    driver, tokens = await granted(http, served.public)
    account = (await driver.fdx(tokens)).json()["accounts"][0]["accountId"]
    slow = asyncio.create_task(driver.fdx(tokens, f"/accounts/{account}/transactions"))
    await asyncio.sleep(SLOW_MS / 3000)  # the request is with the (slow) bank now

    status = await asyncio.to_thread(served.fdxgw.terminate)
    answer = await slow

    assert (200, 0) == (answer.status_code, status)
    assert "transactions" in answer.json()
    assert "Traceback" not in served.fdxgw.errors()


def test_workers_need_a_shared_state_store(tmp_path):
    """With memory:// state a sign-in begun on one worker would be lost on the next: refused
    before anything listens."""
    answer = Fdxgw(tmp_path).run("serve", "--workers", "2")

    assert 2 == answer.returncode
    assert "--workers needs a shared state store: set redis_url" in answer.stderr

"""Reproducible faults against real gateway processes, under load.

    python -m tests.faults.script redis-stop | pg-restart | kill-instance | slow-adapter | all

Each run starts its own world in a temporary directory: a ``redis-server`` and a PostgreSQL
cluster of its own (tests/faults/servers.py; the machine's shared servers are never touched), one
database, and two ``fdxgw serve`` instances, A and B, sharing them and one ``var`` directory
(tests/multi/processes.py). A scenario puts load on the instances, injects its fault, waits
(polling, never sleeping for correctness) for the gateway to come back by itself, and checks what
docs/operations.md "Faults" lists:

- ``redis-stop``: Redis killed mid-load, then started again (empty, as with ``--save ""``). FDX
  calls fail closed with 503 and FDX code 501, OAuth calls with ``temporarily_unavailable``;
  the gateway recovers with no restart; no consent or audit record is lost (the audit rows of
  status 200 are exactly the 200 answers the client saw).
- ``pg-restart``: PostgreSQL restarted (fast shutdown) while data calls and whole consent grants
  run. The same, and every grant either completes (the app got its tokens) or leaves nothing: no
  ACTIVE consent its app never obtained, no code without its consent.
- ``kill-instance``: A is SIGKILLed mid-flow (signed in, consent screen open); the consent is
  approved on B, the token taken and the data read there; A restarted serves again.
- ``slow-adapter``: the sandbox bank hangs 60 s on one consumer's transactions; those calls end
  with FDX 503/501 after ``adapter_timeout`` while another consumer's calls keep being served.

The tests in tests/faults/test_processes.py run these same functions and fail on any problem a
report lists; this command prints the report and exits 1 on a problem.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.faults.servers import PostgresServer, RedisServer
from tests.multi.driver import Driver, Pushed, StepFailed, Tokens
from tests.multi.processes import Deployment

ADAPTER_TIMEOUT = 2.0  # seconds: the budget the slow-adapter scenario checks
SLOW_MS = 60_000  # the hung core's latency, far beyond the budget and the client's patience
LOST_CODE = "token-after-code:400"  # a grant whose code the store lost (invalid_grant)
WITHIN = 60.0  # seconds any awaited condition may take on a loaded machine


# ---------------------------------------------------------------------------- the world


@dataclass
class World:
    directory: Path
    redis: RedisServer
    postgres: PostgresServer
    gateway: Deployment

    @property
    def a(self) -> str:
        return self.gateway["A"].url

    @property
    def b(self) -> str:
        return self.gateway["B"].url

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.gateway.database_url, autocommit=True, connect_timeout=10) as c:
            return c.execute(statement, params).fetchall()


@contextlib.contextmanager
def world(directory: Path) -> Iterator[World]:
    """Own Redis, own PostgreSQL, one database, instances A and B; all stopped afterwards."""
    redis = RedisServer(directory / "redis")
    postgres = PostgresServer()
    gateway: Deployment | None = None
    try:
        redis.start()
        postgres.init()
        postgres.start()
        faults = directory / "faults.toml"
        faults.write_text(
            f'[[faults]]\ncustomer = "bob"\nmethods = ["list_transactions"]\n'
            f"latency_ms = {SLOW_MS}\n",
            encoding="utf-8",
        )
        adapters = directory / "adapters.toml"
        adapters.write_text(f'[sandbox]\nfaults = "{faults}"\n', encoding="utf-8")
        gateway = Deployment(
            directory / "gateway",
            postgres.create_database("fdxgw"),
            redis.url,
            settings={
                "FDX_RATE_LIMIT_PER_CLIENT": "0",  # load, not limits, is under test
                "FDX_RATE_LIMIT_PER_CONSENT": "0",
                "FDX_ADAPTER_TIMEOUT": str(ADAPTER_TIMEOUT),
                "FDX_ADAPTER_CONFIG": str(adapters),
                "FDX_DATABASE_TIMEOUT": "3",
            },
        )
        gateway.directory.mkdir(parents=True, exist_ok=True)
        gateway.init()
        gateway.add("A")
        gateway.add("B")
        yield World(directory, redis, postgres, gateway)
    finally:
        if gateway is not None:
            gateway.stop()
        postgres.remove()
        redis.stop()


# ---------------------------------------------------------------------------- reports


@dataclass
class Report:
    scenario: str
    outcomes: Counter[str] = field(default_factory=Counter)  # FDX answers under load
    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def check(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)

    def summary(self) -> str:
        lines = [f"{self.scenario}: {'OK' if not self.problems else 'PROBLEMS'}"]
        lines.append("  FDX answers under load: " + ", ".join(
            f"{k} x{v}" for k, v in sorted(self.outcomes.items())
        ))  # fmt: skip
        lines += [f"  {k}: {v}" for k, v in self.facts.items()]
        lines += [f"  PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


# ---------------------------------------------------------------------------- load


@dataclass
class Answer:
    at: float
    via: str
    kind: str  # "200", "503/501", "transport", or "<status>/<code>" (unexpected)
    done: float = 0.0


class Load:
    """Workers sending FDX data calls with one token, round robin over ``vias``."""

    def __init__(self, driver: Driver, tokens: Tokens, vias: list[str], workers: int = 3) -> None:
        self.driver, self.tokens, self.vias, self.workers = driver, tokens, vias, workers
        self.answers: list[Answer] = []
        self._stop = asyncio.Event()

    def count(self, kind: str, since: float = 0.0, via: str | None = None) -> int:
        return sum(
            1
            for a in self.answers
            if a.kind == kind and a.at >= since and (via is None or a.via == via)
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        tasks = [asyncio.create_task(self._worker(n)) for n in range(self.workers)]
        try:
            yield self
        finally:
            self._stop.set()
            await asyncio.gather(*tasks)

    async def _worker(self, n: int) -> None:
        turn = n
        while not self._stop.is_set():
            via = self.vias[turn % len(self.vias)]
            turn += 1
            started = time.monotonic()
            self.answers.append(await fdx_answer(self.driver, self.tokens, via, started))
            await asyncio.sleep(0.01)  # a steady load, not a flood


async def fdx_answer(
    driver: Driver, tokens: Tokens, via: str, started: float, path: str = "/accounts"
) -> Answer:
    try:
        response = await driver.fdx(tokens, path, via=via, limit=30)
    except httpx.TransportError:
        return Answer(started, via, "transport", time.monotonic())
    return Answer(started, via, classify(response), time.monotonic())


def classify(response: httpx.Response) -> str:
    if response.status_code == 200:
        return "200"
    try:
        code = response.json().get("code")
    except ValueError:
        code = None
    if response.status_code == 503 and code == "501" and "retry-after" in response.headers:
        return "503/501"
    return f"{response.status_code}/{code}"


async def until(check: Callable[[], bool], what: str, within: float = WITHIN) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {within:g} s")
        await asyncio.sleep(0.05)


async def grant(driver: Driver, a: str, b: str) -> Tokens:
    pushed = await driver.par(via=a)
    return await driver.token(await driver.authorize(pushed, via=b), pushed, via=a)


def audit_200(w: World, consent_id: str) -> int:
    [(n,)] = w.sql(
        "SELECT count(*) FROM audit_events WHERE consent_id = %s AND status = 200", (consent_id,)
    )
    return int(n)


def check_load(report: Report, load: Load, w: World, tokens: Tokens, *, outage: bool) -> None:
    report.outcomes.update(a.kind for a in load.answers)
    unexpected = {k: v for k, v in report.outcomes.items() if k not in ("200", "503/501")}
    report.check(not unexpected, f"answers other than 200 and 503/501: {unexpected}")
    if outage:
        report.check(load.count("503/501") > 0, "the outage was never seen (no 503/501)")
    stored = audit_200(w, tokens.consent_id)
    report.facts["audit rows of status 200 / 200 answers"] = f"{stored} / {load.count('200')}"
    report.check(
        stored == load.count("200"), "audit rows of status 200 differ from the 200s served"
    )
    [(status,)] = w.sql("SELECT status FROM consents WHERE id = %s", (tokens.consent_id,))
    report.check(status == "ACTIVE", f"the consent under load is {status}, not ACTIVE")


# ---------------------------------------------------------------------------- scenarios


async def redis_stop(w: World) -> Report:
    report = Report("redis-stop")
    async with httpx.AsyncClient(timeout=30) as http:
        driver = Driver(http, w.gateway.issuer)
        tokens = await grant(driver, w.a, w.b)
        load = Load(driver, tokens, [w.a, w.b])
        grants = Grants(w)
        async with load.running(), grants.running():
            await until(lambda: load.count("200") >= 20, "load before the fault")
            await until(lambda: grants.outcomes["completed"] >= 2, "grants before the fault")
            pending = await InFlight.begin(grants.driver(), w)
            stopped = time.monotonic()
            await asyncio.to_thread(w.redis.stop)
            await until(lambda: load.count("503/501", stopped) >= 10, "503s while Redis is down")
            await until(lambda: grants.unavailable() >= 1, "grants meeting the outage")
            par = await driver.call("POST", "/oauth/par", via=w.a, form={}, authenticate=True)
            await pending.during_outage(report)
            await asyncio.to_thread(w.redis.start)
            back = time.monotonic()
            await until(lambda: load.count("200", back) >= 20, "recovery after Redis returned")
            report.facts["seconds to the first 200 after Redis returned"] = round(
                min(a.done for a in load.answers if a.kind == "200" and a.at >= back) - back, 2
            )
            await grants.one_more(report, "a grant after Redis returned")
            # Redis came back empty (no persistence): the code is gone with it, so this grant
            # fails closed and the app starts again; nothing is left ACTIVE (checked below).
            await pending.after_outage(report, grants, code_survives=False)
    report.check(
        (par.status_code, _error(par)) == (503, "temporarily_unavailable"),
        f"PAR during the outage answered {par.status_code} {_error(par)}",
    )
    check_load(report, load, w, tokens, outage=True)
    # Redis came back empty: a code an app held then is gone, and its consent stays ACTIVE and
    # unclaimed (docs/operations.md, "Faults": run Redis with persistence to keep codes).
    lost = grants.outcomes[LOST_CODE] + (not pending.redeemed)
    grants.check(report, w, lost_codes=lost)
    return report


async def pg_restart(w: World) -> Report:
    report = Report("pg-restart")
    async with httpx.AsyncClient(timeout=30) as http:
        driver = Driver(http, w.gateway.issuer)
        tokens = await grant(driver, w.a, w.b)
        load = Load(driver, tokens, [w.a, w.b])
        grants = Grants(w)
        async with load.running(), grants.running():
            await until(lambda: load.count("200") >= 20, "load before the fault")
            await until(lambda: grants.outcomes["completed"] >= 2, "grants before the fault")
            pending = await InFlight.begin(grants.driver(), w)
            stopped = time.monotonic()
            await asyncio.to_thread(w.postgres.stop)  # the load goes on meanwhile
            await until(lambda: load.count("503/501", stopped) >= 10, "503s while it is down")
            await until(lambda: grants.unavailable() >= 1, "grants meeting the outage")
            await pending.during_outage(report)
            await asyncio.to_thread(w.postgres.start)
            back = time.monotonic()
            report.facts["seconds PostgreSQL was down"] = round(back - stopped, 2)
            await until(lambda: load.count("200", back) >= 20, "data calls after the restart")
            await grants.one_more(report, "a grant after the restart")
            await pending.after_outage(report, grants, code_survives=True)
    check_load(report, load, w, tokens, outage=True)
    grants.check(report, w)
    return report


class Grants:
    """Whole consent grants, one after another, by two consumers' browsers and apps, each step
    on alternating instances; a token request answered 503 is retried (Retry-After), as a
    conformant client does. ``obtained``: the consents whose tokens an app received."""

    def __init__(self, w: World, workers: int = 2) -> None:
        self.w, self.workers = w, workers
        self.outcomes: Counter[str] = Counter()  # how each grant ended
        self.answers: Counter[str] = Counter()  # error statuses met on the way, retries too
        self.obtained: set[str] = set()
        self.since = w.sql("SELECT extract(epoch FROM now())")[0][0]
        self._stop = asyncio.Event()
        self._clients: list[httpx.AsyncClient] = []

    def unavailable(self) -> int:
        """503s the grants met so far: the outage reached them."""
        return self.answers["503"]

    def driver(self) -> Driver:
        """A consumer and app of their own (own cookies), for a grant the scenario drives."""
        http = httpx.AsyncClient(timeout=30)
        self._clients.append(http)
        return Driver(http, self.w.gateway.issuer)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Grants]:
        tasks = [asyncio.create_task(self._loop(n)) for n in range(self.workers)]
        try:
            yield self
        finally:
            self._stop.set()
            await asyncio.gather(*tasks)
            for http in self._clients:
                await http.aclose()

    async def one_more(self, report: Report, what: str) -> None:
        done = self.outcomes["completed"]
        try:
            await until(lambda: self.outcomes["completed"] > done, what)
        except TimeoutError as exc:
            report.problems.append(str(exc))

    def check(self, report: Report, w: World, *, lost_codes: int = 0) -> None:
        """Every ACTIVE consent made during the run reached its app, except one per code the
        app held and the store lost (``lost_codes``: Redis restarted empty)."""
        report.facts["grant attempts"] = dict(self.outcomes)
        lost = LOST_CODE if lost_codes else None
        strange = {
            k: v
            for k, v in self.outcomes.items()
            if k not in ("completed", lost) and not k.endswith(":503")
        }
        report.check(not strange, f"grants ended other than completed or 503: {strange}")
        active = {
            row[0]
            for row in w.sql(
                "SELECT id FROM consents WHERE status = 'ACTIVE' AND created_at >= %s",
                (self.since,),
            )
        }
        report.facts["ACTIVE consents made / obtained by apps"] = (
            f"{len(active)} / {len(self.obtained)}"
        )
        unclaimed = len(active - self.obtained)
        report.facts["ACTIVE consents whose code was lost"] = unclaimed
        report.check(
            unclaimed == lost_codes,
            f"{unclaimed} ACTIVE consent(s) never reached their app; codes lost: {lost_codes}",
        )
        report.check(not self.obtained - active, "a consent an app obtained is not ACTIVE")

    async def _loop(self, n: int) -> None:
        driver = self.driver()
        turn = n
        while not self._stop.is_set():
            one, other = (self.w.a, self.w.b) if turn % 2 else (self.w.b, self.w.a)
            turn += 1
            try:
                pushed = await driver.par(via=one)
                screen = await driver.consent_screen(pushed, via=other)
                answer = await driver.approve(screen, pushed, via=one)
                code = driver.code_from(answer, pushed)
                tokens = await _token_with_retries(driver, code, pushed, other, self.answers)
            except StepFailed as exc:
                self.outcomes[f"{exc.step}:{exc.status}"] += 1
                self.answers[str(exc.status)] += 1
                await asyncio.sleep(0.1)  # as a person would, before trying again
            except httpx.TransportError:
                self.outcomes["transport"] += 1
                await asyncio.sleep(0.1)
            else:
                self.obtained.add(tokens.consent_id)
                self.outcomes["completed"] += 1


@dataclass
class InFlight:
    """Two grants caught by the outage at known steps: one with its consent screen open (the
    consumer approves during the outage), one with its code in hand (the app redeems it during
    the outage, and again after)."""

    w: World
    driver: Driver
    screen: httpx.Response
    screen_request: Pushed
    code: str
    code_request: Pushed
    redeemed: bool = False

    @classmethod
    async def begin(cls, driver: Driver, w: World) -> InFlight:
        first = await driver.par(via=w.a)
        screen = await driver.consent_screen(first, via=w.b)
        second = await driver.par(via=w.b)
        code = await driver.authorize(second, via=w.a)
        return cls(w, driver, screen, first, code, second)

    async def during_outage(self, report: Report) -> None:
        approved = await self.driver.approve(self.screen, self.screen_request, via=self.w.a)
        report.check(
            approved.status_code == 503 and "text/html" in approved.headers["content-type"],
            f"approving during the outage answered {approved.status_code}, not the 503 page",
        )
        try:
            await self.driver.token(self.code, self.code_request, via=self.w.b)
        except StepFailed as exc:
            report.check(exc.status == 503, f"redeeming during the outage answered {exc.status}")
        else:
            report.problems.append("a code was redeemed while the store was down")

    async def after_outage(self, report: Report, grants: Grants, *, code_survives: bool) -> None:
        try:
            tokens = await _token_with_retries(self.driver, self.code, self.code_request, self.w.a)
        except StepFailed as exc:
            report.facts["the code held through the outage"] = f"refused ({exc.status})"
            report.check(not code_survives, f"the code held through the outage: {exc}")
        else:
            report.facts["the code held through the outage"] = "redeemed"
            report.check(code_survives, "a code redeemed after Redis came back empty")
            grants.obtained.add(tokens.consent_id)
            self.redeemed = True


async def _token_with_retries(
    driver: Driver, code: str, pushed: Pushed, via: str, seen: Counter[str] | None = None
) -> Tokens:
    """Redeem ``code``, retrying on 503 for as long as a code lives (``code_ttl``, 60 s)."""
    deadline = time.monotonic() + 55
    while True:
        try:
            return await driver.token(code, pushed, via=via)
        except StepFailed as exc:
            if exc.status != 503 or time.monotonic() > deadline:
                raise StepFailed(str(exc), step="token-after-code", status=exc.status) from None
            if seen is not None:
                seen["503"] += 1
            await asyncio.sleep(0.25)


async def kill_instance(w: World) -> Report:
    report = Report("kill-instance")
    async with httpx.AsyncClient(timeout=30) as http:
        driver = Driver(http, w.gateway.issuer)
        tokens = await grant(driver, w.a, w.b)
        load = Load(driver, tokens, [w.b])  # the balancer's other target keeps serving
        async with load.running():
            await until(lambda: load.count("200") >= 10, "load before the fault")
            pushed = await driver.par(via=w.a)
            screen = await driver.consent_screen(pushed, via=w.a)  # signed in on A
            in_flight = asyncio.create_task(fdx_answer(driver, tokens, w.a, time.monotonic()))
            await asyncio.to_thread(w.gateway["A"].kill)
            lost = await in_flight
            answer = await driver.approve(screen, pushed, via=w.b)  # the same browser, on B
            code = driver.code_from(answer, pushed)
            flow = await driver.token(code, pushed, via=w.b)
            data = await driver.fdx(flow, via=w.b)
            await asyncio.to_thread(w.gateway["A"].start)
            again = await driver.fdx(flow, via=w.a)
        report.facts["the call in flight on A when it died"] = lost.kind
        report.check(lost.kind in ("200", "transport"), f"the call on A ended {lost.kind}")
        report.check(data.status_code == 200, f"data on B after the kill: {data.status_code}")
        report.check(again.status_code == 200, f"data on A restarted: {again.status_code}")
        check_load(report, load, w, tokens, outage=False)
        if lost.kind == "transport":
            # It may have been served and audited just before the kill; never the reverse.
            report.problems = [p for p in report.problems if not p.startswith("audit rows")]
            stored = audit_200(w, tokens.consent_id)
            report.check(
                stored in (load.count("200"), load.count("200") + 1),
                "audit rows of status 200 differ from the 200s served",
            )
    return report


async def slow_adapter(w: World) -> Report:
    report = Report("slow-adapter")
    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(timeout=30) as http2:
        alice = Driver(http, w.gateway.issuer)
        bob = Driver(http2, w.gateway.issuer, user="bob", password="sandbox-bob")
        fast = await grant(alice, w.a, w.b)
        slow = await grant(bob, w.a, w.b)
        accounts = (await bob.fdx(slow, via=w.a)).json()["accounts"]
        account = accounts[0]["accountId"]
        path = f"/accounts/{account}/transactions"
        started = time.monotonic()
        hung = [
            asyncio.create_task(fdx_answer(bob, slow, via, started, path))
            for via in (w.a, w.b, w.a)
        ]
        load = Load(alice, fast, [w.a, w.b], workers=2)
        async with load.running():
            slow_answers = await asyncio.gather(*hung)
        first_slow = min(a.done for a in slow_answers)
        served_meanwhile = sum(1 for a in load.answers if a.kind == "200" and a.done < first_slow)
        report.outcomes.update(a.kind for a in load.answers)
        report.facts["hung calls answered"] = [a.kind for a in slow_answers]
        report.facts["seconds to answer the hung calls (budget 2 s)"] = [
            round(a.done - a.at, 2) for a in slow_answers
        ]
        report.facts["other calls served meanwhile"] = served_meanwhile
        report.check(
            all(a.kind == "503/501" for a in slow_answers),
            "a hung adapter call did not end with 503/501 (a client timeout is a 'transport')",
        )
        report.check(served_meanwhile >= 3, "other calls were not served while calls hung")
        report.check(
            set(report.outcomes) == {"200"}, f"other calls answered {dict(report.outcomes)}"
        )
    return report


def _error(response: httpx.Response) -> str | None:
    try:
        return str(response.json().get("error"))
    except ValueError:
        return None


SCENARIOS: dict[str, Callable[[World], Awaitable[Report]]] = {
    "redis-stop": redis_stop,
    "pg-restart": pg_restart,
    "kill-instance": kill_instance,
    "slow-adapter": slow_adapter,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", choices=[*SCENARIOS, "all"])
    parser.add_argument("--keep", action="store_true", help="keep the directory (logs) afterwards")
    args = parser.parse_args(argv)
    names = list(SCENARIOS) if args.scenario == "all" else [args.scenario]
    directory = Path(tempfile.mkdtemp(prefix="fdxgw-faults-"))
    problems = 0
    try:
        with world(directory) as w:
            for name in names:
                began = time.monotonic()
                report: Report = asyncio.run(SCENARIOS[name](w))  # type: ignore[arg-type]
                print(report.summary())
                print(f"  ({time.monotonic() - began:.1f} s)")
                problems += len(report.problems)
    finally:
        if args.keep:
            print(f"logs in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

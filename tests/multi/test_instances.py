"""Many gateway instances behind one issuer: any request may land on any of them.

Real processes (``fdxgw serve``) on the machine's PostgreSQL (a database of this module's own,
dropped afterwards) and Redis (a key prefix of its own, purged afterwards), each instance with a
``var`` directory of its own: the keys they sign and verify with are the record store's. Each
test sends each step to the instance it names and checks that a change made through one
instance is enforced by the other on its very next request.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from gateway.admin.token import new_token, write_token_hash
from tests.contracts.conftest import (
    REDIS_URL,
    create_database,
    drop_database,
    purge_prefix,
    require_redis,
)
from tests.faults.servers import free_port, wait_for
from tests.multi.driver import DETAILS, Driver, Tokens
from tests.multi.processes import ROOT, Deployment

pytestmark = pytest.mark.anyio

DAY = 86400


@pytest.fixture(scope="module")
def admin_token(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    token = new_token()
    path = tmp_path_factory.mktemp("admin") / "admin-token.sha256"
    write_token_hash(path, token)
    return token, path


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, admin_token: tuple[str, Path]
) -> Iterator[Deployment]:
    """Instances A and B (``fdxgw serve``) of one gateway, and C whose clock a test moves."""
    require_redis()
    directory = tmp_path_factory.mktemp("multi")
    d = Deployment(
        directory,
        create_database(),
        REDIS_URL,
        settings={
            "FDX_ADMIN_TOKEN_FILE": str(admin_token[1]),
            # Server nonces in every DPoP proof (RFC 9449 §8, §9): stateless, so a nonce one
            # instance gave is good on every instance that shares the stored session secret.
            "FDX_DPOP_NONCE_REQUIRED": "true",
        },
    )
    try:
        d.init()
        d.add("A", FDX_VAR_DIR=str(directory / "var-A"))  # var_dir decides no key
        d.add("B", FDX_VAR_DIR=str(directory / "var-B"))
        d.add("C", clock_file=directory / "clock-C")
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


def sql(gateway: Deployment, statement: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
    with psycopg.connect(gateway.database_url, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


async def grant(app: Driver, a: str, b: str, details: dict = DETAILS) -> Tokens:  # type: ignore[type-arg]
    pushed = await app.par(via=a, details=details)
    return await app.token(await app.authorize(pushed, via=b), pushed, via=a)


async def test_one_flow_runs_across_two_instances(app: Driver, gateway: Deployment) -> None:
    """PAR on A, authorize + sign-in + consent on B, token on A, FDX calls alternating, refresh
    on B, revocation on A: the next FDX call, on B, is refused. DPoP nonces from either
    instance are accepted by the other."""
    a, b = gateway["A"].url, gateway["B"].url

    pushed = await app.par(via=a)
    code = await app.authorize(pushed, via=b)
    tokens = await app.token(code, pushed, via=a)
    statuses = [(await app.fdx(tokens, via=via)).status_code for via in (a, b, a, b)]
    account = (await app.fdx(tokens, via=b)).json()["accounts"][0]["accountId"]
    transactions = await app.fdx(tokens, f"/accounts/{account}/transactions", via=a)
    refreshed = await app.refreshed(tokens, via=b)
    after_refresh = await app.fdx(refreshed, via=a)
    revoked = await app.revoke(refreshed, via=a)
    after_revoke = await app.fdx(refreshed, via=b)

    assert 1 == app.nonce_retries, "only the first request lacked a nonce; A's is good on B"
    assert [200, 200, 200, 200] == statuses
    assert 200 == transactions.status_code
    assert refreshed.refresh != tokens.refresh
    assert 200 == after_refresh.status_code
    assert 200 == revoked.status_code
    assert 401 == after_revoke.status_code
    assert "602" == after_revoke.json()["code"]
    # Every data access, on either instance, is in the one shared audit trail.
    rows = sql(
        gateway, "SELECT status FROM audit_events WHERE consent_id = %s", (tokens.consent_id,)
    )
    assert 7 == sum(1 for (status,) in rows if status == 200)


async def test_a_revocation_through_one_instance_stops_the_next_call_on_the_other(
    app: Driver, gateway: Deployment
) -> None:
    """The recipient revokes through the FDX Consent API on A; B refuses the next call."""
    a, b = gateway["A"].url, gateway["B"].url
    tokens = await grant(app, a, b)
    before = await app.fdx(tokens, via=b)  # B has now seen (and cached) the consent ACTIVE

    revoked = await app.revoke_consent(tokens.consent_id, via=a)
    after = await app.fdx(tokens, via=b)

    assert 200 == before.status_code
    assert 204 == revoked.status_code, revoked.text
    assert (401, "602") == (after.status_code, after.json()["code"])


async def test_a_suspension_through_one_instance_is_enforced_by_the_other(
    app: Driver, gateway: Deployment, admin_token: tuple[str, Path]
) -> None:
    """The bank suspends the recipient through A's admin API: B refuses its next call
    (401/603); reinstated through B, A serves it again."""
    a, b = gateway["A"].url, gateway["B"].url
    tokens = await grant(app, a, b)
    admin = {"Authorization": f"Bearer {admin_token[0]}"}
    path = f"/admin/recipients/{app.recipient.client_id}"
    before = await app.fdx(tokens, via=b)

    suspended = await app.http.post(f"{a}{path}/suspend", headers=admin)
    try:
        during = await app.fdx(tokens, via=b)
    finally:
        reinstated = await app.http.post(f"{b}{path}/reinstate", headers=admin)
    after = await app.fdx(tokens, via=a)

    assert 200 == before.status_code
    assert 200 == suspended.status_code, suspended.text
    assert (401, "603") == (during.status_code, during.json()["code"])
    assert 200 == reinstated.status_code, reinstated.text
    assert 200 == after.status_code


async def test_an_expiry_seen_by_one_instance_is_enforced_by_every_instance(
    app: Driver, gateway: Deployment
) -> None:
    """A one-day consent: C, whose clock is two days ahead, finds it expired (and records it);
    B, on the real clock where the consent has not yet run out, refuses it from then on."""
    a, b, c = gateway["A"].url, gateway["B"].url, gateway["C"].url
    one_day = {**DETAILS, "consentRequest": {**DETAILS["consentRequest"], "durationPeriod": 1}}
    tokens = await grant(app, a, b, one_day)
    before = await app.fdx(tokens, via=b)

    clock = gateway.directory / "clock-C"
    clock.write_text(str(2 * DAY), encoding="ascii")
    app.offset = 2 * DAY
    try:
        seen_on_c = await app.refresh(tokens, via=c)
    finally:
        clock.write_text("0", encoding="ascii")
        app.offset = 0
    after = await app.fdx(tokens, via=b)

    assert 200 == before.status_code
    assert (400, "invalid_grant") == (seen_on_c.status_code, seen_on_c.json()["error"])
    assert (401, "602") == (after.status_code, after.json()["code"])
    [(status,)] = sql(gateway, "SELECT status FROM consents WHERE id = %s", (tokens.consent_id,))
    assert "EXPIRED" == status


def test_uvicorn_workers_share_the_flow(gateway: Deployment, tmp_path: Path) -> None:
    """The README's bare form: ``uvicorn --factory gateway.app:from_environment --workers 2``
    on one port, the whole example flow through it."""
    port = free_port()
    env = gateway.env(port)
    env["FDX_ISSUER"] = f"http://127.0.0.1:{port}"  # here the workers' port is the issuer
    log = (tmp_path / "workers.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "--factory", "gateway.app:from_environment",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "2", "--no-access-log",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200,
            "uvicorn workers",
        )
        example = subprocess.run(
            [sys.executable, "examples/budget_app.py", "--issuer", f"http://127.0.0.1:{port}"],
            cwd=ROOT, env={**os.environ}, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    assert 0 == example.returncode, example.stdout + example.stderr
    assert "flow complete" in example.stdout

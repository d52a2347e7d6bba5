"""The whole consent-to-data path through the assembled app, driven by the example client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from authz.store import open_records
from config.settings import Settings
from examples.budget_app import Recipient, run_flow
from gateway.app import build_services, create_app
from gateway.cli import _seed_demo

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "config" / "demo"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/gw.db", var_dir=str(tmp_path / "var"))


@pytest.mark.anyio
async def test_example_client_completes_the_flow_in_process(settings: Settings) -> None:
    """PAR → sign-in → consent → token → FDX calls → refresh → revoke, all through create_app,
    under the default FAPI 2.0 profile: every token DPoP-bound, every call with a proof."""
    records = open_records(settings.database_url)
    await records.schema.migrate()
    await _seed_demo(records, DEMO)
    await records.aclose()
    services = build_services(settings)
    app = create_app(settings, services=services)
    transport = httpx.ASGITransport(app=app)
    lines: list[str] = []

    async with httpx.AsyncClient(transport=transport, base_url=settings.issuer) as http:
        result = await run_flow(
            http, settings.issuer, Recipient.demo(), "alice", "sandbox-alice", say=lines.append
        )

    assert "fapi2" == settings.profile
    assert "DPoP" == result.token_type
    assert result.accounts, "the consumer shared every open account"
    assert {"fdx:accountbasic:read", "fdx:transactions:read"} <= set(result.granted_scope.split())
    assert result.transactions
    assert result.refreshed
    assert 401 == result.status_after_revoke
    consent = await services.records.consents.get(result.consent_id)
    assert consent is not None
    assert "REVOKED" == consent.status.value
    audit = await services.records.audit.of_consent(result.consent_id)
    assert {"GET /accounts", "GET /accounts/{accountId}/transactions"} <= {
        a.endpoint for a in audit
    }
    assert not any(t in line for line in lines for t in ("eyJ",)), "no token is printed"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fdxgw_serves_the_flow_the_example_client_completes(tmp_path: Path) -> None:
    """`fdxgw init` + `fdxgw serve` (what `make run` does) on a real socket, then the example."""
    port = _free_port()
    env = {
        **os.environ,
        "FDX_PORT": str(port),
        "FDX_ISSUER": f"http://127.0.0.1:{port}",
        "FDX_VAR_DIR": str(tmp_path / "var"),
        "FDX_DATABASE_URL": f"sqlite:///{tmp_path}/gw.db",
    }
    fdxgw = [sys.executable, "-m", "gateway.cli"]
    subprocess.run([*fdxgw, "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*fdxgw, "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        example = subprocess.run(
            [sys.executable, "examples/budget_app.py", "--issuer", f"http://127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()

    assert 0 == example.returncode, example.stdout + example.stderr
    assert "flow complete" in example.stdout
    assert f"issuer          http://127.0.0.1:{port}" in output
    assert "demo consumers  alice, bob" in output
    assert "sandbox-alice" not in output, "the banner goes to the log: no password"
    assert "Traceback" not in output

"""Interoperability: panva's certified ``openid-client`` (npm, v6) runs the whole flow against the
gateway on a real socket, under the default fapi2 profile with DPoP server nonces required.

``interop.mjs`` does discovery, PAR + PKCE + private_key_jwt (the demo recipient's key) + DPoP,
sign-in and consent by form submission, the code exchange (checking ``iss``), an FDX call,
refresh, introspection and revocation. ``npm ci`` installs the locked packages into
``tests/interop/node_modules`` (git-ignored) once; later runs reuse them while the lock file is
unchanged. Without node/npm (or the registry) the test is skipped, except under ``CI=true``,
where it fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.bank_op.conftest import OP_PASSWORD, BankOP, bank_op, op_node

__all__ = ["bank_op", "op_node"]  # the bank's OP fixtures, for login = "oidc"

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEMO = ROOT / "config" / "demo"
STAMP = HERE / "node_modules" / ".fdx-package-lock.sha256"
MIN_NODE = 20


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"interop test cannot run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def node() -> str:
    """The node binary, with the locked packages installed beside the script."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are needed (Node.js 20 or newer)")
    assert node is not None
    assert npm is not None
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    major = re.match(r"v(\d+)", version)
    if major is None or int(major.group(1)) < MIN_NODE:
        unavailable(f"Node.js {MIN_NODE} or newer is needed, found {version.strip() or '?'}")
    digest = hashlib.sha256((HERE / "package-lock.json").read_bytes()).hexdigest()
    if not STAMP.is_file() or STAMP.read_text(encoding="utf-8") != digest:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            unavailable(f"npm ci failed: {done.stderr.strip()[-300:]}")
        STAMP.write_text(digest, encoding="utf-8")
    return node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Gateway:
    def __init__(self, issuer: str, process: subprocess.Popen[bytes]) -> None:
        self.issuer = issuer
        self.process = process
        self.output = ""

    def stop(self) -> str:
        self.process.terminate()
        self.output = self.process.communicate(timeout=15)[0].decode("utf-8", "replace")
        return self.output


@pytest.fixture(params=["adapter", "oidc"])
def login(request: pytest.FixtureRequest) -> str:
    """Who signs the consumer in: the built-in form, or the bank's OpenID Provider."""
    return str(request.param)


@pytest.fixture
def gateway(tmp_path: Path, login: str, request: pytest.FixtureRequest) -> Iterator[Gateway]:
    """``fdxgw init`` + ``fdxgw serve`` on a free port: fapi2, DPoP nonces, DEBUG logs; with
    ``login = "oidc"`` registered at node-oidc-provider (tests/bank_op) as the bank's OP."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FDX_PORT": str(port),
        "FDX_ISSUER": issuer,
        "FDX_VAR_DIR": str(tmp_path / "var"),
        "FDX_DATABASE_URL": f"sqlite:///{tmp_path}/gw.db",
        "FDX_STATE_URL": "memory://",
        "FDX_PROFILE": "fapi2",
        "FDX_DPOP_NONCE_REQUIRED": "true",
        "FDX_LOG_LEVEL": "DEBUG",
    }
    env.pop("FDX_REDIS_URL", None)
    if login == "oidc":
        op: BankOP = request.getfixturevalue("bank_op")
        client = op.register(issuer + "/oauth/login/callback")
        env |= {
            "FDX_LOGIN": "oidc",
            "FDX_LOGIN_OIDC_ISSUER": op.issuer,
            "FDX_LOGIN_OIDC_CLIENT_ID": client["client_id"],
            "FDX_LOGIN_OIDC_CLIENT_SECRET": client["client_secret"],
            "FDX_LOGIN_OIDC_SCOPE": "openid bank",
            "FDX_LOGIN_OIDC_CUSTOMER_CLAIM": "customer_id",
            "FDX_LOGIN_OIDC_ALLOW_HTTP": "true",
        }
    fdxgw = [sys.executable, "-m", "gateway.cli"]
    subprocess.run([*fdxgw, "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [*fdxgw, "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    gw = Gateway(issuer, process)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(issuer + "/", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        yield gw
    finally:
        if process.poll() is None:
            gw.stop()


def test_openid_client_completes_the_fapi2_flow_with_dpop(
    node: str, gateway: Gateway, login: str
) -> None:
    """Discovery, PAR + PKCE + private_key_jwt + DPoP (nonces), consent by form, code exchange
    with iss, FDX call, refresh, introspection and revocation all succeed with openid-client,
    signing in at the gateway's form or at the bank's OP; the server's DEBUG log shows no token,
    password or customer name."""
    recipient = json.loads((DEMO / "recipient.json").read_text(encoding="utf-8"))
    alice = json.loads((DEMO / "consumers.json").read_text(encoding="utf-8"))["consumers"][0]
    password = alice["password"] if login == "adapter" else OP_PASSWORD

    run = subprocess.run(
        [
            node,
            "interop.mjs",
            gateway.issuer,
            recipient["client_id"],
            str(DEMO / "recipient-private-jwks.json"),
            recipient["redirect_uris"][0],
            alice["username"],
            password,
        ],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = gateway.stop()

    assert 0 == run.returncode, run.stderr + log[-2000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert {"issuer": gateway.issuer, "par_required": True} == summary["discovery"]
    assert {"iss": True, "state": True} == summary["callback"]
    assert ("dpop", True, True) == (
        summary["token"]["token_type"].lower(),
        summary["token"]["refresh"],
        summary["token"]["grant_id"],
    )
    assert (200, 5) == (summary["fdx"]["status"], summary["fdx"]["accounts"])
    assert summary["refresh"]["rotated"]
    assert {"active": True, "dpop_bound": True} == summary["introspection"]
    assert (401, False) == (
        summary["revocation"]["fdx_status_after"],
        summary["revocation"]["active_after"],
    )
    # The JSON log lines (the sandbox's start-up banner lists the demo logins on purpose).
    lines = [line for line in log.splitlines() if line.startswith("{")]
    assert lines
    assert "Traceback" not in log
    for line in lines:
        assert "eyJ" not in line
        for personal in (password, alice["name"], alice["customer_id"]):
            assert personal not in line

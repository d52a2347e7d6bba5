"""The bank's OpenID Provider for the sign-in tests: panva's node-oidc-provider (``op.mjs``), one
process per test module on a free 127.0.0.1 port, and a gateway with ``login = "oidc"`` per test.

The gateway runs in process (httpx's ASGI transport mounted on its issuer's origin); every other
URL, the OP's, goes over a real socket, both from the "browser" (one httpx client with its cookie
jar, following redirects by hand) and from the gateway's own client. ``npm ci`` installs the
locked packages into ``tests/bank_op/node_modules`` once. Without node/npm the tests are skipped,
except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from adapters import load_adapter
from authz.bank_provider import BankProvider
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import StateStore
from authz.store.memory import MemoryStateStore, memory_records
from authz.store.redis import RedisStateStore
from config.policy import load_policy
from config.settings import Settings
from examples.budget_app import DpopClient, Recipient
from gateway.app import create_app
from gateway.cli import _seed_demo
from tests.contracts.conftest import REDIS_URL, new_prefix, purge_prefix, require_redis

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DEMO = ROOT / "config" / "demo"
STAMP = HERE / "node_modules" / ".fdx-package-lock.sha256"
MIN_NODE = 20
CONSUMERS = json.loads((DEMO / "consumers.json").read_text(encoding="utf-8"))["consumers"]
ALICE = CONSUMERS[0]
OP_PASSWORD = "bank-op-password"
# The OP's logins: alice is the sandbox bank's alice; mallory is a login at the OP whose
# customer id the bank adapter does not know.
USERS = {
    "alice": {"password": OP_PASSWORD, "customer_id": ALICE["customer_id"]},
    "mallory": {"password": OP_PASSWORD, "customer_id": "cus_not_at_this_bank"},
    # A login that is the bank's customer id itself, for the default claim (sub).
    ALICE["customer_id"]: {"password": OP_PASSWORD, "customer_id": ALICE["customer_id"]},
}


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the bank OP tests cannot run in CI: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def op_node() -> str:
    """The node binary, with the locked packages installed beside op.mjs."""
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


@dataclass
class BankOP:
    issuer: str
    process: subprocess.Popen[bytes]

    def register(self, redirect_uri: str, **metadata: Any) -> dict[str, Any]:
        """RFC 7591 registration of one gateway instance; the OP's answer (client_id, …)."""
        body = {"redirect_uris": [redirect_uri], **metadata}
        answer = httpx.post(self.issuer + "/reg", json=body, timeout=10)
        assert 201 == answer.status_code, answer.text
        return dict(answer.json())

    def jwks_fetches(self) -> int:
        return int(httpx.get(self.issuer + "/__test/stats", timeout=5).json()["jwks_fetches"])

    def fault(self, mode: str | None, **extra: Any) -> None:
        answer = httpx.post(self.issuer + "/__test/fault", json={"mode": mode, **extra}, timeout=5)
        assert 200 == answer.status_code, answer.text


@pytest.fixture(scope="module")
def bank_op(op_node: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BankOP]:
    users = tmp_path_factory.mktemp("bank-op") / "users.json"
    users.write_text(json.dumps({"users": USERS}), encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [op_node, "op.mjs", str(port), str(users)],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    op = BankOP(f"http://127.0.0.1:{port}", process)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(op.issuer + "/.well-known/openid-configuration", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    break
                time.sleep(0.2)
        if process.poll() is not None:
            output = process.communicate()[0].decode("utf-8", "replace")
            pytest.fail(f"node-oidc-provider did not start: {output[-1000:]}")
        yield op
    finally:
        op.fault(None) if process.poll() is None else None
        process.terminate()
        process.communicate(timeout=15)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "inputs": []})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1]["inputs"].append(a)
        elif tag == "a" and a.get("id") and a.get("href"):
            self.links[str(a["id"])] = str(a["href"])


def parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


@dataclass
class Gateway:
    """One gateway with ``login = "oidc"`` and the browser and app that use it."""

    settings: Settings
    services: Services
    http: httpx.AsyncClient  # the consumer's browser (cookies) and the app's HTTP client
    op: BankOP
    transport: httpx.ASGITransport  # the gateway, for a second browser
    recipient: Recipient = field(default_factory=Recipient.demo)
    dpop: DpopClient | None = None
    verifier: str = ""
    state: str = ""
    nonce: str = ""

    @property
    def issuer(self) -> str:
        return self.settings.issuer

    async def push(self, **extra: str) -> str:
        """PAR as the demo recipient (openid + FDX), then the request_uri."""
        answer = await self.par(**extra)
        assert 201 == answer.status_code, answer.text
        return str(answer.json()["request_uri"])

    async def par(self, **extra: str) -> httpx.Response:
        """The pushed authorization request's answer, whatever it is."""
        self.dpop = self.dpop or DpopClient(self.http)
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(16)
        self.nonce = secrets.token_urlsafe(16)
        details = [
            {
                "type": "fdx_v1.0",
                "consentRequest": {
                    "durationType": "TIME_BOUND",
                    "durationPeriod": 90,
                    "lookbackPeriod": 365,
                    "resources": [{"resourceType": "ACCOUNT", "dataClusters": ["ACCOUNT_BASIC"]}],
                },
            }
        ]
        answer = await self.dpop.request(
            "POST",
            self.issuer + "/oauth/par",
            form=lambda: {
                "response_type": "code",
                "redirect_uri": self.recipient.redirect_uri,
                "scope": "openid",
                "state": self.state,
                "nonce": self.nonce,
                "code_challenge": create_s256_code_challenge(self.verifier),  # type: ignore[no-untyped-call]
                "code_challenge_method": "S256",
                "authorization_details": json.dumps(details),
                **extra,
                **self.recipient.assertion(self.issuer),
            },
        )
        return answer

    async def authorize(self, **extra: str) -> httpx.Response:
        """PAR, then the browser at /oauth/authorize (the gateway's answer, not followed)."""
        request_uri = await self.push(**extra)
        return await self.http.get(
            self.issuer + "/oauth/authorize",
            params={"client_id": self.recipient.client_id, "request_uri": request_uri},
        )

    async def follow(self, response: httpx.Response) -> httpx.Response:
        """Follow redirects, stopping before the app's redirect URI (no server there)."""
        for _ in range(20):
            if not response.is_redirect:
                return response
            target = urljoin(str(response.url), response.headers["location"])
            if target.startswith(self.recipient.redirect_uri):
                return response
            response = await self.http.get(target)
        raise AssertionError("too many redirects")

    async def sign_in_at_bank(
        self, at_op: httpx.Response, login: str = "alice", password: str = OP_PASSWORD
    ) -> httpx.Response:
        """From the gateway's 302 to the OP: the OP's login form, filled and posted, then every
        redirect up to the gateway's next page (or the OP's redirect back, not followed)."""
        page = await self.follow(at_op)
        assert 200 == page.status_code, page.text
        form = parse(page.text).forms[0]
        posted = await self.http.post(
            urljoin(str(page.url), form["action"]), data={"login": login, "password": password}
        )
        return posted

    async def to_callback(self, posted: httpx.Response) -> str:
        """Follow the OP's redirects up to (not into) the gateway's callback; its URL."""
        response = posted
        for _ in range(20):
            assert response.is_redirect, response.text
            target = urljoin(str(response.url), response.headers["location"])
            if target.startswith(self.issuer + "/oauth/login/callback"):
                return target
            response = await self.http.get(target)
        raise AssertionError("the OP never came back")

    async def approve(self, consent_page: httpx.Response) -> dict[str, str]:
        """Tick every account and approve; the app's callback parameters."""
        assert 200 == consent_page.status_code, consent_page.text
        form = next(
            f
            for f in parse(consent_page.text).forms
            if any(i.get("value") == "approve" for i in f["inputs"])
        )
        data = {
            i["name"]: i.get("value") or "on" for i in form["inputs"] if i.get("type") != "submit"
        }
        data = {k: v for k, v in data.items() if k != "decision"} | {"decision": "approve"}
        answer = await self.http.post(urljoin(str(consent_page.url), form["action"]), data=data)
        assert 303 == answer.status_code, answer.text
        return app_params(answer)

    async def token(self, code: str) -> dict[str, Any]:
        assert self.dpop is not None
        answer = await self.dpop.request(
            "POST",
            self.issuer + "/oauth/token",
            form=lambda: {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.recipient.redirect_uri,
                "code_verifier": self.verifier,
                **self.recipient.assertion(self.issuer),
            },
        )
        assert 200 == answer.status_code, answer.text
        return dict(answer.json())


def app_params(response: httpx.Response) -> dict[str, str]:
    """The query the app receives from a redirect to its redirect URI."""
    location = urljoin(str(response.url), response.headers["location"])
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@asynccontextmanager
async def gateway(
    op: BankOP,
    *,
    op_timeout: float = 5.0,
    register: dict[str, Any] | None = None,
    state: str = "memory",
    **settings: Any,
) -> AsyncIterator[Gateway]:
    """A gateway on a fresh issuer, registered at ``op`` (client_secret_basic unless
    ``register`` says otherwise), with ``settings`` on top; short-lived state in process, or
    in the real Redis under a key prefix of its own (``state="redis"``)."""
    issuer = f"http://127.0.0.1:{free_port()}"
    client = op.register(issuer + "/oauth/login/callback", **(register or {}))
    values: dict[str, Any] = {
        "issuer": issuer,
        "login": "oidc",
        "login_oidc_issuer": op.issuer,
        "login_oidc_client_id": client["client_id"],
        "login_oidc_scope": "openid bank",
        "login_oidc_customer_claim": "customer_id",
        "login_oidc_allow_http": True,
    }
    if "client_secret" in client:
        values["login_oidc_client_secret"] = client["client_secret"]
    values.update(settings)
    config = Settings(**values)
    records = memory_records()
    await _seed_demo(records, DEMO)
    bank_login = BankProvider(config, clock=time.time, timeout=op_timeout)
    store: StateStore = MemoryStateStore(clock=time.time)
    if state == "redis":
        require_redis()
        store = RedisStateStore(REDIS_URL, clock=time.time, prefix=new_prefix())
    services = Services.build(
        config,
        policy=load_policy(),
        records=records,
        state=store,
        bank=load_adapter("sandbox"),
        keys=SigningKeys.generate(),
        bank_login=bank_login,
    )
    app = create_app(config, services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(mounts={issuer: transport}, timeout=10) as http:
        try:
            yield Gateway(config, services, http, op, transport)
        finally:
            await bank_login.aclose()
            await services.bank.aclose()
            await store.aclose()
            if isinstance(store, RedisStateStore):
                purge_prefix(store.prefix)

"""The reference topology, really run: Debian's nginx terminating TLS (a throwaway CA) in front
of two ``fdxgw serve`` instances that share PostgreSQL and Redis, with nginx configured by
docs/deployment/nginx.conf as written.

Through the proxy: a whole flow (PAR, sign-in, consent, token, FDX reads, revocation) whose
requests land on both instances; a token bound to the recipient's TLS client certificate
(RFC 8705) that works with that certificate only; a forged certificate header that the proxy
drops; and X-Forwarded-For, believed from the proxy and ignored from anyone else.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from examples.budget_app import _fill, _forms
from tests.contracts.conftest import (
    REDIS_URL,
    create_database,
    drop_database,
    purge_prefix,
    require_redis,
)
from tests.deploy.nginx import Nginx, nginx_binary, site
from tests.deploy.pki import Issued, ThrowawayCA
from tests.faults.servers import free_port
from tests.multi.driver import Driver, Tokens
from tests.serving.operator import Fdxgw, clean_environment, write_config

pytestmark = pytest.mark.anyio

CERT_HEADER = "x-ssl-client-cert"
PER_ADDRESS = 2  # failed sign-ins from one address before it is refused


@dataclass
class Topology:
    issuer: str  # nginx
    instances: dict[str, str]  # name -> its own address (plain HTTP, behind the proxy)
    management: dict[str, str]
    ca: ThrowawayCA
    recipient: Issued
    other: Issued
    nginx: Nginx


@pytest.fixture(scope="module")
def topology(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    require_redis()
    nginx_binary()
    folder = tmp_path_factory.mktemp("proxy")
    ca = ThrowawayCA(folder)
    server = ca.server()
    database = create_database()
    prefix = f"fdxgw-test-proxy-{folder.name}:"
    proxy_port = free_port()
    issuer = f"https://127.0.0.1:{proxy_port}"
    config = write_config(
        folder,
        {
            "issuer": issuer,
            "database_url": database,
            "redis_url": REDIS_URL,
            "redis_prefix": prefix,
            "var_dir": "var",
            "trusted_proxies": "127.0.0.1",
            "mtls_client_cert_header": CERT_HEADER,
            "login_failures_per_address": PER_ADDRESS,
            "notification_sweep_interval": 0,
        },
    )
    instances: dict[str, Fdxgw] = {}
    ports = {name: (free_port(), free_port()) for name in ("a", "b")}
    proxy = Nginx(
        folder,
        site(
            (f"127.0.0.1:{ports['a'][0]}", f"127.0.0.1:{ports['b'][0]}"),
            proxy_port,
            server.certificate,
            server.key,
        ),
        proxy_port,
    )
    try:
        init = Fdxgw(folder).run("--config", str(config), "init")
        assert 0 == init.returncode, init.stderr
        for name, (port, management) in ports.items():
            env = clean_environment(FDX_PORT=str(port), FDX_MANAGEMENT_PORT=str(management))
            instance = instances[name] = Fdxgw(folder, env=env)
            instance.stdout = folder / f"{name}.out"
            instance.stderr = folder / f"{name}.err"
            instance.start(
                "--config", str(config), "serve", ready=f"http://127.0.0.1:{management}/healthz"
            )
        proxy.start()
        yield Topology(
            issuer,
            {n: f"http://127.0.0.1:{p}" for n, (p, _) in ports.items()},
            {n: f"http://127.0.0.1:{m}" for n, (_, m) in ports.items()},
            ca,
            ca.client("recipient"),
            ca.client("other"),
            proxy,
        )
    finally:
        proxy.stop()
        for instance in instances.values():
            instance.kill()
        purge_prefix(prefix)
        drop_database(database)


def tls(topology: Topology, client: Issued | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(topology.ca.certificate))
    if client is not None:
        context.load_cert_chain(str(client.certificate), str(client.key))
    return context


@pytest.fixture
async def browser(topology: Topology) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(verify=tls(topology), timeout=30) as client:
        yield client


def requests_served(topology: Topology, name: str) -> float:
    page = httpx.get(topology.management[name] + "/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in page.splitlines()
        if line.startswith("fdxgw_http_requests_total{")
    )


def test_tls_is_terminated_by_the_proxy_with_the_issuers_certificate(topology: Topology):
    """The discovery document over TLS, verified against the throwaway CA, names the proxy."""
    answer = httpx.get(
        topology.issuer + "/.well-known/oauth-authorization-server", verify=tls(topology)
    )

    assert 200 == answer.status_code
    assert topology.issuer == answer.json()["issuer"]
    with pytest.raises(httpx.ConnectError):
        httpx.get(topology.issuer + "/jwks", verify=True)  # not a publicly trusted CA


@pytest.mark.parametrize("path", ["/metrics", "/admin/keys", "/healthz", "/readyz"])
def test_the_operators_paths_are_not_published(topology: Topology, path: str):
    """404 from the proxy; they are on each instance's management port only."""
    assert 404 == httpx.get(topology.issuer + path, verify=tls(topology)).status_code


async def test_a_whole_flow_through_the_proxy_reaches_both_instances(topology: Topology, browser):
    """PAR, sign-in, consent, token, reads and revocation, alternating between instances."""
    before = {name: requests_served(topology, name) for name in topology.instances}
    driver = Driver(browser, topology.issuer)

    pushed = await driver.par()
    tokens = await driver.token(await driver.authorize(pushed), pushed)
    accounts = await driver.fdx(tokens)
    account = accounts.json()["accounts"][0]["accountId"]
    transactions = await driver.fdx(tokens, f"/accounts/{account}/transactions")
    revoked = await driver.revoke(tokens)
    after_revocation = await driver.fdx(tokens)

    assert (200, 200, 200) == (
        accounts.status_code,
        transactions.status_code,
        revoked.status_code,
    )
    assert 401 == after_revocation.status_code
    for name in topology.instances:
        assert requests_served(topology, name) > before[name], f"instance {name} got nothing"


class CertificateClient(Driver):
    """A recipient whose tokens are bound to its TLS client certificate: no DPoP proof."""

    async def call(
        self,
        method: str,
        path: str,
        *,
        via: str | None = None,
        token: str | None = None,
        form: Mapping[str, str] | None = None,
        authenticate: bool = False,
        params: Mapping[str, str] | None = None,
        limit: float = 30,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = {**(form or {}), **(self.assertion() if authenticate else {})}
        return await self.http.request(
            method,
            (via or self.issuer) + path,
            headers=headers,
            params=params,
            data=data or None,
            timeout=limit,
        )


def x5t(issued: Issued) -> str:
    der = x509.load_pem_x509_certificate(issued.certificate.read_bytes()).public_bytes(Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


async def certificate_bound(topology: Topology, http: httpx.AsyncClient) -> Tokens:
    recipient = CertificateClient(http, topology.issuer)
    pushed = await recipient.par()
    return await recipient.token(await recipient.authorize(pushed), pushed)


async def test_a_token_bound_to_the_client_certificate_works_with_it_only(topology: Topology):
    """RFC 8705 end to end: the proxy passes the certificate, the token carries its
    thumbprint, and the data API answers that certificate and refuses another or none."""
    async with (
        httpx.AsyncClient(verify=tls(topology, topology.recipient), timeout=30) as holder,
        httpx.AsyncClient(verify=tls(topology, topology.other), timeout=30) as thief,
        httpx.AsyncClient(verify=tls(topology), timeout=30) as anonymous,
    ):
        tokens = await certificate_bound(topology, holder)
        bearer = {"Authorization": f"Bearer {tokens.access}"}
        url = topology.issuer + "/fdx/v6/accounts"

        own = await holder.get(url, headers=bearer)
        other = await thief.get(url, headers=bearer)
        none = await anonymous.get(url, headers=bearer)

    assert x5t(topology.recipient) == claims(tokens.access)["cnf"]["x5t#S256"]
    assert (200, 401, 401) == (own.status_code, other.status_code, none.status_code)


async def test_a_certificate_header_sent_by_the_client_is_dropped_by_the_proxy(
    topology: Topology,
):
    """Without a TLS certificate, a forged X-SSL-Client-Cert naming the holder's certificate
    does not make the holder's token usable."""
    async with (
        httpx.AsyncClient(verify=tls(topology, topology.recipient), timeout=30) as holder,
        httpx.AsyncClient(verify=tls(topology), timeout=30) as forger,
    ):
        tokens = await certificate_bound(topology, holder)
        forged = quote(topology.recipient.certificate.read_text(encoding="ascii"), safe="")
        answer = await forger.get(
            topology.issuer + "/fdx/v6/accounts",
            headers={"Authorization": f"Bearer {tokens.access}", CERT_HEADER: forged},
        )

    assert 401 == answer.status_code


async def failed_sign_in(
    client: httpx.AsyncClient, base: str, request_uri: str, user: str, **headers: str
) -> int:
    """Open the sign-in page at ``base`` and post a wrong password; the answer's status.
    Cookies are sent by hand: the gateway sets them Secure (its issuer is https), which a
    client talking plain HTTP to an instance would otherwise keep to itself."""

    def with_cookies() -> dict[str, str]:
        jar = "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)
        return {**headers, **({"cookie": jar} if jar else {})}

    page = await client.get(
        base + "/oauth/authorize",
        params={"client_id": "demo-budget-app", "request_uri": request_uri},
        headers=with_cookies(),
    )
    for _ in range(5):
        if page.status_code not in (302, 303):
            break
        page = await client.get(
            base + urlsplit(page.headers["location"]).path, headers=with_cookies()
        )
    form = _forms(page.text)[0]
    answer = await client.post(
        base + form["action"],
        data=_fill(form, username=user, password="wrong"),
        headers=with_cookies(),
    )
    return answer.status_code


async def test_x_forwarded_for_is_believed_from_the_proxy_only(topology: Topology, browser):
    """Through the proxy each client address has its own sign-in allowance (the proxy's
    X-Forwarded-For names it, whatever the client wrote there); a client talking to an
    instance directly is counted by its own address, whatever X-Forwarded-For it sends."""
    recipient = Driver(browser, topology.issuer)

    def client(address: str, ssl_context: Any) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(local_address=address, verify=ssl_context)
        return httpx.AsyncClient(transport=transport, timeout=30)

    async def attempt(http: httpx.AsyncClient, base: str, n: int, **headers: str) -> int:
        pushed = await recipient.par()
        return await failed_sign_in(http, base, pushed.request_uri, f"nobody-{n}", **headers)

    proxied, other_proxied = client("127.0.0.2", tls(topology)), client("127.0.0.3", tls(topology))
    direct = client("127.0.0.4", True)
    async with proxied, other_proxied, direct:
        spoof = {"x-forwarded-for": "198.51.100.7"}
        through = [
            await attempt(proxied, topology.issuer, n, **spoof) for n in range(PER_ADDRESS + 1)
        ]
        neighbour = await attempt(other_proxied, topology.issuer, 10)
        instance = topology.instances["a"]
        bypass = [
            await attempt(direct, instance, 20 + n, **{"x-forwarded-for": f"198.51.100.{20 + n}"})
            for n in range(PER_ADDRESS + 1)
        ]

    assert 429 == through[-1]
    assert 429 not in through[:-1]
    assert 429 != neighbour  # 127.0.0.3 has its own count: the proxy named it
    assert 429 == bypass[-1]  # one address, whatever the forged header said
    assert 429 not in bypass[:-1]


async def test_both_instances_report_the_same_1033_figures(topology: Topology, browser):
    """From the one audit trail: each instance's certification metrics and /metrics agree,
    once each has counted the current month again (at most every 5 seconds)."""
    driver = Driver(browser, topology.issuer)
    pushed = await driver.par()
    tokens = await driver.token(await driver.authorize(pushed), pushed)
    for _ in range(4):
        assert 200 == (await driver.fdx(tokens)).status_code

    def figures() -> set[tuple[str, float, float]]:
        seen = set()
        for name, address in topology.instances.items():
            published = httpx.get(address + "/fdx/v6/certification-metrics", timeout=10).json()
            current = published["metrics"][-1]
            page = httpx.get(topology.management[name] + "/metrics", timeout=10).text
            lines = [
                line for line in page.splitlines()
                if line.startswith('fdxgw_cfpb_1033_requests_total{month="')
            ]  # fmt: skip
            label, value = lines[-1].split(" ")  # the current month is the last one
            month = (label.split('"')[1], float(value))
            seen.add((*month, current["averageUpTime"]))
        return seen

    agreed = figures()
    for _ in range(100):
        if len(agreed) == 1:
            break
        await asyncio.sleep(0.1)
        agreed = figures()

    assert 1 == len(agreed), agreed

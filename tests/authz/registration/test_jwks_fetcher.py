"""Client keys from jwks_uri: a real JWKS server on 127.0.0.1, the cache, refetch on an unknown
kid, limits, and the SSRF refusals (checked without any network)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import pytest
from starlette.requests import Request

from authz.client_auth import ClientAuthenticator
from authz.errors import InvalidClientError
from authz.registration.jwks_fetcher import JwksFetcher, JwksFetchError
from tests.authz.oauth.conftest import FakeClock, client_record, new_key, run
from tests.authz.registration.conftest import Registry

pytestmark = pytest.mark.anyio


@dataclass
class Served:
    """What the test server answers, and how often it was asked."""

    body: bytes = b'{"keys": []}'
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunked: bool = False
    hits: int = 0
    host_headers: list[str] = field(default_factory=list)


@dataclass
class JwksServer:
    served: Served
    url: str

    def publish(self, *keys: Any) -> None:
        self.served.body = orjson.dumps({"keys": [k.as_dict(private=False) for k in keys]})


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    served = Served()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.hits += 1
            served.host_headers.append(self.headers.get("Host", ""))
            if served.delay:
                time.sleep(served.delay)
            self.send_response(served.status)
            for name, value in served.headers.items():
                self.send_header(name, value)
            if not served.chunked:
                self.send_header("Content-Length", str(len(served.body)))
            self.end_headers()
            try:
                self.wfile.write(served.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading: what the size limit is for

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield JwksServer(served, f"http://127.0.0.1:{server.server_address[1]}/jwks")
    finally:
        server.shutdown()
        server.server_close()


def _fetcher(clock: FakeClock, **kwargs: Any) -> JwksFetcher:
    return JwksFetcher(clock=clock, allow_private=kwargs.pop("allow_private", True), **kwargs)


async def test_keys_are_fetched_and_cached(jwks_server: JwksServer):
    """One fetch serves every call for five minutes; after that the keys are fetched again."""
    clock, key = FakeClock(), new_key("k1")
    jwks_server.publish(key)
    fetcher = _fetcher(clock)

    first = await fetcher.get("c", jwks_server.url)
    await fetcher.get("c", jwks_server.url)
    clock.advance(301)
    await fetcher.get("c", jwks_server.url)

    assert first["keys"][0]["kid"] == "k1"
    assert jwks_server.served.hits == 2
    assert jwks_server.served.host_headers[0] == jwks_server.url.split("/")[2]


async def test_a_refresh_is_rate_limited(jwks_server: JwksServer):
    """An unknown kid may ask again, but at most once per 30 s per client."""
    clock = FakeClock()
    jwks_server.publish(new_key("k1"))
    fetcher = _fetcher(clock)
    await fetcher.get("c", jwks_server.url)

    for _ in range(5):
        await fetcher.get("c", jwks_server.url, refresh=True)
    clock.advance(31)
    await fetcher.get("c", jwks_server.url, refresh=True)

    assert jwks_server.served.hits == 2


async def test_last_good_keys_survive_a_failed_refetch(jwks_server: JwksServer):
    """When the host fails, the keys fetched within the hour keep working."""
    clock = FakeClock()
    jwks_server.publish(new_key("k1"))
    fetcher = _fetcher(clock)
    await fetcher.get("c", jwks_server.url)
    jwks_server.served.status = 500
    clock.advance(301)

    kept = await fetcher.get("c", jwks_server.url)
    clock.advance(3600)

    assert kept["keys"][0]["kid"] == "k1"
    with pytest.raises(JwksFetchError):
        await fetcher.get("c", jwks_server.url)


@pytest.mark.parametrize(
    ("served", "message"),
    [
        (Served(status=404), "HTTP 404"),
        (Served(status=302, headers={"Location": "http://10.0.0.1/"}), "HTTP 302"),
        (Served(body=b"<html>"), "not JSON"),
        (Served(body=b'{"kty": "EC"}'), "not a JWK Set"),
        (Served(body=b"x" * 70_000), "too large"),
        (Served(body=b"x" * 70_000, chunked=True), "too large"),
        (Served(headers={"Content-Encoding": "gzip"}), "content encoding"),
    ],
    ids=["not-found", "redirect-not-followed", "html", "single-jwk", "declared-large",
         "streamed-large", "compressed"],
)  # fmt: skip
async def test_bad_answers_are_refused(jwks_server: JwksServer, served: Served, message: str):
    """Errors, redirects, non-JWK-Set bodies and bodies over 64 KB are refused."""
    jwks_server.served.__dict__.update(
        {k: v for k, v in served.__dict__.items() if k not in ("hits", "host_headers")}
    )

    with pytest.raises(JwksFetchError, match=message):
        await _fetcher(FakeClock()).fetch(jwks_server.url)


async def test_a_slow_server_times_out(jwks_server: JwksServer, monkeypatch):
    """A host that does not answer within the read timeout is given up on."""
    monkeypatch.setattr("authz.registration.jwks_fetcher.TIMEOUT", httpx.Timeout(0.2), raising=True)
    jwks_server.served.delay = 1.0

    with pytest.raises(JwksFetchError, match="ReadTimeout"):
        await _fetcher(FakeClock()).fetch(jwks_server.url)


class NoNetwork(httpx.AsyncBaseTransport):
    """Fails the test if a connection is ever attempted."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        raise AssertionError("no connection may be attempted")


async def _no_resolution(host: str, port: int) -> list[str]:
    raise AssertionError("a literal address must not be resolved")


@pytest.mark.parametrize(
    "uri",
    [
        "https://10.0.0.1/jwks",
        "https://127.0.0.1/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/jwks",
        "https://[::ffff:127.0.0.1]/jwks",
        "https://100.64.0.1/jwks",
        "https://0.0.0.0/jwks",
        "https://224.0.0.1/jwks",
    ],
    ids=["private", "loopback", "link-local-metadata", "ipv6-loopback", "ipv4-mapped",
         "shared-cgnat", "unspecified", "multicast"],
)  # fmt: skip
async def test_non_public_literal_addresses_are_refused_before_any_connection(uri: str):
    """SSRF: internal addresses are refused by the ipaddress check, nothing is sent."""
    transport = NoNetwork()
    fetcher = JwksFetcher(clock=FakeClock(), resolver=_no_resolution, transport=transport)

    with pytest.raises(JwksFetchError, match="non-public"):
        await fetcher.fetch(uri)
    assert transport.requests == []


async def test_a_name_resolving_to_loopback_is_refused():
    """ "localhost" resolves (from /etc/hosts, no network) to loopback: refused."""
    transport = NoNetwork()
    fetcher = JwksFetcher(clock=FakeClock(), transport=transport)

    with pytest.raises(JwksFetchError, match="non-public"):
        await fetcher.fetch("https://localhost/jwks")
    assert transport.requests == []


async def test_one_private_address_among_public_ones_refuses_the_name():
    """Every resolved address is checked, not only the first (DNS answers can be mixed)."""

    async def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.1.2.3"]

    fetcher = JwksFetcher(clock=FakeClock(), resolver=mixed, transport=NoNetwork())

    with pytest.raises(JwksFetchError, match="non-public"):
        await fetcher.fetch("https://keys.example.com/jwks")


@pytest.mark.parametrize(
    "uri",
    ["http://keys.example.com/jwks", "https://user:pw@keys.example.com/jwks", "ftp://x/jwks",
     "https:///jwks"],
    ids=["plain-http", "credentials", "ftp", "no-host"],
)  # fmt: skip
async def test_only_https_urls_without_credentials_are_fetched(uri: str):
    """Outside tests, jwks_uri must be https and carry no userinfo."""
    fetcher = JwksFetcher(clock=FakeClock(), resolver=_no_resolution, transport=NoNetwork())

    with pytest.raises(JwksFetchError, match="https"):
        await fetcher.fetch(uri)


async def test_the_connection_goes_to_the_checked_address():
    """DNS rebinding: the request is sent to the address that passed the check, with the name
    as Host and as the TLS server name (the certificate is verified against it)."""
    seen: list[httpx.Request] = []

    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"keys": []})

    fetcher = JwksFetcher(
        clock=FakeClock(), resolver=public, transport=httpx.MockTransport(handler)
    )

    await fetcher.fetch("https://keys.example.com:8443/.well-known/jwks.json?v=2")

    assert str(seen[0].url) == "https://93.184.216.34:8443/.well-known/jwks.json?v=2"
    assert seen[0].headers["host"] == "keys.example.com:8443"
    assert seen[0].extensions["sni_hostname"] == "keys.example.com"
    assert seen[0].headers["accept-encoding"] == "identity"


def _request() -> Request:
    return Request({"type": "http", "method": "POST", "path": "/oauth/token", "headers": []})


async def test_client_auth_refetches_on_an_unknown_kid(dcr: Registry, jwks_server: JwksServer):
    """A client that rotated its key (new kid at its jwks_uri) authenticates at once."""
    old, new = new_key("old-kid"), new_key("new-kid")
    jwks_server.publish(old)
    await dcr.records.clients.put(
        client_record("jwks-uri-client", old, jwks={}, jwks_uri=jwks_server.url)
    )
    clients = ClientAuthenticator(dcr.services, fetcher=_fetcher(dcr.clock))
    first = await clients.authenticate(_request(), dcr.assertion("jwks-uri-client", old))

    jwks_server.publish(new)
    dcr.clock.advance(31)
    second = await clients.authenticate(_request(), dcr.assertion("jwks-uri-client", new))

    assert first.client_id == second.client_id == "jwks-uri-client"
    assert jwks_server.served.hits == 2


async def test_client_auth_refuses_when_keys_cannot_be_fetched(dcr: Registry):
    """An unreachable or forbidden jwks_uri is invalid_client, not a 500."""
    key = new_key("k")
    await dcr.records.clients.put(
        client_record("c-ssrf", key, jwks={}, jwks_uri="https://10.0.0.1/jwks")
    )
    clients = ClientAuthenticator(
        dcr.services, fetcher=JwksFetcher(clock=dcr.clock, transport=NoNetwork())
    )

    with pytest.raises(InvalidClientError):
        await clients.authenticate(_request(), dcr.assertion("c-ssrf", key))


def test_the_default_fetcher_follows_the_setting(dcr: Registry):
    """Without jwks_fetch_allow_private, loopback is refused by the authenticator's fetcher."""
    key = new_key("k")
    run(dcr.records.clients.put, client_record("c-local", key, jwks={},
                                             jwks_uri="https://127.0.0.1:9/jwks"))  # fmt: skip
    form = dcr.assertion("c-local", key)

    response = dcr.http.post("/oauth/par", data={"client_id": "c-local", **form})

    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")
    assert "jwks_uri" in response.json()["error_description"]

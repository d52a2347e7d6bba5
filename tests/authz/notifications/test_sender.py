"""Which URLs may receive notifications, and how a single POST is bounded."""

from __future__ import annotations

import httpx
import pytest

from authz.addresses import Resolver, Unresolvable
from authz.notifications import Refused, Sender, check_url
from tests.authz.notifications.conftest import settings

pytestmark = pytest.mark.anyio

PUBLIC = "93.184.216.34"


def dns(*addresses: str) -> Resolver:
    """A resolver that answers ``addresses`` for every name, and counts its questions."""

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return list(addresses)

    asked: list[str] = []
    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


public_dns = dns(PUBLIC)


@pytest.mark.parametrize(
    ("url", "allow_insecure", "refused"),
    [
        ("https://app.example/n", False, None),
        ("https://93.184.216.34/n", False, None),
        ("http://app.example/n", False, "not an https url"),
        ("http://app.example/n", True, "not an https url"),
        ("http://127.0.0.1:8765/n", False, "not an https url"),
        ("http://127.0.0.1:8765/n", True, None),
        ("http://localhost/n", True, None),
        ("http://[::1]:9/n", True, None),
        ("https://127.0.0.1/n", False, "loopback host"),
        ("https://10.0.0.5/n", False, "non-public address"),
        ("https://169.254.169.254/latest", True, "non-public address"),
        ("https://user:pw@app.example/n", False, "malformed url"),
        ("https://app.example:99999/n", False, "malformed url"),
        ("ftp://app.example/n", True, "not an https url"),
        ("", False, "malformed url"),
        ("https://2130706433/n", False, "numeric host"),
        ("https://0x7f.1/n", False, "numeric host"),
        ("https://127.1/n", False, "numeric host"),
        ("https://0177.0.0.1/n", False, "numeric host"),
        ("https://app.example.0x10/n", False, "numeric host"),
        ("https://localhost./n", False, "loopback host"),
        ("https://api.localhost/n", False, "loopback host"),
        ("https://API.LocalHost./n", False, "loopback host"),
        ("http://api.localhost:8765/n", True, None),
        ("https://100.64.0.1/n", False, "non-public address"),
        ("https://[64:ff9b::a00:1]/n", False, "non-public address"),
        ("https://[::ffff:10.0.0.1]/n", False, "non-public address"),
        ("https://[2002:a00:1::1]/n", False, "non-public address"),
        ("https://[fe80::1%25eth0]/n", False, "non-public address"),
        ("https://app.example/n\r\nX-Evil: 1", False, "malformed url"),
        ("https://app.exa\tmple/n", False, "malformed url"),
        (" https://app.example/n", False, "malformed url"),
        ("https://app.example/a b", False, "malformed url"),
        ("https://app.example/n\x00", False, "malformed url"),
        ("https://app.example/n\u00a0", False, "malformed url"),
    ],
    ids=[
        "https-name",
        "https-public-ip",
        "http-off-loopback",
        "http-off-loopback-even-in-sandbox",
        "loopback-http-without-the-setting",
        "loopback-http-in-sandbox",
        "localhost-in-sandbox",
        "ipv6-loopback-in-sandbox",
        "https-loopback-in-production",
        "private-address",
        "link-local-metadata",
        "userinfo",
        "bad-port",
        "other-scheme",
        "empty",
        "ipv4-decimal-shorthand",
        "ipv4-hex-shorthand",
        "ipv4-two-part-shorthand",
        "ipv4-octal",
        "name-ending-in-a-number",
        "localhost-fqdn",
        "under-localhost",
        "under-localhost-any-case",
        "under-localhost-in-sandbox",
        "shared-address-space",
        "nat64-to-private",
        "ipv4-mapped-private",
        "6to4-of-private",
        "link-local-with-zone",
        "crlf",
        "tab-in-host",
        "leading-space",
        "space-in-path",
        "nul",
        "no-break-space",
    ],
)
def test_only_https_urls_receive_notifications(
    url: str, allow_insecure: bool, refused: str | None
) -> None:
    """https to a public host; plain http only to loopback and only with the sandbox setting."""
    if refused is None:
        check_url(url, allow_insecure=allow_insecure)
    else:
        with pytest.raises(Refused, match=refused):
            check_url(url, allow_insecure=allow_insecure)


async def test_a_redirect_is_a_failed_attempt_and_not_followed() -> None:
    """A 3xx is recorded as its status; the Location is never requested."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(302, headers={"location": "https://elsewhere.example/"})

    sender = Sender(settings(), transport=httpx.MockTransport(handler), resolver=public_dns)

    outcome = await sender.post("https://app.example/n", "a.b.c")

    assert (outcome.delivered, outcome.status) == (False, "302")
    assert seen == [f"https://{PUBLIC}/n"]
    await sender.aclose()


async def test_the_post_carries_the_jws_and_fdx_headers() -> None:
    """application/jose body, an interaction id, actor type BATCH; the answer body is ignored."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"x" * 1_000_000)

    sender = Sender(settings(), transport=httpx.MockTransport(handler), resolver=public_dns)

    outcome = await sender.post("https://app.example/n", "a.b.c")

    [request] = seen
    assert (outcome.delivered, outcome.status) == (True, "200")
    assert request.content == b"a.b.c"
    assert request.headers["content-type"] == "application/jose"
    assert request.headers["fdx-api-actor-type"] == "BATCH"
    assert len(request.headers["x-fapi-interaction-id"]) == 36
    await sender.aclose()


async def test_an_unreachable_receiver_is_a_connect_error() -> None:
    """Nothing listening: the attempt fails as a connect error, it does not raise."""

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sender = Sender(settings(), transport=httpx.MockTransport(handler), resolver=public_dns)

    outcome = await sender.post("https://app.example/n", "a.b.c")

    assert (outcome.delivered, outcome.status) == (False, "connect error")
    await sender.aclose()


@pytest.mark.parametrize(
    "addresses",
    [
        ("10.0.0.5",),
        ("169.254.169.254",),
        ("127.0.0.1",),
        (PUBLIC, "192.168.1.1"),
        ("::ffff:10.1.2.3",),
    ],
    ids=[
        "private",
        "link-local-metadata",
        "loopback",
        "one-private-among-public",
        "mapped-private",
    ],
)
async def test_a_name_resolving_to_a_non_public_address_is_refused(
    addresses: tuple[str, ...],
) -> None:
    """Every address the name resolves to is checked, and nothing is sent to any of them."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sender = Sender(
        settings(allow_insecure_notification_urls=False),
        transport=httpx.MockTransport(handler),
        resolver=dns(*addresses),
    )

    with pytest.raises(Refused, match="non-public address"):
        await sender.post("https://app.example/n", "a.b.c")
    assert [] == seen
    await sender.aclose()


async def test_the_post_goes_to_the_address_that_was_checked() -> None:
    """DNS rebinding: the connection is made to the checked address, with the URL's host as
    Host and as the TLS server name, so a second DNS answer is never asked for."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    resolver = dns(PUBLIC)
    sender = Sender(settings(), transport=httpx.MockTransport(handler), resolver=resolver)

    outcome = await sender.post("https://app.example:8443/n?x=1", "a.b.c")

    [request] = seen
    assert (True, "204") == (outcome.delivered, outcome.status)
    assert f"https://{PUBLIC}:8443/n?x=1" == str(request.url)
    assert "app.example:8443" == request.headers["host"]
    assert "app.example" == request.extensions["sni_hostname"]
    assert ["app.example"] == resolver.asked  # type: ignore[attr-defined]
    await sender.aclose()


async def test_loopback_names_are_allowed_only_with_the_sandbox_setting() -> None:
    """allow_insecure_notification_urls stays the escape hatch for the demo and tests."""
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        return httpx.Response(204)

    def sender(allow: bool) -> Sender:
        return Sender(
            settings(allow_insecure_notification_urls=allow),
            transport=httpx.MockTransport(handler),
            resolver=dns("127.0.0.1"),
        )

    sandbox, production = sender(True), sender(False)

    assert (await sandbox.post("https://receiver.test/n", "a.b.c")).delivered
    with pytest.raises(Refused):
        await production.post("https://receiver.test/n", "a.b.c")
    assert ["https://127.0.0.1/n"] == sent
    await sandbox.aclose()
    await production.aclose()


async def test_a_name_that_does_not_resolve_is_a_failed_attempt_to_retry() -> None:
    """DNS can come back: the attempt fails (and is retried), it is not refused for good."""

    async def nxdomain(host: str, port: int) -> list[str]:
        raise Unresolvable("host does not resolve (gaierror)")

    sender = Sender(
        settings(), transport=httpx.MockTransport(lambda r: httpx.Response(204)), resolver=nxdomain
    )

    outcome = await sender.post("https://app.example/n", "a.b.c")

    assert (False, "dns error") == (outcome.delivered, outcome.status)
    await sender.aclose()

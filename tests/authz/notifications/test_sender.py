"""Which URLs may receive notifications, and how a single POST is bounded."""

from __future__ import annotations

import httpx
import pytest

from authz.notifications import Refused, Sender, check_url
from tests.authz.notifications.conftest import settings

pytestmark = pytest.mark.anyio


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

    sender = Sender(settings(), transport=httpx.MockTransport(handler))

    outcome = await sender.post("https://app.example/n", "a.b.c")

    assert (outcome.delivered, outcome.status) == (False, "302")
    assert seen == ["https://app.example/n"]
    await sender.aclose()


async def test_the_post_carries_the_jws_and_fdx_headers() -> None:
    """application/jose body, an interaction id, actor type BATCH; the answer body is ignored."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"x" * 1_000_000)

    sender = Sender(settings(), transport=httpx.MockTransport(handler))

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

    sender = Sender(settings(), transport=httpx.MockTransport(handler))

    outcome = await sender.post("https://app.example/n", "a.b.c")

    assert (outcome.delivered, outcome.status) == (False, "connect error")
    await sender.aclose()

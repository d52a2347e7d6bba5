"""The SSRF address check shared by the jwks_uri fetcher and notification delivery."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from authz.addresses import NonPublicAddress, checked_address, is_public, pin

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "127.0.0.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT, RFC 6598
        "0.0.0.0",  # noqa: S104 (the address under test, not a bind)
        "224.0.0.1",
        "::1",
        "::",
        "fc00::1",  # unique local, RFC 4193
        "fe80::1",  # link-local
        "fec0::1",  # site-local (deprecated, RFC 3879)
        "::ffff:10.0.0.1",  # IPv4-mapped
        "::a00:1",  # IPv4-compatible (deprecated, RFC 4291 §2.5.5.1)
        "64:ff9b::a00:1",  # NAT64 well-known prefix carrying 10.0.0.1 (RFC 6052)
        "64:ff9b::a9fe:a9fe",  # … carrying 169.254.169.254
        "64:ff9b:1::808:808",  # NAT64 local-use prefix (RFC 8215): cannot be judged
        "2002:a9fe:a9fe::1",  # 6to4 carrying 169.254.169.254 (RFC 3056)
        "2002:a00:1::1",  # 6to4 carrying 10.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "ff02::1",
        "not an address",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"]
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(address)


async def test_one_private_answer_refuses_the_whole_name() -> None:
    async def resolver(host: str, port: int) -> list[str]:
        return ["8.8.8.8", "64:ff9b::a00:1"]

    with pytest.raises(NonPublicAddress):
        await checked_address("rebind.example", 443, resolver=resolver)


def test_pin_sends_an_internationalised_host_as_its_a_label() -> None:
    """Host and the TLS server name must be ASCII on the wire (RFC 5891): the U-label would
    fail to encode and the delivery never leave."""
    pinned = pin(urlsplit("https://bücher.example/notify?x=1"), "8.8.8.8", 443)

    assert "https://8.8.8.8:443/notify?x=1" == pinned.url
    assert {"Host": "xn--bcher-kva.example"} == pinned.headers
    assert {"sni_hostname": "xn--bcher-kva.example"} == pinned.extensions


def test_pin_keeps_an_explicit_port_and_never_userinfo_in_host() -> None:
    pinned = pin(urlsplit("http://user:secret@app.example:8443/n"), "8.8.8.8", 8443)

    assert {"Host": "app.example:8443"} == pinned.headers
    assert {} == pinned.extensions

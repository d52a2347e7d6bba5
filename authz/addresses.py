"""Where the gateway may connect when a stranger chose the URL (a client's ``jwks_uri``, a
recipient's ``notification_uri``): server-side request forgery is assumed until disproved
(OWASP SSRF cheat sheet).

The host is resolved here and **every** address it resolves to must be public: one private,
loopback, link-local, reserved, multicast or unspecified address refuses the whole name
(IPv4-mapped IPv6 addresses are judged as the IPv4 they carry). The caller then connects to the
address that was checked (``pin``), with the URL's host as ``Host`` and as the TLS server name
the certificate is verified against, so a second DNS answer cannot swap in an internal address
between the check and the connection (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlunsplit

import anyio
import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]


class AddressError(Exception):
    """The host cannot be connected to; the message is safe to log (no address, no name)."""


class Unresolvable(AddressError):
    """The name did not resolve (possibly for now: DNS answers can come back)."""


class NonPublicAddress(AddressError):
    """The host is, or resolves to, an address the gateway must not connect to."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, from the event loop's ``getaddrinfo``."""
    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Unresolvable(f"host does not resolve ({type(exc).__name__})") from None
    return [str(info[4][0]) for info in infos]


# IPv6 forms that reach IPv4 (or a local network) through a translator: judged by the IPv4
# they carry, or refused where that cannot be told (review of 4c802a9: Python 3.11 calls
# 64:ff9b::a00:1 global, and a NAT64 gateway would take it to 10.0.0.1).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: judge the IPv4
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215, local use: refused
_COMPATIBLE = ipaddress.IPv6Network("::/96")  # RFC 4291 §2.5.5.1, deprecated: refused


def is_public(address: str) -> bool:
    """Whether ``address`` is a globally routable unicast address (RFC 6890 special-purpose
    registries: private, loopback, link-local, shared, reserved, documentation… are not)."""
    ip = _ip(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _LOCAL_NAT64 or ip in _COMPATIBLE or ip.is_site_local or ip.teredo:
            return False
        if ip in _NAT64:
            return is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip.sixtofour is not None:  # 2002::/16, RFC 3056: the IPv4 is in bits 16-47
            return is_public(str(ip.sixtofour)) and _global(ip)
    return _global(ip)


def _global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast and not ip.is_unspecified


def is_loopback(address: str) -> bool:
    ip = _ip(address)
    return ip is not None and ip.is_loopback


async def checked_address(
    host: str,
    port: int,
    *,
    resolver: Resolver = system_resolver,
    allow: Callable[[str], bool] = is_public,
) -> str:
    """The address to connect to for ``host``: a literal as it is, a name resolved; raises
    ``NonPublicAddress`` unless ``allow`` accepts every address, ``Unresolvable`` for none."""
    addresses = [host] if _ip(host) is not None else await resolver(host, port)
    if not addresses:
        raise Unresolvable("host does not resolve")
    if not all(allow(address) for address in addresses):
        raise NonPublicAddress("host resolves to a non-public address")
    return addresses[0]


@dataclass(frozen=True, slots=True)
class Pinned:
    """A request target rewritten to a checked address: pass ``url``, ``headers`` and
    ``extensions`` to ``httpx.AsyncClient.build_request``."""

    url: str
    headers: dict[str, str]
    extensions: dict[str, Any]


def pin(parts: SplitResult, address: str, port: int) -> Pinned:
    """``parts`` aimed at ``address``: the original host travels as ``Host`` (RFC 9110 §7.2)
    and, over https, as the TLS server name (httpcore's ``sni_hostname``), which the server's
    certificate is verified against."""
    netloc = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    # On the wire a host is ASCII: an internationalised name goes as its IDNA A-label
    # (RFC 5891), as httpx would send it; userinfo never travels in Host.
    host = httpx.URL(urlunsplit(parts)).raw_host.decode("ascii")
    shown = f"[{host}]" if ":" in host else host
    header = shown if parts.port is None else f"{shown}:{parts.port}"
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return Pinned(url, {"Host": header}, extensions)


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip

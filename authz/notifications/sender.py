"""One POST of a signed notification to a recipient, bounded in every direction.

A receiver is someone else's server: it may be down, slow, redirect, or answer with a flood.
So each attempt has connect and read timeouts plus an overall deadline, redirects are never
followed (a 3xx is a failed attempt), the response body is never read (only the status line
counts), and the shared client holds at most ``notification_concurrency`` connections. Only
``https`` URLs are used, and only to public addresses: the host is resolved at each attempt and
every address checked, and the POST goes to the address that was checked (``authz.addresses``:
no DNS rebinding between check and connection). Plain ``http`` to a loopback host, and loopback
addresses at all, are allowed only with ``allow_insecure_notification_urls`` (sandbox, tests).

Connections are not kept alive: the pool is keyed by address, and a TLS connection verified for
one recipient's name must never carry another recipient's notification to the same address (a
shared CDN). Notifications are rare enough that a handshake each costs nothing that matters.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
import httpx

from authz.addresses import (
    NonPublicAddress,
    Resolver,
    Unresolvable,
    checked_address,
    is_loopback,
    is_public,
    pin,
    system_resolver,
)
from authz.notifications.message import MEDIA_TYPE
from config.settings import Settings

# RFC 6761 §6.3: "localhost" and every name under it are loopback; a trailing dot is the same
# name (fully qualified).
_LOOPBACK_NAME = re.compile(r"(?:[^.]+\.)*localhost\.?", re.IGNORECASE)
# WHATWG URL §3.5 (host parsing): a host whose last label is a number, decimal or 0x-hex, is an
# IPv4 address in one of the shorthand forms a browser or a resolver accepts ("2130706433",
# "0x7f.1", "127.1", "0177.0.0.1"), which ``ipaddress`` does not read: refused outright, as a
# public service is never named that way.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*", re.IGNORECASE)
# Whitespace and control characters (C0, DEL, C1, and Unicode spaces): ``urlsplit`` drops some
# of them silently (WHATWG strips tab and newline), so the URL kept would not be the one checked.
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f]|\s")


class Refused(Exception):
    """The URL may not receive notifications; the message says why (no personal data)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    delivered: bool
    status: str  # the HTTP status ("204"), or what went wrong ("timeout", "connect error")


def check_url(url: str, *, allow_insecure: bool) -> None:
    """Raise ``Refused`` unless ``url`` may receive notifications.

    Used where a URL is accepted (registration's ``notification_uri``, a subscription's
    ``callbackUrl``) and again before each delivery, so both judge a literal address the same
    way (``authz.addresses.is_public``). A name is not resolved here: ``Sender.post`` resolves it
    at each attempt and connects only to the address it checked."""
    if _UNSAFE.search(url):
        raise Refused("malformed url")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (raises ValueError on a bad port)
    except ValueError:
        raise Refused("malformed url") from None
    if not host or parts.username or parts.password or parts.fragment:
        raise Refused("malformed url")
    literal = _literal(host)
    if literal is None and _NUMERIC_LABEL.fullmatch(host.rstrip(".").rsplit(".", 1)[-1]):
        raise Refused("numeric host that is not an IP address")
    loopback = _is_loopback(host)
    if parts.scheme == "http" and allow_insecure and loopback:
        return
    if parts.scheme != "https":
        raise Refused("not an https url")
    if loopback and not allow_insecure:
        raise Refused("loopback host")
    if literal is None:
        return  # a name: resolved and checked at each attempt (Sender.post)
    if not is_public(literal) and not (loopback and allow_insecure):
        raise Refused("non-public address")


def _literal(host: str) -> str | None:
    """The host as an IP address, if it is one (``urlsplit`` has removed IPv6 brackets)."""
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return host


def _is_loopback(host: str) -> bool:
    if _LOOPBACK_NAME.fullmatch(host):
        return True
    return _literal(host) is not None and is_loopback(host)


def _public_or_loopback(address: str) -> bool:
    return is_public(address) or is_loopback(address)


class Sender:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._settings = settings
        self._resolve = resolver
        connect, read = settings.notification_connect_timeout, settings.notification_read_timeout
        self._deadline = connect + 2 * read  # a receiver trickling its headers still ends
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(connect=connect, read=read, write=read, pool=self._deadline),
            follow_redirects=False,
            limits=httpx.Limits(
                max_connections=settings.notification_concurrency,
                max_keepalive_connections=0,  # see the module docstring
            ),
            trust_env=False,  # no proxies or netrc credentials from the environment
        )

    @property
    def deadline(self) -> float:
        """The longest one attempt can take, in seconds."""
        return self._deadline

    async def post(self, url: str, jws: str) -> Outcome:
        """POST ``jws`` to ``url``; raises ``Refused`` for a URL that may not receive it."""
        allow_insecure = self._settings.allow_insecure_notification_urls
        check_url(url, allow_insecure=allow_insecure)
        parts = urlsplit(url)
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
        allow = _public_or_loopback if allow_insecure else is_public
        headers = {
            "content-type": MEDIA_TYPE,
            "x-fapi-interaction-id": str(uuid.uuid4()),
            "fdx-api-actor-type": "BATCH",  # FDX: no customer present
        }
        try:
            with anyio.fail_after(self._deadline):
                address = await checked_address(
                    str(parts.hostname), port, resolver=self._resolve, allow=allow
                )
                pinned = pin(parts, address, port)
                request = self._client.build_request(
                    "POST",
                    pinned.url,
                    content=jws,
                    headers={**headers, **pinned.headers},
                    extensions=pinned.extensions,
                )
                response = await self._client.send(request, stream=True)
                await response.aclose()  # the body is never read
        except NonPublicAddress:
            raise Refused("resolves to a non-public address") from None
        except Unresolvable:
            return Outcome(False, "dns error")  # may resolve later: retried
        except TimeoutError:
            return Outcome(False, "timeout")
        except httpx.TimeoutException:
            return Outcome(False, "timeout")
        except httpx.ConnectError:
            return Outcome(False, "connect error")
        except httpx.HTTPError as exc:
            return Outcome(False, type(exc).__name__)
        return Outcome(200 <= response.status_code < 300, str(response.status_code))

    async def aclose(self) -> None:
        await self._client.aclose()

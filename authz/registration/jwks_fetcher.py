"""Client keys registered by ``jwks_uri`` (RFC 7591 §2), fetched safely and cached.

A client's ``jwks_uri`` is a URL a stranger chose, fetched by the gateway from inside the bank's
network, so every fetch is treated as server-side request forgery until proven otherwise
(OWASP SSRF cheat sheet):

- https only, no credentials in the URL, no redirects followed, no proxy from the environment;
- the host is resolved and **every** address must be public, and the connection goes to the
  address that was checked (``authz.addresses``, shared with the notification sender);
- connect and read time out after ~2 s, the whole fetch after 5 s, and the body is read as a
  stream and abandoned beyond 64 KB.

Keys are cached per client for five minutes. An assertion with an unknown ``kid`` asks for a
refetch (key rotation), at most once per ``min_refetch`` seconds per client, so a client cannot
make the gateway hammer a host. When a refetch fails, the keys last fetched keep working for up
to an hour. ``allow_private`` (the ``jwks_fetch_allow_private`` setting, tests only) lets private
and loopback addresses through, and plain http with them.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import orjson

from authz.addresses import (
    AddressError,
    Resolver,
    checked_address,
    is_public,
    pin,
    system_resolver,
)

Clock = Callable[[], float]
JWKS_TTL = 300.0
MIN_REFETCH = 30.0
MAX_STALE = 3600.0
MAX_BYTES = 64 * 1024
TIMEOUT = httpx.Timeout(connect=2.0, read=2.0, write=2.0, pool=2.0)
TOTAL_TIMEOUT = 5.0
_MEDIA_TYPES = ("application/jwk-set+json", "application/json")


class JwksFetchError(Exception):
    """The client's JWK Set could not be fetched or is not one; the message is safe to log."""


@dataclass(slots=True)
class _Entry:
    jwks: dict[str, Any] | None
    fetched_at: float
    attempted_at: float


class JwksFetcher:
    def __init__(
        self,
        *,
        clock: Clock,
        allow_private: bool = False,
        resolver: Resolver = system_resolver,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
        ttl: float = JWKS_TTL,
        min_refetch: float = MIN_REFETCH,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self._clock = clock
        self._allow_private = allow_private
        self._resolve = resolver
        self._transport = transport
        self._verify = verify
        self._ttl = ttl
        self._min_refetch = min_refetch
        self._max_bytes = max_bytes
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._locks: dict[tuple[str, str], anyio.Lock] = {}

    async def get(self, client_id: str, uri: str, *, refresh: bool = False) -> dict[str, Any]:
        """The client's JWK Set; ``refresh`` asks for a fresh copy (an unknown ``kid``)."""
        key = (client_id, uri)
        lock = self._locks.setdefault(key, anyio.Lock())
        async with lock:
            now = self._clock()
            entry = self._entries.get(key)
            if entry is not None and entry.jwks is not None:
                fresh = now - entry.fetched_at < self._ttl
                if fresh and not refresh:
                    return entry.jwks
            if entry is not None and now - entry.attempted_at < self._min_refetch:
                if entry.jwks is not None:
                    return entry.jwks
                raise JwksFetchError("jwks_uri failed recently; not retried yet")
            return await self._refetch(key, uri, entry, now)

    async def _refetch(
        self, key: tuple[str, str], uri: str, entry: _Entry | None, now: float
    ) -> dict[str, Any]:
        try:
            jwks = await self.fetch(uri)
        except JwksFetchError:
            if entry is None:
                self._entries[key] = _Entry(None, 0.0, now)
                raise
            entry.attempted_at = now
            if entry.jwks is not None and now - entry.fetched_at < MAX_STALE:
                return entry.jwks
            raise
        self._entries[key] = _Entry(jwks, now, now)
        return jwks

    async def fetch(self, uri: str) -> dict[str, Any]:
        """One guarded fetch of ``uri``, uncached."""
        parts = urlsplit(uri)
        host = parts.hostname
        schemes = ("https", "http") if self._allow_private else ("https",)
        if parts.scheme not in schemes or not host or parts.username or parts.password:
            raise JwksFetchError("jwks_uri must be an https URL without credentials")
        try:
            port = (
                parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
            )
        except ValueError:
            raise JwksFetchError("jwks_uri has an invalid port") from None
        allow = _anything if self._allow_private else is_public
        try:
            address = await checked_address(host, port, resolver=self._resolve, allow=allow)
        except AddressError as exc:
            raise JwksFetchError(f"jwks_uri {exc}") from None
        pinned = pin(parts, address, port)
        # identity: the 64 KB cap counts the bytes on the wire, with no decompression bomb.
        headers = {
            **pinned.headers,
            "Accept": ", ".join(_MEDIA_TYPES),
            "Accept-Encoding": "identity",
        }
        with anyio.move_on_after(TOTAL_TIMEOUT) as scope:
            body = await self._download(pinned.url, headers, pinned.extensions)
        if scope.cancelled_caught:
            raise JwksFetchError("jwks_uri took too long")
        return _jwk_set(body)

    async def _download(
        self, url: str, headers: dict[str, str], extensions: dict[str, Any]
    ) -> bytes:
        try:
            async with httpx.AsyncClient(
                transport=self._transport,
                timeout=TIMEOUT,
                follow_redirects=False,
                trust_env=False,
                verify=self._verify,
            ) as client:
                request = client.build_request("GET", url, headers=headers, extensions=extensions)
                response = await client.send(request, stream=True)
                try:
                    return await self._read(response)
                finally:
                    await response.aclose()
        except httpx.HTTPError as exc:
            raise JwksFetchError(f"jwks_uri fetch failed ({type(exc).__name__})") from None

    async def _read(self, response: httpx.Response) -> bytes:
        if response.status_code != 200:
            raise JwksFetchError(f"jwks_uri answered HTTP {response.status_code}")
        declared = response.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._max_bytes):
            raise JwksFetchError("jwks_uri document is too large")
        if response.headers.get("content-encoding", "identity").lower() != "identity":
            raise JwksFetchError("jwks_uri answered with a content encoding it was not asked for")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > self._max_bytes:
                raise JwksFetchError("jwks_uri document is too large")
        return bytes(body)


def _anything(address: str) -> bool:
    return True


def _jwk_set(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise JwksFetchError("jwks_uri document is not JSON") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
        raise JwksFetchError("jwks_uri document is not a JWK Set")
    return doc

"""How the HTTP adapter reaches one bank core: the ``[http]`` table of the adapter configuration.

::

    [http]
    base_url = "https://core.bank.internal/api"   # required; https outside loopback
    timeout = 2.0              # seconds per attempt, connect to last byte
    connect_timeout = 0.5      # seconds to open a connection
    retries = 2                # extra attempts for idempotent reads (GET) only
    backoff = 0.05             # first retry waits up to this many seconds (full jitter) …
    backoff_max = 1.0          # … doubling per retry up to this cap
    breaker_failures = 5       # consecutive failures that open the circuit
    breaker_reset = 10.0       # seconds open before one probe call (half-open)
    pool_size = 100            # connections kept open to the core (keep-alive)
    bearer_token_file = "/run/secrets/core-token"  # or bearer_token = "…" (prefer the file)
    client_cert = "/etc/fdx/core-client.pem"       # mTLS: our certificate (+ client_key)
    client_key = "/etc/fdx/core-client.key"
    ca_file = "/etc/fdx/core-ca.pem"               # trust anchor for the core's certificate
    mapping = "adapters.http.mapping:DIALECT"      # the core's dialect (docs/adapters.md)
    etag_cache_entries = 0     # mapped answers kept for If-None-Match revalidation; 0: off
    etag_cache_bytes = 33554432  # … at most this many bytes of the JSON they came from
    etag_cache_max_age = 60.0  # … and each at most this many seconds (consumer data in memory)
    max_response_bytes = 33554432  # a larger answer (JSON, image, PDF) is the core's fault
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_MAPPING = "adapters.http.mapping:DIALECT"
_LOCAL = ("127.0.0.1", "localhost", "::1")
_NUMBERS: dict[str, tuple[float, float]] = {
    "timeout": (0.01, 120),
    "connect_timeout": (0.01, 60),
    "backoff": (0, 60),
    "backoff_max": (0, 600),
    "breaker_reset": (0.01, 3600),
    "etag_cache_max_age": (0, 86400),
}
_COUNTS: dict[str, tuple[int, int]] = {
    "retries": (0, 10),
    "breaker_failures": (1, 1000),
    "pool_size": (1, 10000),
    "etag_cache_entries": (0, 1_000_000),
    "etag_cache_bytes": (0, 1 << 36),
    "max_response_bytes": (1024, 1 << 31),
}
_PATHS = ("bearer_token_file", "client_cert", "client_key", "ca_file")


@dataclass(frozen=True, slots=True)
class HttpCoreConfig:
    base_url: str
    timeout: float = 2.0
    connect_timeout: float = 0.5
    retries: int = 2
    backoff: float = 0.05
    backoff_max: float = 1.0
    breaker_failures: int = 5
    breaker_reset: float = 10.0
    pool_size: int = 100
    bearer_token: str | None = field(default=None, repr=False)
    client_cert: str | None = None
    client_key: str | None = None
    ca_file: str | None = None
    mapping: str = DEFAULT_MAPPING
    # Conditional requests (RFC 9110 §13.1.2), off by default: consumer data would otherwise
    # stay in the gateway's memory between calls, for up to etag_cache_max_age (etag_cache.py).
    etag_cache_entries: int = 0
    etag_cache_bytes: int = 32 << 20
    etag_cache_max_age: float = 60.0
    # One answer's body, after decompression: what the gateway holds in memory per call. 32 MiB
    # fits any statement, tax PDF or check image a core should send; more is a broken or hostile
    # upstream, refused as BankUnavailable rather than read until memory runs out.
    max_response_bytes: int = 32 << 20

    def __post_init__(self) -> None:
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname or url.query or url.fragment:
            raise ValueError(f"http: base_url must be an http(s) URL, got {self.base_url!r}")
        if url.scheme == "http" and url.hostname not in _LOCAL:
            # Customer data and the bearer token cross this link: TLS outside the host.
            raise ValueError(f"http: base_url must use https outside loopback ({url.hostname})")
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("http: mTLS needs both client_cert and client_key")
        if self.client_cert is not None and url.scheme != "https":
            raise ValueError("http: client_cert needs an https base_url")
        for key, (low, high) in {**_NUMBERS, **_COUNTS}.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not low <= value <= high:
                raise ValueError(f"http: {key} must be between {low} and {high}, got {value!r}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> HttpCoreConfig:
        known = {*_NUMBERS, *_COUNTS, *_PATHS, "base_url", "bearer_token", "mapping"}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"http: unknown option(s) {', '.join(sorted(unknown))}")
        if "base_url" not in options:
            raise ValueError("http: base_url is required")
        values: dict[str, Any] = {"base_url": str(options["base_url"]).rstrip("/")}
        for key in _NUMBERS:
            if key in options:
                values[key] = _number(key, options[key])
        for key in _COUNTS:
            if key in options:
                values[key] = _count(key, options[key])
        for key in ("client_cert", "client_key", "ca_file", "mapping"):
            if key in options:
                values[key] = str(options[key])
        token = options.get("bearer_token")
        if "bearer_token_file" in options:
            if token is not None:
                raise ValueError("http: give bearer_token or bearer_token_file, not both")
            token = Path(str(options["bearer_token_file"])).read_text(encoding="utf-8").strip()
        if token is not None:
            if not isinstance(token, str) or not token or any(c in token for c in "\r\n "):
                raise ValueError("http: the bearer token must be one line of visible text")
            values["bearer_token"] = token
        return cls(**values)

    @property
    def revalidates(self) -> bool:
        """Are answers kept for revalidation? Any of the three bounds at 0 turns it off."""
        bounds = (self.etag_cache_entries, self.etag_cache_bytes, self.etag_cache_max_age)
        return all(bound > 0 for bound in bounds)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for an https core: its CA (or the system's) and our client pair."""
        if not self.base_url.startswith("https://"):
            return None
        context = ssl.create_default_context(cafile=self.ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.client_cert is not None and self.client_key is not None:
            context.load_cert_chain(self.client_cert, self.client_key)
        return context


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"http: {key} must be a number, got {value!r}")
    return float(value)


def _count(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"http: {key} must be a whole number, got {value!r}")
    return value

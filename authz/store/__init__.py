"""Persistence seams and their implementations, chosen by URL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from authz.store.base import (
    AuditEvent,
    ClientRecord,
    Kind,
    Payload,
    Records,
    RecordsUnavailable,
    RefreshToken,
    SchemaError,
    StateStore,
    StateUnavailable,
)
from authz.store.live import Stamps
from authz.store.stamped import with_stamps


def open_records(
    url: str,
    *,
    clock: Callable[[], float] | None = None,
    pool_min_size: int = 1,
    pool_max_size: int = 10,
    timeout: float = 5.0,
    state: StateStore | None = None,
) -> Records:
    """The record store named by ``url``; nothing is opened yet. The pool arguments apply to
    PostgreSQL only (connections kept open, at most open, seconds to wait for one).

    ``state``: the deployment's state store. When it is shared (Redis) and the records are on
    PostgreSQL, every consent and client write moves a stamp in it and the gate trusts a cached
    consent while the stamps stand (``authz.store.stamped``): every process that writes records
    must then open them this way."""
    records = _backend(url, clock, pool_min_size, pool_max_size, timeout)
    # SQLite stamps itself (authz/store/sqlite/stamps.py): every process reaching the file sees
    # its commits, more cheaply than a Redis round trip. The in-process store has no cache.
    shared = url.startswith("postgresql://")
    stamps = stamps_of(state) if shared else None
    return records if stamps is None else with_stamps(records, stamps)


def stamps_of(state: StateStore | None) -> Stamps | None:
    """The gate's stamps in ``state``, when it is shared by every process (Redis)."""
    if state is None or type(state).__name__ != "RedisStateStore":
        return None
    from authz.store.redis import RedisStamps, RedisStateStore

    return RedisStamps(state) if isinstance(state, RedisStateStore) else None


def _backend(
    url: str,
    clock: Callable[[], float] | None,
    pool_min_size: int,
    pool_max_size: int,
    timeout: float,
) -> Records:
    if url.startswith("postgresql://"):
        from authz.store.postgres import postgres_records

        return postgres_records(
            url, min_size=pool_min_size, max_size=pool_max_size, timeout=timeout
        )
    if url.startswith("sqlite:///"):
        from authz.store.sqlite import sqlite_records

        return sqlite_records(url.removeprefix("sqlite:///"))
    if url == "memory://":
        from authz.store.memory import memory_records

        return memory_records(clock=clock)
    raise ValueError(f"database_url: no record store for {display_url(url)!r}")


def display_url(url: str) -> str:
    """``url`` fit for a message or a log line: a password in it is replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def open_state(url: str, *, clock: Callable[[], float], prefix: str | None = None) -> StateStore:
    """The state store named by ``url``. ``prefix`` namespaces a Redis store's keys (every
    instance of one gateway uses the same one); None keeps the store's default."""
    if url == "memory://":
        from authz.store.memory import MemoryStateStore

        return MemoryStateStore(clock=clock)
    if url.startswith(("redis://", "rediss://")):
        from authz.store.redis import DEFAULT_PREFIX, RedisStateStore

        return RedisStateStore(url, clock=clock, prefix=prefix or DEFAULT_PREFIX)
    raise ValueError(f"state_url: no state store for {url!r}")


__all__ = [
    "AuditEvent",
    "ClientRecord",
    "Kind",
    "Payload",
    "Records",
    "RecordsUnavailable",
    "RefreshToken",
    "SchemaError",
    "StateStore",
    "StateUnavailable",
    "display_url",
    "open_records",
    "open_state",
    "stamps_of",
]

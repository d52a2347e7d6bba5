"""The record store on PostgreSQL, shared by many gateway instances, one module per record
family over one shared pool (``connection.PostgresDb``).

The schema is ``POSTGRES_MIGRATIONS`` (the SQLite schema, spelled for PostgreSQL) and the
semantics are the SQLite store's, family by family; the contract suite runs over both. What many
processes on one database need, and how this store gives it:

- Consistency without a shared lock: an optimistic ``UPDATE … WHERE version = %s`` for consents,
  ``UPDATE … WHERE used_at IS NULL AND revoked_at IS NULL RETURNING`` for refresh-token
  rotation, ``FOR UPDATE SKIP LOCKED`` for notification claims.
- One hash chain for every instance (``links``); the data accesses' links are hashed by the
  database, so an audit batch costs one round trip and holds the lock for none (``audit``).
- The FDX gate's read (``Consents.live``) costs one round trip, shared by every request that asks
  in the same turn of the event loop (``consents``); the freshness rule is ``authz.store.live``.

A schema this code does not know raises ``SchemaError``.
"""

from __future__ import annotations

from authz.store.base import Records
from authz.store.postgres.audit import PostgresAudit
from authz.store.postgres.clients import PostgresClients
from authz.store.postgres.connection import PostgresDb
from authz.store.postgres.consents import PostgresConsents
from authz.store.postgres.outbox import PostgresOutbox
from authz.store.postgres.schema import PostgresSchema
from authz.store.postgres.secrets import PostgresSecrets
from authz.store.postgres.tokens import PostgresRefreshTokens


def postgres_records(
    url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 5.0
) -> Records:
    """The record store in the database at ``url``; the pool opens on first use. ``timeout``:
    seconds to wait for a connection before raising ``RecordsUnavailable``."""
    db = PostgresDb(url, min_size=min_size, max_size=max_size, timeout=timeout)
    return Records(
        schema=PostgresSchema(db),
        clients=PostgresClients(db),
        consents=PostgresConsents(db),
        refresh_tokens=PostgresRefreshTokens(db),
        audit=PostgresAudit(db),
        outbox=PostgresOutbox(db),
        secrets=PostgresSecrets(db),
        closer=db.aclose,
    )


__all__ = ["PostgresDb", "postgres_records"]

"""The embedded record store: one SQLite file, stdlib ``sqlite3``, called inline, one module per
record family over one shared connection (``connection.SqliteDb``).

Errors: a duplicate consent id, or an event or refresh token for a consent that does not exist,
raises ``ValueError`` (as the in-memory store does); a schema this code does not know raises
``SchemaError``.
"""

from __future__ import annotations

from authz.store.base import Records
from authz.store.sqlite.audit import SqliteAudit
from authz.store.sqlite.clients import SqliteClients
from authz.store.sqlite.connection import SqliteDb
from authz.store.sqlite.consents import SqliteConsents
from authz.store.sqlite.outbox import SqliteOutbox
from authz.store.sqlite.schema import SqliteSchema
from authz.store.sqlite.secrets import SqliteSecrets
from authz.store.sqlite.stamps import SqliteStamps
from authz.store.sqlite.tokens import SqliteRefreshTokens
from authz.store.stamped import with_stamps


def sqlite_records(path: str) -> Records:
    """The record store in the file at ``path``; nothing is opened until first used. The gate
    trusts a parsed consent while the file's own stamps stand (``stamps.SqliteStamps``)."""
    db = SqliteDb(path)
    records = Records(
        schema=SqliteSchema(db),
        clients=SqliteClients(db),
        consents=SqliteConsents(db),
        refresh_tokens=SqliteRefreshTokens(db),
        audit=SqliteAudit(db),
        outbox=SqliteOutbox(db),
        secrets=SqliteSecrets(db),
        closer=db.aclose,
    )
    return with_stamps(records, SqliteStamps(db))


__all__ = ["SqliteDb", "sqlite_records"]

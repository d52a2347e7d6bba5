"""Refresh tokens (their hashes) in SQLite."""

from __future__ import annotations

import sqlite3
from dataclasses import astuple

from authz.records import RefreshToken
from authz.store.sqlite.connection import SqliteDb, integrity

_HAS_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)
# Statements are literals: every value goes through a ? parameter.
_INSERT = (
    "INSERT INTO refresh_tokens (token_hash, consent_id, client_id, created_at, expires_at,"
    " used_at, revoked_at, jkt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_USE = (
    "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?"
    " AND used_at IS NULL AND revoked_at IS NULL"
    " RETURNING token_hash, consent_id, client_id, created_at, expires_at, NULL, NULL, jkt"
)
_SELECT = (
    "SELECT token_hash, consent_id, client_id, created_at, expires_at, used_at, revoked_at,"
    " jkt FROM refresh_tokens WHERE token_hash = ?"
)


class SqliteRefreshTokens:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def put(self, token: RefreshToken) -> None:
        with integrity("refresh token for an unknown consent or reused hash"), self._db.tx() as db:
            # The columns are RefreshToken's fields, in order (as the SELECT reads them back).
            db.execute(_INSERT, astuple(token))

    async def get(self, token_hash: str) -> RefreshToken | None:
        row = self._db.one(_SELECT, (token_hash,))
        return None if row is None else _token(*row)

    async def use(self, token_hash: str, now: float) -> tuple[RefreshToken | None, bool]:
        """One conditional UPDATE decides the winner (RFC 6749 §10.4 rotation): only a live token
        matches, so of two concurrent callers, even in two processes, exactly one gets a row."""
        with self._db.tx() as db:
            if _HAS_RETURNING:
                won = db.execute(_USE, (now, token_hash)).fetchall()
                if won:
                    return _token(*won[0]), True  # as it was: used_at and revoked_at NULL
            row = db.execute(_SELECT, (token_hash,)).fetchone()
            if row is None:
                return None, False
            token = _token(*row)
            if token.used_at is not None or token.revoked_at is not None:
                return token, False
            # Only reached without RETURNING: BEGIN IMMEDIATE holds the write lock since the SELECT.
            db.execute(
                "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", (now, token_hash)
            )
            return token, True

    async def revoke_all(self, consent_id: str, now: float) -> int:
        with self._db.tx() as db:
            cursor = db.execute(
                "UPDATE refresh_tokens SET revoked_at = ?"
                " WHERE consent_id = ? AND used_at IS NULL AND revoked_at IS NULL",
                (now, consent_id),
            )
            return cursor.rowcount


def _token(
    token_hash: str,
    consent_id: str,
    client_id: str,
    created_at: float,
    expires_at: float,
    used_at: float | None = None,
    revoked_at: float | None = None,
    jkt: str | None = None,
) -> RefreshToken:
    # float(): RETURNING hands back the value as bound, before the column's REAL affinity.
    return RefreshToken(
        token_hash,
        consent_id,
        client_id,
        float(created_at),
        float(expires_at),
        used_at,
        revoked_at,
        jkt,
    )

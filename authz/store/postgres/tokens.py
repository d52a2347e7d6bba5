"""Refresh tokens (their hashes) in PostgreSQL."""

from __future__ import annotations

from dataclasses import astuple

from authz.records import RefreshToken
from authz.store.postgres.connection import PostgresDb, integrity

_INSERT_REFRESH = (
    "INSERT INTO refresh_tokens (token_hash, consent_id, client_id, created_at, expires_at,"
    " used_at, revoked_at, jkt) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_USE_REFRESH = (
    "UPDATE refresh_tokens SET used_at = %s WHERE token_hash = %s"
    " AND used_at IS NULL AND revoked_at IS NULL"
    " RETURNING token_hash, consent_id, client_id, created_at, expires_at, NULL, NULL, jkt"
)
_SELECT_REFRESH = (
    "SELECT token_hash, consent_id, client_id, created_at, expires_at, used_at, revoked_at,"
    " jkt FROM refresh_tokens WHERE token_hash = %s"
)


class PostgresRefreshTokens:
    def __init__(self, db: PostgresDb) -> None:
        self._db = db

    async def put(self, token: RefreshToken) -> None:
        async with integrity("refresh token for an unknown consent or reused hash"):
            # The columns are RefreshToken's fields, in order (as the SELECT reads them back).
            await self._db.run(_INSERT_REFRESH, astuple(token))

    async def get(self, token_hash: str) -> RefreshToken | None:
        row = await self._db.one(_SELECT_REFRESH, (token_hash,))
        return None if row is None else RefreshToken(*row)

    async def use(self, token_hash: str, now: float) -> tuple[RefreshToken | None, bool]:
        """One conditional UPDATE decides the winner (RFC 6749 §10.4 rotation): a concurrent
        second UPDATE waits for the first's row lock, re-reads the row, and no longer matches."""
        async with self._db.connection() as conn:
            won = await (await conn.execute(_USE_REFRESH, (now, token_hash))).fetchone()
            if won is not None:
                return RefreshToken(*won), True  # as it was: used_at and revoked_at NULL
            row = await (await conn.execute(_SELECT_REFRESH, (token_hash,))).fetchone()
        return (None, False) if row is None else (RefreshToken(*row), False)

    async def revoke_all(self, consent_id: str, now: float) -> int:
        return await self._db.run(
            "UPDATE refresh_tokens SET revoked_at = %s"
            " WHERE consent_id = %s AND used_at IS NULL AND revoked_at IS NULL",
            (now, consent_id),
        )

"""Signing keys and the session secret in PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import errors

from authz.records import SealedSecret
from authz.store.postgres.connection import PostgresDb, fetch_one
from authz.store.postgres.links import LOCK_SECRETS
from authz.store.schema import APPLICATION_ID

_INSERT = (
    "INSERT INTO secrets (id, use, created, not_before, retire_after, kek, sealed)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s)"
)

_SELECT = (
    "SELECT id, use, created, not_before, retire_after, kek, sealed FROM secrets"
    " ORDER BY created, id"
)


class PostgresSecrets:
    def __init__(self, db: PostgresDb) -> None:
        self._db = db

    async def all(self) -> list[SealedSecret]:
        rows = await self._db.all(
            "SELECT id, use, created, not_before, retire_after, kek, sealed FROM secrets"
            " ORDER BY created, id",
            (),
        )
        return [_secret(r) for r in rows]

    async def add(self, secret: SealedSecret, *, first: bool = False) -> bool:
        async with self._db.tx() as conn:
            # Serialises the check and the insert between instances creating a first key at once.
            lock = (APPLICATION_ID, LOCK_SECRETS)
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", lock)
            taken = await fetch_one(
                conn,
                "SELECT 1 FROM secrets WHERE id = %s OR (%s AND use = %s)",
                (secret.id, first, secret.use),
            )
            if taken is None:
                await conn.execute(_INSERT, _row(secret))
        return taken is None

    async def rotate(self, key: SealedSecret, *, retire_after: float) -> None:
        try:
            async with self._db.tx() as conn:
                await conn.execute(
                    "UPDATE secrets SET retire_after = %s"
                    " WHERE use = 'sig' AND retire_after IS NULL",
                    (retire_after,),
                )
                await conn.execute(_INSERT, _row(key))
        except errors.UniqueViolation:
            raise ValueError("a secret with this id exists") from None

    async def reseal(self, secret: SealedSecret) -> None:
        await self._db.run(
            "UPDATE secrets SET kek = %s, sealed = %s WHERE id = %s",
            (secret.kek, secret.sealed, secret.id),
        )

    async def remove(self, ids: Sequence[str]) -> None:
        await self._db.run("DELETE FROM secrets WHERE id = ANY(%s)", (list(ids),))


def _row(s: SealedSecret) -> tuple[Any, ...]:
    return (s.id, s.use, s.created, s.not_before, s.retire_after, s.kek, s.sealed)


def _secret(r: Sequence[Any]) -> SealedSecret:
    return SealedSecret(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]))

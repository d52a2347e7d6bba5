"""Signing keys and the session secret in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from authz.records import SealedSecret
from authz.store.sqlite.connection import SqliteDb, integrity

_INSERT = (
    "INSERT INTO secrets (id, use, created, not_before, retire_after, kek, sealed)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)

_SELECT = (
    "SELECT id, use, created, not_before, retire_after, kek, sealed FROM secrets"
    " ORDER BY created, id"
)


class SqliteSecrets:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def all(self) -> list[SealedSecret]:
        rows = self._db.all(
            "SELECT id, use, created, not_before, retire_after, kek, sealed FROM secrets"
            " ORDER BY created, id",
            (),
        )
        return [_secret(r) for r in rows]

    async def add(self, secret: SealedSecret, *, first: bool = False) -> bool:
        with self._db.tx() as db:  # BEGIN IMMEDIATE: no other writer between check and insert
            taken = db.execute(
                "SELECT 1 FROM secrets WHERE id = ? OR (? AND use = ?)",
                (secret.id, first, secret.use),
            ).fetchone()
            if taken is None:
                db.execute(_INSERT, _row(secret))
        return taken is None

    async def rotate(self, key: SealedSecret, *, retire_after: float) -> None:
        with integrity("a secret with this id exists"), self._db.tx() as db:
            db.execute(
                "UPDATE secrets SET retire_after = ? WHERE use = 'sig' AND retire_after IS NULL",
                (retire_after,),
            )
            db.execute(_INSERT, _row(key))

    async def reseal(self, secret: SealedSecret) -> None:
        with self._db.tx() as db:
            db.execute(
                "UPDATE secrets SET kek = ?, sealed = ? WHERE id = ?",
                (secret.kek, secret.sealed, secret.id),
            )

    async def remove(self, ids: Sequence[str]) -> None:
        with self._db.tx() as db:
            db.executemany("DELETE FROM secrets WHERE id = ?", [(i,) for i in ids])


def _row(s: SealedSecret) -> tuple[Any, ...]:
    return (s.id, s.use, s.created, s.not_before, s.retire_after, s.kek, s.sealed)


def _secret(r: Sequence[Any]) -> SealedSecret:
    return SealedSecret(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]))

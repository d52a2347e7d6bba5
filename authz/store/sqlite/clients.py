"""Registered recipients in SQLite."""

from __future__ import annotations

import orjson

from authz.records import ClientRecord
from authz.store.sqlite.connection import SqliteDb, to_json


class SqliteClients:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db

    async def put(self, client: ClientRecord) -> None:
        with self._db.tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO clients (client_id, data) VALUES (?, ?)",
                (client.client_id, to_json(client.to_dict())),
            )

    async def get(self, client_id: str) -> ClientRecord | None:
        row = self._db.one("SELECT data FROM clients WHERE client_id = ?", (client_id,))
        return None if row is None else ClientRecord.from_dict(orjson.loads(row[0]))

    async def status(self, client_id: str) -> str | None:
        row = self._db.one(
            "SELECT coalesce(json_extract(data, '$.status'), 'approved') FROM clients"
            " WHERE client_id = ?",
            (client_id,),
        )
        return None if row is None else str(row[0])

    async def all(self) -> list[ClientRecord]:
        rows = self._db.all("SELECT data FROM clients ORDER BY client_id", ())
        return [ClientRecord.from_dict(orjson.loads(r[0])) for r in rows]

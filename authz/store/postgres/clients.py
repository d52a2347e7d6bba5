"""Registered recipients in PostgreSQL."""

from __future__ import annotations

from authz.records import ClientRecord
from authz.store.postgres.connection import PostgresDb, to_json


class PostgresClients:
    def __init__(self, db: PostgresDb) -> None:
        self._db = db

    async def put(self, client: ClientRecord) -> None:
        await self._db.run(
            "INSERT INTO clients (client_id, data) VALUES (%s, %s)"
            " ON CONFLICT (client_id) DO UPDATE SET data = excluded.data",
            (client.client_id, to_json(client.to_dict())),
        )

    async def get(self, client_id: str) -> ClientRecord | None:
        row = await self._db.one("SELECT data FROM clients WHERE client_id = %s", (client_id,))
        return None if row is None else ClientRecord.from_dict(row[0])

    async def status(self, client_id: str) -> str | None:
        row = await self._db.one(
            "SELECT coalesce(data ->> 'status', 'approved') FROM clients WHERE client_id = %s",
            (client_id,),
        )
        return None if row is None else str(row[0])

    async def all(self) -> list[ClientRecord]:
        rows = await self._db.all("SELECT data FROM clients ORDER BY client_id", ())
        return [ClientRecord.from_dict(r[0]) for r in rows]

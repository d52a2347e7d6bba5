"""The gate's stamps on SQLite (``authz.store.live.Stamps``), read from the file itself.

SQLite counts the commits other connections make to the file: ``PRAGMA data_version`` on this
process's connection moves whenever any other connection, in this process or another (the CLI
revoking, a second worker), committed since it last looked. Commits made through this connection
do not move it, so this process counts its own changes that the gate could see (a consent's
update, a client's put: ``authz.store.stamped`` calls ``write`` before and after each) and the
stamp is both numbers. One stamp stands for every consent and every client of the file: any
change anywhere makes every cached consent read again once, which is cheap where the rare writes
are, and leaves the common request one pragma instead of a select (docs/performance.md).

The data version counts per connection, from wherever SQLite starts it: a connection opened
anew (after ``aclose``) may hand back a number an entry was cached under, so the epoch is the
number of connections opened, and ``authz.store.live`` drops every entry when it moves.
"""

from __future__ import annotations

from collections.abc import Sequence

from authz.store.sqlite.connection import SqliteDb


class SqliteStamps:
    def __init__(self, db: SqliteDb) -> None:
        self._db = db
        self._local = 0  # changes to consents and clients made through this connection

    @property
    def epoch(self) -> int:
        return self._db.opened

    async def read(self, names: Sequence[str]) -> list[str]:
        with self._db.lock:
            # db() first: opening a connection moves the epoch before its first version is read.
            connection = self._db.db()
            (version,) = connection.execute("PRAGMA data_version").fetchone()
        stamp = f"{version}.{self._local}"
        return [stamp] * len(names)

    async def write(self, names: Sequence[str], value: str) -> None:
        self._local += 1  # before a commit and after it: a read between the two is not trusted


__all__ = ["SqliteStamps"]

"""The one SQLite connection the families of a store share, and its write transactions.

Why inline and not on a thread: a warm primary-key select costs ~3.5 µs, a thread hand-off ~55 µs
(docs/performance.md), so blocking the loop for the statement is cheaper than leaving it. WAL lets
readers run beside the one writer, so several processes of one node can share the file; every write
is its own committed transaction, so an application crash loses nothing (``synchronous=NORMAL`` in
WAL mode may lose the last commits on power loss only, never corrupt the file).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from authz.store.base import SchemaError

log = logging.getLogger("authz.store.sqlite")

_BUSY_TIMEOUT_MS = 5000
_CHECKPOINT_EVERY = 500  # commits between WAL checkpoints (SQLite's own default: 1000 pages)


class SqliteDb:
    """A lazily opened connection to one file, used from the event loop's thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._commits = 0
        self._checkpointer: threading.Thread | None = None
        self._catch_up = False  # the background checkpoint left frames only this one can copy
        # Connections opened so far: PRAGMA data_version counts afresh on each (stamps.py).
        self.opened = 0
        # The loop thread is the only caller in practice; the lock keeps a transaction whole if a
        # worker thread (e.g. a sync bridge) ever calls in too. Uncontended it costs ~50 ns.
        self.lock = threading.Lock()

    def make_parent(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _keep_private(self) -> None:
        """The database holds personal data and the audit trail: it is created 0600, and a file
        left readable by others (an older gateway made it 0644) loses that access. SQLite gives
        the -wal and -shm files the database file's mode, so they follow it."""
        if self.path == ":memory:":
            return
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        for name in (self.path, self.path + "-wal", self.path + "-shm"):
            try:
                mode = os.stat(name).st_mode & 0o777
                if mode & 0o077:
                    os.chmod(name, mode & 0o700)
            except FileNotFoundError:
                continue

    def exists(self) -> bool:
        """Whether there is a database to check, without creating an empty one by looking."""
        return self._conn is not None or self.path == ":memory:" or Path(self.path).is_file()

    def db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._keep_private()
            # isolation_level=None: no implicit transactions; tx() says where they begin and end.
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            try:
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                # Checkpoints run on a thread of their own (_after_commit), not inside a request's
                # commit: an automatic one stalls the event loop for tens of milliseconds.
                conn.execute("PRAGMA wal_autocheckpoint = 0")
                conn.execute("PRAGMA foreign_keys = ON")
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self.opened += 1
        return self._conn

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, committed before returning. IMMEDIATE takes the write lock up
        front, so a read-then-write inside cannot be overtaken by another process."""
        with self.lock:
            db = self.db()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self._after_commit()

    def one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with self.lock:
            return self.db().execute(sql, params).fetchone()

    def all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with self.lock:
            return self.db().execute(sql, params).fetchall()

    async def aclose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        with self.lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def schema_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError:
            raise  # locked, read-only, I/O: not a question of whose schema it is
        except sqlite3.DatabaseError as exc:  # "file is not a database", and the like
            raise SchemaError(f"{self.path} is not a record store database: {exc}") from exc

    def _after_commit(self) -> None:
        """Every so many commits, copy the WAL back into the database on a background thread.
        PASSIVE never blocks writers or readers; sqlite3 releases the GIL while it works.

        Under steady writes that pass never catches up with the frames this connection appends
        while it runs, so SQLite never restarted the WAL, which grew without end: ~0.9 GB after
        ~100,000 FDX requests under wrk, its mapped index growing the resident size with it
        (bench/memory.py). So after each background pass the next commit copies the
        remainder here, between two transactions, where nothing can be appended meanwhile: the
        checkpoint completes and the following commit starts the WAL afresh (~26 MB at most
        under the same load). The remainder is what was written during one background pass, a
        fraction of a full checkpoint; blocking checkpoints (RESTART, TRUNCATE) from the thread
        instead held the write lock for up to a second under load."""
        self._commits += 1
        if self._catch_up:
            self._catch_up = False
            try:
                self.db().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error:
                log.warning("sqlite.checkpoint_failed")  # the WAL keeps the data; retried later
            return
        busy = self._checkpointer is not None and self._checkpointer.is_alive()
        if self._commits < _CHECKPOINT_EVERY or busy or self.path == ":memory:":
            return
        self._commits = 0
        self._checkpointer = threading.Thread(
            target=self._checkpoint, name="sqlite-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _checkpoint(self) -> None:
        _checkpoint(self.path)
        # Even a pass that reports every frame copied only knew the frames present when it
        # began; this connection has kept appending since.
        self._catch_up = True


@contextmanager
def integrity(message: str) -> Iterator[None]:
    """A constraint the caller broke (a duplicate id, an unknown consent) as ValueError, as the
    other stores raise it."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ValueError(message) from exc


def to_json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _checkpoint(path: str) -> None:
    """A PASSIVE checkpoint on a connection of its own."""
    try:
        conn = sqlite3.connect(path, timeout=5)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        log.warning("sqlite.checkpoint_failed")  # the WAL keeps the data; the next one retries

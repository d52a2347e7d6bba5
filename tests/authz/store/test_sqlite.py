"""What only the SQLite record store has: a file, a schema version in it, other processes on it."""

# ruff: noqa: ASYNC240  (tests stat their own tmp files; the loop has nothing else to do)

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from authz.store import open_records
from authz.store.base import AuditEvent, SchemaError
from authz.store.schema import APPLICATION_ID, CURRENT_VERSION
from authz.store.sqlite import SqliteRecordStore
from tests.contracts.test_record_store import audit, client, consent, event, token

pytestmark = pytest.mark.anyio

T = TypeVar("T")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "records.sqlite"


async def test_migrate_creates_the_parent_directory(db_path: Path) -> None:
    """A fresh deployment needs no mkdir before the first start."""
    store = SqliteRecordStore(str(db_path))
    await store.migrate()
    await store.aclose()
    assert db_path.is_file()


@pytest.fixture
def open_umask() -> Any:
    """The usual umask (022), under which files are world-readable unless made otherwise."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def _modes(db_path: Path) -> dict[str, str]:
    files = [db_path.parent, db_path, *(Path(f"{db_path}{s}") for s in ("-wal", "-shm"))]
    return {p.name: stat.filemode(p.stat().st_mode) for p in files}


@pytest.mark.usefixtures("open_umask")
async def test_the_database_and_its_wal_are_private_to_the_gateway(db_path: Path) -> None:
    """Personal data and the audit trail: the directory, the database and its -wal and -shm
    files give nobody but the gateway's user any access."""
    store = SqliteRecordStore(str(db_path))
    await store.migrate()
    await store.put_client(client())

    modes = _modes(db_path)
    await store.aclose()

    assert {
        "var": "drwx------",
        "records.sqlite": "-rw-------",
        "records.sqlite-wal": "-rw-------",
        "records.sqlite-shm": "-rw-------",
    } == modes


@pytest.mark.usefixtures("open_umask")
async def test_a_world_readable_database_is_made_private(db_path: Path) -> None:
    """A file an older gateway left 0644 is 0600 once the store opens it."""
    store = SqliteRecordStore(str(db_path))
    await store.migrate()
    await store.aclose()
    db_path.chmod(0o644)

    again = SqliteRecordStore(str(db_path))
    await again.check_schema()
    await again.put_client(client())
    modes = _modes(db_path)
    await again.aclose()

    assert "-rw-------" == modes["records.sqlite"]
    assert "-rw-------" == modes["records.sqlite-wal"]


async def test_check_schema_on_a_missing_file_fails_without_creating_it(db_path: Path) -> None:
    """Looking does not leave an empty database behind."""
    store = SqliteRecordStore(str(db_path))
    with pytest.raises(SchemaError, match="no database"):
        await store.check_schema()
    await store.aclose()
    assert not db_path.exists()


async def test_check_schema_fails_on_a_fresh_empty_file(tmp_path: Path) -> None:
    """An empty file is not a migrated database."""
    path = tmp_path / "empty.sqlite"
    path.touch()
    store = SqliteRecordStore(str(path))
    with pytest.raises(SchemaError, match="version 0"):
        await store.check_schema()
    await store.aclose()


async def test_a_newer_schema_is_refused(db_path: Path) -> None:
    """A database written by a later release stops both check_schema and migrate."""
    store = SqliteRecordStore(str(db_path))
    await store.migrate()
    await store.aclose()
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    db.close()
    store = SqliteRecordStore(str(db_path))
    with pytest.raises(SchemaError, match="newer"):
        await store.check_schema()
    with pytest.raises(SchemaError, match="newer"):
        await store.migrate()
    await store.aclose()


async def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    """Tables we did not create mean the file is someone else's: never migrate over it."""
    path = tmp_path / "theirs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    db.close()
    store = SqliteRecordStore(str(path))
    with pytest.raises(SchemaError, match="not ours"):
        await store.migrate()
    await store.aclose()


async def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    """Pointing the gateway at the wrong file gives a SchemaError, not a crash."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database, just some text " * 100)
    store = SqliteRecordStore(str(path))
    with pytest.raises(SchemaError, match="not a record store"):
        await store.migrate()
    await store.aclose()


async def test_migrate_marks_the_file_as_ours(db_path: Path) -> None:
    """The header carries our application id and the current version."""
    store = SqliteRecordStore(str(db_path))
    await store.migrate()
    await store.aclose()
    with sqlite3.connect(db_path) as db:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    assert (app_id, version, mode) == (APPLICATION_ID, CURRENT_VERSION, "wal")


async def test_data_survives_close_and_reopen(db_path: Path) -> None:
    """Every write is committed: a new store on the file sees it all."""
    store = SqliteRecordStore(str(db_path))
    await store.migrate()
    await store.put_client(client())
    await store.create_consent(consent(), event())
    await store.put_refresh_token(token())
    await store.use_refresh_token("h1", 5.0)
    await store.append_audit([audit("a1")])
    await store.aclose()

    again = SqliteRecordStore(str(db_path))
    await again.check_schema()
    assert await again.get_client("client-1") == client()
    assert await again.get_consent("consent-1") == consent()
    assert await again.consent_events("consent-1") == [event()]
    assert (await again.use_refresh_token("h1", 6.0))[1] is False
    assert await again.list_audit(consent_id="consent-1") == [audit("a1")]
    await again.aclose()


async def test_two_stores_on_one_file_see_each_others_writes(db_path: Path) -> None:
    """Two processes of one node share the file; rotation stays single-use across them."""
    a = SqliteRecordStore(str(db_path))
    b = SqliteRecordStore(str(db_path))
    await a.migrate()
    await b.check_schema()
    await a.create_consent(consent(), event())
    await a.put_refresh_token(token())
    assert await b.get_consent("consent-1") == consent()
    assert (await b.use_refresh_token("h1", 5.0))[1] is True
    assert (await a.use_refresh_token("h1", 6.0))[1] is False
    revoked = consent().with_status(consent().status.REVOKED, 7.0)
    assert await b.update_consent(revoked, event(name="revoked"), expected_version=1)
    assert not await a.update_consent(revoked, event(name="revoked"), expected_version=1)
    assert await a.get_consent("consent-1") == revoked
    await a.aclose()
    await b.aclose()


async def _pair(db_path: Path) -> tuple[SqliteRecordStore, SqliteRecordStore]:
    """Two stores on one file, as two gateway processes; ``a`` has the consent and the
    recipient cached."""
    a, b = SqliteRecordStore(str(db_path)), SqliteRecordStore(str(db_path))
    await a.migrate()
    await a.put_client(client())
    await a.create_consent(consent(), event())
    await anyio.lowlevel.checkpoint()
    assert await a.get_consent("consent-1") == consent()
    assert await a.client_status("client-1") == "approved"
    await anyio.lowlevel.checkpoint()
    return a, b


def _count_version_reads(store: SqliteRecordStore) -> list[str]:
    reads: list[str] = []
    store._db().set_trace_callback(lambda sql: reads.append(sql) if "data_version" in sql else None)
    return reads


async def test_checks_in_one_turn_of_the_loop_share_one_version_read(db_path: Path):
    """The consent and recipient checks of the requests in one turn of the event loop cost one
    PRAGMA data_version; the next turn reads it again."""
    a, b = await _pair(db_path)
    reads = _count_version_reads(a)

    await a.get_consent("consent-1")
    await a.client_status("client-1")
    await a.get_consent("consent-1")
    await anyio.lowlevel.checkpoint()
    await a.get_consent("consent-1")

    assert 2 == len(reads)
    await a.aclose()
    await b.aclose()


async def test_a_suspension_by_another_process_is_seen_in_the_next_turn(db_path: Path):
    """A commit through another connection (``fdxgw recipients suspend`` in another process)
    reaches the first check of the next turn of the loop, which is where a request received
    after it is checked."""
    a, b = await _pair(db_path)
    await a.client_status("client-1")
    with sqlite3.connect(db_path) as other:
        other.execute("UPDATE clients SET data = json_set(data, '$.status', 'suspended')")

    await anyio.lowlevel.checkpoint()
    next_turn = await a.client_status("client-1")

    assert "suspended" == next_turn
    await a.aclose()
    await b.aclose()


async def test_a_revocation_through_another_store_of_this_process_is_seen_at_once(
    db_path: Path,
):
    """Two stores of one process on one file: a commit through one is seen by the other's next
    call, even in the same turn of the loop."""
    a, b = await _pair(db_path)
    await a.get_consent("consent-1")
    revoked = consent().with_status(consent().status.REVOKED, 7.0)
    await b.update_consent(revoked, event(name="revoked"), expected_version=1)

    assert revoked == await a.get_consent("consent-1")
    await a.aclose()
    await b.aclose()


def _without_a_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends with no event loop, as a worker thread might."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    raise AssertionError("suspended")


async def test_off_the_loop_every_check_reads_the_version(db_path: Path):
    """Where no loop turns, nothing says when a value went stale: it is never kept."""
    a, b = await _pair(db_path)
    reads = _count_version_reads(a)

    await anyio.to_thread.run_sync(lambda: _without_a_loop(a.get_consent("consent-1")))
    await anyio.to_thread.run_sync(lambda: _without_a_loop(a.client_status("client-1")))

    assert 2 == len(reads)
    await a.aclose()
    await b.aclose()


async def test_open_records_picks_sqlite_for_a_sqlite_url(db_path: Path) -> None:
    """sqlite:///<path> opens a SqliteRecordStore on that path."""
    store = open_records(f"sqlite:///{db_path}")
    assert isinstance(store, SqliteRecordStore)
    await store.migrate()
    await store.aclose()
    assert db_path.is_file()


async def test_the_wal_is_checkpointed_off_the_request_path(tmp_path):
    """Automatic checkpoints are off on the serving connection; a background one keeps the WAL
    from growing without bound, and every row is still readable afterwards."""
    from authz.store import sqlite as module

    store = module.SqliteRecordStore(str(tmp_path / "gw.db"))
    await store.migrate()
    assert 0 == store._db().execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    events = [
        AuditEvent(f"e{i}", float(i), "c", "cl", "cu", "GET /accounts", (), (), 1, 200, "i")
        for i in range(module._CHECKPOINT_EVERY + 5)
    ]
    for e in events:
        await store.append_audit([e])
    assert store._checkpointer is not None, "a checkpoint was started"
    store._checkpointer.join(timeout=10)

    assert len(await store.list_audit(consent_id="c")) == len(events)
    await store.aclose()


async def test_the_wal_restarts_while_writes_go_on(tmp_path):
    """Under steady writes the background checkpoint never catches up by itself; the catch-up
    on the serving connection lets SQLite start the WAL afresh, so it cannot grow without end,
    and every row is still there."""
    from authz.store import sqlite as module

    store = module.SqliteRecordStore(str(tmp_path / "gw.db"))
    await store.migrate()
    wal = tmp_path / "gw.db-wal"
    events = [
        AuditEvent(f"e{i}", float(i), "c", "cl", "cu", "GET /accounts", (), (), 1, 200, "i")
        for i in range(4 * module._CHECKPOINT_EVERY)
    ]

    def header() -> bytes:  # checkpoint sequence and salts: they change when the WAL restarts
        with wal.open("rb") as f:
            return bytes(f.read(24))[12:]

    await store.append_audit(events[:1])
    first = header()
    for e in events[1:-2]:
        await store.append_audit([e])  # the checkpoints run beside these writes
    assert store._checkpointer is not None, "a checkpoint was started"
    store._checkpointer.join(timeout=10)
    for e in events[-2:]:
        await store.append_audit([e])

    assert header() != first, "the WAL was started afresh"
    assert len(await store.list_audit(consent_id="c")) == len(events)
    await store.aclose()

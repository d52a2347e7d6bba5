"""What only the SQLite record store has: a file, a schema version in it, other processes on it."""

# ruff: noqa: ASYNC240  (tests stat their own tmp files; the loop has nothing else to do)

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from typing import Any, TypeVar

import pytest

from authz.store import open_records
from authz.store.base import AuditEvent, Records, SchemaError
from authz.store.schema import APPLICATION_ID, CURRENT_VERSION
from authz.store.sqlite import connection, sqlite_records
from authz.store.sqlite.audit import SqliteAudit
from authz.store.sqlite.connection import SqliteDb
from authz.store.sqlite.schema import SqliteSchema
from tests.contracts.test_record_store import audit, client, consent, event, token

pytestmark = pytest.mark.anyio

T = TypeVar("T")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "records.sqlite"


async def test_migrate_creates_the_parent_directory(db_path: Path) -> None:
    """A fresh deployment needs no mkdir before the first start."""
    store = sqlite_records(str(db_path))
    await store.schema.migrate()
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
    store = sqlite_records(str(db_path))
    await store.schema.migrate()
    await store.clients.put(client())

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
    store = sqlite_records(str(db_path))
    await store.schema.migrate()
    await store.aclose()
    db_path.chmod(0o644)

    again = sqlite_records(str(db_path))
    await again.schema.check()
    await again.clients.put(client())
    modes = _modes(db_path)
    await again.aclose()

    assert "-rw-------" == modes["records.sqlite"]
    assert "-rw-------" == modes["records.sqlite-wal"]


async def test_check_schema_on_a_missing_file_fails_without_creating_it(db_path: Path) -> None:
    """Looking does not leave an empty database behind."""
    store = sqlite_records(str(db_path))
    with pytest.raises(SchemaError, match="no database"):
        await store.schema.check()
    await store.aclose()
    assert not db_path.exists()


async def test_check_schema_fails_on_a_fresh_empty_file(tmp_path: Path) -> None:
    """An empty file is not a migrated database."""
    path = tmp_path / "empty.sqlite"
    path.touch()
    store = sqlite_records(str(path))
    with pytest.raises(SchemaError, match="version 0"):
        await store.schema.check()
    await store.aclose()


async def test_a_newer_schema_is_refused(db_path: Path) -> None:
    """A database written by a later release stops both check_schema and migrate."""
    store = sqlite_records(str(db_path))
    await store.schema.migrate()
    await store.aclose()
    with sqlite3.connect(db_path) as db:
        db.execute(f"PRAGMA user_version = {CURRENT_VERSION + 1}")
    db.close()
    store = sqlite_records(str(db_path))
    with pytest.raises(SchemaError, match="newer"):
        await store.schema.check()
    with pytest.raises(SchemaError, match="newer"):
        await store.schema.migrate()
    await store.aclose()


async def test_another_applications_database_is_refused(tmp_path: Path) -> None:
    """Tables we did not create mean the file is someone else's: never migrate over it."""
    path = tmp_path / "theirs.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE invoices (id INTEGER)")
    db.close()
    store = sqlite_records(str(path))
    with pytest.raises(SchemaError, match="not ours"):
        await store.schema.migrate()
    await store.aclose()


async def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    """Pointing the gateway at the wrong file gives a SchemaError, not a crash."""
    path = tmp_path / "notes.txt"
    path.write_bytes(b"this is not a database, just some text " * 100)
    store = sqlite_records(str(path))
    with pytest.raises(SchemaError, match="not a record store"):
        await store.schema.migrate()
    await store.aclose()


async def test_migrate_marks_the_file_as_ours(db_path: Path) -> None:
    """The header carries our application id and the current version."""
    store = sqlite_records(str(db_path))
    await store.schema.migrate()
    await store.aclose()
    with sqlite3.connect(db_path) as db:
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    db.close()
    assert (app_id, version, mode) == (APPLICATION_ID, CURRENT_VERSION, "wal")


async def test_data_survives_close_and_reopen(db_path: Path) -> None:
    """Every write is committed: a new store on the file sees it all."""
    store = sqlite_records(str(db_path))
    await store.schema.migrate()
    await store.clients.put(client())
    await store.consents.create(consent(), event())
    await store.refresh_tokens.put(token())
    await store.refresh_tokens.use("h1", 5.0)
    await store.audit.append([audit("a1")])
    await store.aclose()

    again = sqlite_records(str(db_path))
    await again.schema.check()
    assert await again.clients.get("client-1") == client()
    assert await again.consents.get("consent-1") == consent()
    assert await again.consents.events("consent-1") == [event()]
    assert (await again.refresh_tokens.use("h1", 6.0))[1] is False
    assert await again.audit.of_consent("consent-1") == [audit("a1")]
    await again.aclose()


async def test_two_stores_on_one_file_see_each_others_writes(db_path: Path) -> None:
    """Two processes of one node share the file; rotation stays single-use across them."""
    a = sqlite_records(str(db_path))
    b = sqlite_records(str(db_path))
    await a.schema.migrate()
    await b.schema.check()
    await a.consents.create(consent(), event())
    await a.refresh_tokens.put(token())
    assert await b.consents.get("consent-1") == consent()
    assert (await b.refresh_tokens.use("h1", 5.0))[1] is True
    assert (await a.refresh_tokens.use("h1", 6.0))[1] is False
    revoked = consent().with_status(consent().status.REVOKED, 7.0)
    assert await b.consents.update(revoked, event(name="revoked"), expected_version=1)
    assert not await a.consents.update(revoked, event(name="revoked"), expected_version=1)
    assert await a.consents.get("consent-1") == revoked
    await a.aclose()
    await b.aclose()


async def test_open_records_picks_sqlite_for_a_sqlite_url(db_path: Path) -> None:
    """sqlite:///<path> opens a Records on that path."""
    store = open_records(f"sqlite:///{db_path}")
    assert isinstance(store, Records)
    await store.schema.migrate()
    await store.aclose()
    assert db_path.is_file()


async def test_the_wal_is_checkpointed_off_the_request_path(tmp_path):
    """Automatic checkpoints are off on the serving connection; a background one keeps the WAL
    from growing without bound, and every row is still readable afterwards."""
    db = SqliteDb(str(tmp_path / "gw.db"))
    store = SqliteAudit(db)
    await SqliteSchema(db).migrate()
    assert 0 == db.db().execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    events = [
        AuditEvent(f"e{i}", float(i), "c", "cl", "cu", "GET /accounts", (), (), 1, 200, "i")
        for i in range(connection._CHECKPOINT_EVERY + 5)
    ]
    for e in events:
        await store.append([e])
    assert db._checkpointer is not None, "a checkpoint was started"
    db._checkpointer.join(timeout=10)

    assert len(await store.of_consent("c")) == len(events)
    await db.aclose()


async def test_the_wal_restarts_while_writes_go_on(tmp_path):
    """Under steady writes the background checkpoint never catches up by itself; the catch-up
    on the serving connection lets SQLite start the WAL afresh, so it cannot grow without end,
    and every row is still there."""
    db = SqliteDb(str(tmp_path / "gw.db"))
    store = SqliteAudit(db)
    await SqliteSchema(db).migrate()
    wal = tmp_path / "gw.db-wal"
    events = [
        AuditEvent(f"e{i}", float(i), "c", "cl", "cu", "GET /accounts", (), (), 1, 200, "i")
        for i in range(4 * connection._CHECKPOINT_EVERY)
    ]

    def header() -> bytes:  # checkpoint sequence and salts: they change when the WAL restarts
        with wal.open("rb") as f:
            return bytes(f.read(24))[12:]

    await store.append(events[:1])
    first = header()
    for e in events[1:-2]:
        await store.append([e])  # the checkpoints run beside these writes
    assert db._checkpointer is not None, "a checkpoint was started"
    db._checkpointer.join(timeout=10)
    for e in events[-2:]:
        await store.append([e])

    assert header() != first, "the WAL was started afresh"
    assert len(await store.of_consent("c")) == len(events)
    await db.aclose()


async def test_a_consent_changed_while_this_store_was_closed_is_read_afresh(
    tmp_path: Path,
) -> None:
    """The gate's cache outlives a closed connection, and a connection opened anew counts its
    data version from the start again: a revocation made meanwhile by another connection must
    not be vouched for by a stamp that happens to come back (the stamps' epoch moves)."""
    from authz.records import ConsentStatus
    from tests.contracts.test_record_store import T0

    path = str(tmp_path / "gw.db")
    mine, other = sqlite_records(path), sqlite_records(path)
    await mine.schema.migrate()
    await mine.clients.put(client())
    await mine.consents.create(consent(), event())
    await mine.consents.live("consent-1")
    await mine.consents.live("consent-1")  # served from the cache, under its stamps
    await mine.aclose()
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await other.consents.update(revoked, event(name="revoked"), expected_version=1)
    await other.aclose()

    live = await mine.consents.live("consent-1")
    await mine.aclose()

    assert live is not None
    assert ConsentStatus.REVOKED is live.consent.status

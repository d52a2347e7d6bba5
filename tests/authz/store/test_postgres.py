"""What only the PostgreSQL record store has: a schema in two dialects, many instances on one
database, a server that can be away.

The Records contract itself runs over PostgreSQL in tests/contracts/. These tests use the
real server on 127.0.0.1:5432, each with a database of its own, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import anyio
import anyio.lowlevel
import httpx
import psycopg
import pytest

from authz.consent.model import ConsentStatus
from authz.store import display_url, open_records, schema
from authz.store.base import Consents, Records, RecordsUnavailable, SchemaError
from authz.store.live import Stored
from authz.store.postgres import postgres_records
from authz.store.postgres.connection import PostgresDb
from authz.store.postgres.consents import PostgresConsents
from authz.store.sqlite import sqlite_records
from authz.trail.verify import verify_chain
from tests.contracts.conftest import create_database, drop_database
from tests.contracts.test_record_store import T0, audit, client, consent, event

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]
Opener = Callable[..., Records]


@pytest.fixture
def database() -> Iterator[str]:
    url = create_database()
    yield url
    drop_database(url)


@pytest.fixture
async def open_store(database: str) -> AsyncIterator[Opener]:
    """Opens store objects on the test's database, each with its own pool: one per instance."""
    opened: list[Records] = []

    def open_one(url: str = database, **kwargs: object) -> Records:
        store = postgres_records(url, **{"max_size": 4, **kwargs})  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.aclose()


def sql(url: str, statement: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params or None)
        return cursor.fetchall() if cursor.description else []


# ---------------------------------------------------------------------------- schema


def test_every_migration_exists_in_every_dialect() -> None:
    """A migration added for SQLite alone (or PostgreSQL alone) fails here, naming it."""
    assert schema.dialect_gap() is None
    assert {len(m) for m in schema.DIALECTS.values()} == {schema.CURRENT_VERSION}


def test_a_missing_dialect_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """The gap check says which dialect lacks which migration."""
    monkeypatch.setitem(schema.DIALECTS, "postgresql", schema.POSTGRES_MIGRATIONS[:-1])

    assert f"no postgresql dialect of migration {schema.CURRENT_VERSION}" in (
        schema.dialect_gap() or ""
    )


async def test_both_dialects_build_the_same_tables_columns_and_indexes(
    database: str, tmp_path: Path
) -> None:
    """One logical schema: PostgreSQL adds only the rowid SQLite has implicitly."""
    lite = sqlite_records(str(tmp_path / "gw.db"))
    await lite.schema.migrate()
    await lite.aclose()
    pg = postgres_records(database)
    await pg.schema.migrate()
    await pg.aclose()
    with sqlite3.connect(tmp_path / "gw.db") as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        lite_columns = {
            (t, r[1]) for t in tables if t != "sqlite_sequence" for r in db.execute(
                f"PRAGMA table_info({t})"
            )
        }  # fmt: skip
        lite_indexes = {
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
                " AND name NOT LIKE 'sqlite_autoindex%'"
            )
        }
    db.close()
    pg_columns = set(
        sql(
            database,
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name <> 'schema_version'"
            " AND column_name <> 'rowid'",
        )
    )
    pg_indexes = {
        r[0]
        for r in sql(
            database,
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
            " AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        )
    }

    assert pg_columns == lite_columns
    assert pg_indexes == lite_indexes


async def test_migrate_records_each_version_applied(open_store: Opener, database: str) -> None:
    """schema_version holds one row per migration, marked with our application id."""
    await open_store().schema.migrate()

    rows = sql(database, "SELECT version, application FROM schema_version ORDER BY version")

    assert rows == [(n, schema.APPLICATION_ID) for n in range(1, schema.CURRENT_VERSION + 1)]


async def test_an_empty_database_is_not_a_migrated_one(open_store: Opener) -> None:
    """check_schema on a database nobody migrated says version 0."""
    with pytest.raises(SchemaError, match="version 0"):
        await open_store().schema.check()


async def test_two_instances_migrating_at_once_apply_each_migration_once(
    open_store: Opener, database: str
) -> None:
    """The advisory lock makes the second wait and then find nothing left to do."""
    stores = [open_store() for _ in range(3)]

    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(store.schema.migrate)

    for store in stores:
        await store.schema.check()
    assert len(sql(database, "SELECT version FROM schema_version")) == schema.CURRENT_VERSION


async def test_a_newer_schema_is_refused(open_store: Opener, database: str) -> None:
    """A database migrated by a later release stops both check_schema and migrate."""
    await open_store().schema.migrate()
    sql(
        database,
        "INSERT INTO schema_version (version, application) VALUES (%s, %s)",
        (schema.CURRENT_VERSION + 1, schema.APPLICATION_ID),
    )
    store = open_store()

    with pytest.raises(SchemaError, match="newer"):
        await store.schema.check()
    with pytest.raises(SchemaError, match="newer"):
        await store.schema.migrate()


async def test_another_applications_database_is_refused(open_store: Opener, database: str) -> None:
    """Tables we did not create mean the database is someone else's: never migrate over it."""
    sql(database, "CREATE TABLE invoices (id integer)")

    with pytest.raises(SchemaError, match="not ours"):
        await open_store().schema.migrate()
    assert sql(database, "SELECT to_regclass('consents')") == [(None,)]


async def test_a_missing_dialect_stops_migrate(
    open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never half an upgrade: without the PostgreSQL spelling of a migration, nothing runs."""
    monkeypatch.setitem(schema.DIALECTS, "postgresql", schema.POSTGRES_MIGRATIONS[:-1])

    with pytest.raises(SchemaError, match="no postgresql dialect"):
        await open_store().schema.migrate()


# ---------------------------------------------------------------------------- many instances


async def test_a_revocation_by_one_instance_is_seen_by_the_other_on_its_next_read(
    open_store: Opener,
) -> None:
    """Instance B's cached consent is re-validated on every read: A's revocation shows at once."""
    a, b = open_store(), open_store()
    await a.schema.migrate()
    await a.clients.put(client())
    await a.consents.create(consent(), event())
    assert (await b.consents.live("consent-1")).consent == consent()  # type: ignore[union-attr]
    assert (await b.consents.live("consent-1")).consent == consent()  # type: ignore[union-attr]

    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await a.consents.update(revoked, event(name="revoked"), expected_version=1)

    assert (await b.consents.live("consent-1")).consent == revoked  # type: ignore[union-attr]


async def test_a_suspension_by_one_instance_is_seen_by_the_others_gate(
    open_store: Opener,
) -> None:
    """The gate's read (the consent with its recipient's status) sees a suspension made
    elsewhere on the next request, as does a status read on its own."""
    a, b = open_store(), open_store()
    await a.schema.migrate()
    await a.clients.put(client())
    await a.consents.create(consent(), event())
    assert await gate(b.consents, "consent-1") == ("ACTIVE", "approved")
    assert await b.clients.status("client-1") == "approved"

    await a.clients.put(client(status="suspended"))

    assert await gate(b.consents, "consent-1") == ("ACTIVE", "suspended")
    assert await b.clients.status("client-1") == "suspended"


class CountingConsents(PostgresConsents):
    """Records each batched read; ``hold`` keeps a read's answer from its callers (a round trip
    still in flight) until released."""

    def __init__(self, db: PostgresDb) -> None:
        self.checks: list[list[str]] = []
        self.sent = asyncio.Event()
        self.hold: asyncio.Event | None = None
        super().__init__(db)

    async def _read(self, asked: list[tuple[str, int]]) -> list[Stored | None]:
        self.checks.append([consent_id for consent_id, _ in asked])
        answers = await super()._read(asked)
        self.sent.set()  # read: its answers are what the database held when it ran
        if self.hold is not None:
            await self.hold.wait()
        return answers


async def gate(consents: Consents, consent_id: str) -> tuple[str | None, str | None]:
    """What gateway/access.py asks per FDX call: the consent and its recipient's status."""
    found = await consents.live(consent_id)
    if found is None:
        return None, None
    return found.consent.status.value, found.recipient_status


async def test_concurrent_gate_checks_share_one_query_and_each_takes_its_own_status(
    database: str, open_store: Opener
) -> None:
    writer = open_store()
    await writer.schema.migrate()
    await writer.clients.put(client())
    await writer.clients.put(client("client-2", status="suspended"))
    await writer.consents.create(consent(), event())
    await writer.consents.create(consent("consent-2", client_id="client-2"), event("consent-2"))
    db = PostgresDb(database, max_size=2)
    store = CountingConsents(db)
    try:
        await store.live("consent-1")  # cached: the batch then mixes cached and not
        asked = ["consent-1", "consent-2", "unknown", "consent-1", "consent-2"]

        answers = await asyncio.gather(*(gate(store, c) for c in asked))

        assert answers == [
            ("ACTIVE", "approved"),
            ("ACTIVE", "suspended"),
            (None, None),
            ("ACTIVE", "approved"),
            ("ACTIVE", "suspended"),
        ]
        assert store.checks == [["consent-1"], asked], "one query for the five requests"
    finally:
        await db.aclose()


async def test_a_revocation_committed_while_a_check_is_in_flight_stops_the_next_request(
    database: str, open_store: Opener
) -> None:
    """A request never joins a query that was sent before it arrived: the revocation committed
    meanwhile is what its own check reads (revoked means the very next call fails)."""
    writer = open_store()
    await writer.schema.migrate()
    await writer.clients.put(client())
    await writer.consents.create(consent(), event())
    db = PostgresDb(database, max_size=2)
    store = CountingConsents(db)
    store.hold = asyncio.Event()
    try:
        early = asyncio.ensure_future(gate(store, "consent-1"))
        await store.sent.wait()
        revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
        assert await writer.consents.update(revoked, event(name="revoked"), expected_version=1)

        late = asyncio.ensure_future(gate(store, "consent-1"))
        for _ in range(5):
            await asyncio.sleep(0)
        store.hold.set()

        assert await early == ("ACTIVE", "approved")  # its read began before the revocation
        assert await late == ("REVOKED", "approved")
        assert store.checks == [["consent-1"], ["consent-1"]]
    finally:
        await db.aclose()


async def test_links_the_database_computes_are_the_python_chains_links(
    open_store: Opener,
) -> None:
    """An audit batch's links are hashed in SQL (one round trip); they must be byte for byte what
    authz.store.chain computes, whatever the text and the float: verify_chain recomputes each."""
    store = open_store()
    await store.schema.migrate()
    await store.consents.create(consent(), event())
    odd = [
        replace(audit("a-1", at=1_700_000_000.1234567), endpoint='GET /ü/日本/"/\\'),
        replace(audit("a-2", at=0.1), interaction_id="i-\u2028-\U0001f600"),
        audit("a-3", at=1e16),
        audit("a-4", at=1e-7),
    ]
    await store.audit.append(odd)
    await store.audit.append([audit(f"b-{n}", at=T0 + n / 7) for n in range(300)])

    result = await verify_chain(store)
    assert result.ok, result.broken
    assert result.count == 1 + 4 + 300
    links = await store.audit.trail(limit=1000)
    assert [t.seq for t in links] == list(range(1, 306))
    assert [t.time for t in links[1:5]] == [a.time for a in odd]


async def test_a_failed_audit_batch_stores_nothing_and_the_next_one_links_on(
    database: str, open_store: Opener
) -> None:
    """A batch is one transaction (one call of the stored function): when its links fail
    (after its events went in), none of its events stay, and the next batch is served, by a
    pool of one connection too."""
    store = open_store(max_size=1)
    await store.schema.migrate()
    await store.consents.create(consent(), event())
    await store.audit.append([audit("a-1")])
    sql(database, "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql"
                  " AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$")  # fmt: skip
    sql(database, "CREATE TRIGGER refuse BEFORE INSERT ON trail EXECUTE FUNCTION refuse()")

    with pytest.raises(RecordsUnavailable, match="RaiseException"):  # 503, not a 500
        await store.audit.append([audit("a-2"), audit("a-3")])
    sql(database, "DROP TRIGGER refuse ON trail")
    await store.audit.append([audit("a-4"), audit("a-5")])

    assert [a.id for a in await store.audit.of_consent("consent-1")] == ["a-1", "a-4", "a-5"]
    result = await verify_chain(store)
    assert result.ok, result.broken
    assert result.count == 1 + 3


async def test_concurrent_appends_from_two_instances_keep_one_verifiable_chain(
    open_store: Opener,
) -> None:
    """2 × 50 concurrent writers (accesses and consent events) through two pools: every record
    gets exactly one link, and the chain verifies from genesis."""
    a, b = open_store(), open_store()
    await a.schema.migrate()
    for n in range(10):
        await a.consents.create(consent(f"c-{n}"), event(f"c-{n}"))

    async def write(store: Records, i: int) -> None:
        if i % 5 == 0:
            await store.consents.append_event(event(f"c-{i % 10}", "used", T0 + i))
        else:
            await store.audit.append([audit(f"a-{id(store)}-{i}", f"c-{i % 10}", T0 + i)])

    async with anyio.create_task_group() as tg:
        for i in range(50):
            tg.start_soon(write, a, i)
            tg.start_soon(write, b, i)

    result = await verify_chain(a)
    assert result.ok, result.broken
    assert result.count == 10 + 100
    assert [e.seq for e in await b.audit.trail(limit=1000)] == list(range(1, 111))


async def test_a_refresh_token_is_rotated_once_across_instances(open_store: Opener) -> None:
    """Two instances presenting one token at once: exactly one wins."""
    a, b = open_store(), open_store()
    await a.schema.migrate()
    await a.consents.create(consent(), event())
    from tests.contracts.test_record_store import token

    await a.refresh_tokens.put(token())
    won: list[bool] = []

    async def use(store: Records, i: int) -> None:
        won.append((await store.refresh_tokens.use("h1", T0 + i))[1])

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(use, a if i % 2 else b, i)

    assert (won.count(True), len(won)) == (1, 20)


async def test_two_instances_never_claim_the_same_notification(open_store: Opener) -> None:
    """FOR UPDATE SKIP LOCKED: concurrent claims split the due deliveries between them."""
    from tests.contracts.test_record_store_notifications import delivery

    a, b = open_store(), open_store()
    await a.schema.migrate()
    for n in range(40):
        await a.outbox.enqueue(delivery(f"n-{n}", due=T0 + n))
    claimed: list[str] = []

    async def claim(store: Records) -> None:
        claimed.extend(d.id for d in await store.outbox.claim(T0 + 100, limit=5, lease=60))

    async with anyio.create_task_group() as tg:
        for n in range(10):
            tg.start_soon(claim, a if n % 2 else b)

    assert sorted(claimed) == sorted(f"n-{n}" for n in range(40))


# ---------------------------------------------------------------------------- the server away


async def test_an_unreachable_server_raises_records_unavailable_at_once() -> None:
    """Nothing listens on port 1: the first call fails with the server's reason, long before
    the (here: one minute) wait for a pooled connection would end."""
    store = postgres_records("postgresql://postgres@127.0.0.1:1/postgres", timeout=60)

    with anyio.fail_after(30), pytest.raises(RecordsUnavailable, match=r"127\.0\.0\.1:1"):
        await store.consents.get("consent-1")
    with anyio.fail_after(30), pytest.raises(RecordsUnavailable):
        await store.schema.check()
    await store.aclose()


async def test_a_connection_lost_mid_life_fails_one_call_and_then_recovers(
    open_store: Opener, database: str
) -> None:
    """A server restart kills the pooled connections: a call that meets a dead one raises
    RecordsUnavailable (never a psycopg error); the pool reconnects for the next calls."""
    store = open_store(min_size=1)
    await store.schema.migrate()
    await store.consents.create(consent(), event())
    name = database.rsplit("/", 1)[1]
    sql(
        database.rsplit("/", 1)[0] + "/postgres",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )

    outcomes: list[str] = []
    for _ in range(10):
        try:
            got = await store.consents.get("consent-1")
        except RecordsUnavailable:
            outcomes.append("unavailable")
        else:
            outcomes.append("ok" if got == consent() else "wrong")
            break
        await anyio.sleep(0.2)

    assert outcomes[0] == "unavailable"
    assert outcomes[-1] == "ok"


async def test_the_audit_logs_kept_connection_lost_fails_one_batch_and_then_recovers(
    open_store: Opener, database: str
) -> None:
    """The audit keeps its connection between batches; when the server kills it, the next batch
    fails closed (RecordsUnavailable) and stores nothing, and a later one is served on a new
    connection, linked after the last stored batch."""
    store = open_store()
    await store.schema.migrate()
    await store.consents.create(consent(), event())
    await store.audit.append([audit("a-1")])
    name = database.rsplit("/", 1)[1]
    sql(
        database.rsplit("/", 1)[0] + "/postgres",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    )

    with pytest.raises(RecordsUnavailable):
        await store.audit.append([audit("a-2")])
    for attempt in range(10):  # the pool's idle connections died too: it replaces them
        try:
            await store.audit.append([audit(f"b-{attempt}")])
            break
        except RecordsUnavailable:
            await anyio.sleep(0.2)

    stored = [a.id for a in await store.audit.of_consent("consent-1")]
    assert ["a-1", f"b-{attempt}"] == stored
    result = await verify_chain(store)
    assert result.ok, result.broken


async def test_the_audit_connection_is_given_back_when_stale_and_not_kept_past_a_close(
    open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kept connection goes back to the pool once it has sat unused too long, and a store
    closed between two batches and used again keeps linking on a connection of its new pool."""
    from authz.store.postgres import connection

    store = open_store()
    await store.schema.migrate()
    await store.consents.create(consent(), event())
    await store.audit.append([audit("a-1")])
    monkeypatch.setattr(connection, "_KEEP_IDLE", 0.0)
    await store.audit.append([audit("a-2")])  # the kept one is given back, another taken
    monkeypatch.undo()
    await store.aclose()
    await store.audit.append([audit("a-3")])  # a new pool: the old pool's connection is gone

    assert ["a-1", "a-2", "a-3"] == [a.id for a in await store.audit.of_consent("consent-1")]
    result = await verify_chain(store)
    assert result.ok, result.broken


class Outage:
    """A TCP relay in front of the real server that a test can take down and bring back, as a
    restart or a network cut would: down, it refuses new connections and drops open ones."""

    def __init__(self) -> None:
        self.port = _free_port()
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def down(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._links):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", 5432)
        self._links |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_an_outage_fails_calls_at_once_and_the_store_recovers_by_itself(
    open_store: Opener, database: str
) -> None:
    """While the server is away every call raises RecordsUnavailable, without waiting out the
    (here: one minute) pool timeout; when it is back, calls succeed again with no restart."""
    outage = Outage()
    await outage.up()
    store = open_store(database.replace(":5432/", f":{outage.port}/"), timeout=60)
    await store.schema.migrate()
    await store.consents.create(consent(), event())

    await outage.down()
    failures = 0
    with anyio.fail_after(30):
        for _ in range(20):
            with pytest.raises(RecordsUnavailable):
                await store.consents.get("consent-1")
            failures += 1
    await outage.up()
    recovered = None
    with anyio.fail_after(45):
        while recovered is None:
            try:
                recovered = await store.consents.get("consent-1")
            except RecordsUnavailable:
                await anyio.sleep(0.2)
    await outage.down()

    assert failures == 20
    assert recovered == consent()


async def test_an_integrity_error_is_not_an_outage(open_store: Opener) -> None:
    """A duplicate is the caller's ValueError, as on the other stores, not RecordsUnavailable."""
    store = open_store()
    await store.schema.migrate()
    await store.consents.create(consent(), event())

    with pytest.raises(ValueError, match="exists"):
        await store.consents.create(replace(consent(), version=1), event())


# ---------------------------------------------------------------------------- wiring


async def test_postgresql_urls_open_the_postgres_store_without_connecting() -> None:
    """database_url postgresql://… selects this store; nothing connects until first use."""
    store = open_records("postgresql://postgres@127.0.0.1:1/fdx", pool_max_size=3, timeout=1)

    assert isinstance(store, Records)
    await store.aclose()


def test_a_password_never_reaches_a_message() -> None:
    """URLs are shown with the password masked; a store's errors name host, port and database."""
    url = "postgresql://gw:s3cret@127.0.0.1:1/fdx"

    assert display_url(url) == "postgresql://gw:***@127.0.0.1:1/fdx"
    assert "s3cret" not in PostgresDb(url)._where


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fdxgw_init_and_serve_run_the_flow_on_postgresql(database: str, tmp_path: Path) -> None:
    """`fdxgw db check` refuses a fresh database; `fdxgw init` migrates it and `fdxgw serve`
    runs the example client's whole flow on PostgreSQL."""
    port = _free_port()
    env = {
        **os.environ,
        "FDX_PORT": str(port),
        "FDX_ISSUER": f"http://127.0.0.1:{port}",
        "FDX_VAR_DIR": str(tmp_path / "var"),
        "FDX_DATABASE_URL": database,
    }
    fdxgw = [sys.executable, "-m", "gateway.cli"]
    before = subprocess.run(
        [*fdxgw, "db", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    subprocess.run([*fdxgw, "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    after = subprocess.run(
        [*fdxgw, "db", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    server = subprocess.Popen(
        [*fdxgw, "serve"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        example = subprocess.run(
            [sys.executable, "examples/budget_app.py", "--issuer", f"http://127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()

    assert 2 == before.returncode
    assert "version 0" in before.stderr
    assert 0 == after.returncode, after.stderr
    assert 0 == example.returncode, example.stdout + example.stderr + output
    assert "flow complete" in example.stdout
    assert "Traceback" not in output
    consents = sql(database, "SELECT status FROM consents")
    assert [("REVOKED",)] == consents, "the example revokes the consent it was granted"


def test_pool_settings_are_validated() -> None:
    """A pool that could never open, or a wait of nothing, is refused at start-up."""
    from config.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="database_pool_min_size"):
        Settings(database_pool_min_size=5, database_pool_max_size=2)
    with pytest.raises(SettingsError, match="database_timeout"):
        Settings(database_timeout=0)
    assert Settings.load({"FDX_DATABASE_POOL_MAX_SIZE": "20"}).database_pool_max_size == 20


async def test_a_database_that_is_not_utf8_is_refused_before_anything_is_written(
    open_store: Opener,
) -> None:
    """The trail's links are hashed in SQL over UTF-8 text: on another encoding they would not
    match chain.link_hash, so neither migrate nor start-up accepts such a database."""
    url = create_database()
    name = url.rsplit("/", 1)[1] + "_ascii"
    ascii_url = url.rsplit("/", 1)[0] + "/" + name
    drop_database(url)
    sql(url.rsplit("/", 1)[0] + "/postgres",
        f"CREATE DATABASE {name} ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'"
        " TEMPLATE template0")  # fmt: skip
    try:
        store = open_store(ascii_url)
        with pytest.raises(SchemaError, match="UTF8"):
            await store.schema.migrate()
        with pytest.raises(SchemaError, match="UTF8"):
            await store.schema.check()
        assert [] == sql(ascii_url, "SELECT 1 FROM pg_tables WHERE tablename = 'consents'")
    finally:
        await store.aclose()
        drop_database(ascii_url)


async def test_a_stuck_gate_or_audit_batch_fails_closed_within_the_timeout(
    open_store: Opener, database: str
) -> None:
    """One batch is in flight at a time: a consent check or an audit batch stuck behind a
    lock must not hold every request of the process unanswered. Within the store's timeout
    they fail with RecordsUnavailable (503), and once the lock goes the store works again."""
    store = open_store(timeout=1.0)
    await store.schema.migrate()
    await store.clients.put(client("client-1"))
    await store.consents.create(consent("consent-1"), event("consent-1"))
    blocker = await psycopg.AsyncConnection.connect(database)
    try:
        await blocker.execute("BEGIN")
        await blocker.execute("LOCK TABLE consents, audit_events IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        with pytest.raises(RecordsUnavailable):
            await store.consents.live("consent-1")
        with pytest.raises(RecordsUnavailable):
            await store.audit.append([audit("a-1", "consent-1")])
        assert time.monotonic() - started < 5, "each failed within about the 1 s timeout"
    finally:
        await blocker.execute("ROLLBACK")
        await blocker.close()

    assert (await store.consents.live("consent-1")) is not None
    await store.audit.append([audit("a-2", "consent-1")])
    assert ["a-2"] == [e.id for e in await store.audit.of_consent("consent-1")]


async def test_the_trail_links_under_a_repeatable_read_default(
    open_store: Opener, database: str
) -> None:
    """A database whose default isolation is REPEATABLE READ: the audit batch and the consent
    events still read the chain's head after the trail's lock (READ COMMITTED is set on every
    connection), so concurrent writers of two stores link one unbroken chain."""
    name = database.rsplit("/", 1)[1]
    sql(database, f"ALTER DATABASE {name} SET default_transaction_isolation = 'repeatable read'")
    first, second = open_store(), open_store()
    await first.schema.migrate()
    await first.clients.put(client("client-1"))
    await first.consents.create(consent("consent-1"), event("consent-1"))

    async def write(store: Records, tag: str) -> None:
        for n in range(10):
            await store.audit.append([audit(f"{tag}-{n}-{k}", "consent-1") for k in range(3)])

    async with anyio.create_task_group() as tg:
        tg.start_soon(write, first, "a")
        tg.start_soon(write, second, "b")

    report = await verify_chain(first)
    assert report.ok, report
    assert 61 == len(await first.audit.trail(limit=1000))


async def test_the_audit_function_refuses_to_link_under_another_isolation_level(
    open_store: Opener, database: str
) -> None:
    """The stored function reads the chain's head after the trail's lock, which only READ
    COMMITTED makes safe: called in a REPEATABLE READ transaction it refuses, storing nothing."""
    store = open_store()
    await store.schema.migrate()
    conn = await psycopg.AsyncConnection.connect(database, autocommit=True)
    try:
        await conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.errors.RaiseException, match="READ COMMITTED"):
            await conn.execute("SELECT fdxgw_append_audit('[]', '[]', 1, 2, 'genesis')")
        await conn.execute("ROLLBACK")
    finally:
        await conn.close()
    assert [] == await store.audit.trail()

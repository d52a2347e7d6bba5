"""verify_chain over a real SQLite file: OK when untouched, names the first tampered link."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from authz.consent.model import ConsentStatus
from authz.store.base import Records
from authz.store.chain import link_hash
from authz.store.memory import memory_records
from authz.store.sqlite import sqlite_records
from authz.trail import prune, verify_chain
from config.settings import Settings
from tests.contracts.test_record_store import T0, audit, consent, event

pytestmark = pytest.mark.anyio

YEAR = 365 * 86400


async def _filled(store: Records | Records) -> None:
    await store.schema.migrate()
    await store.consents.create(consent(), event(at=T0))
    await store.audit.append([audit(f"a{i}", at=T0 + i) for i in range(1, 6)])
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    await store.consents.update(revoked, event(name="revoked", at=T0 + 10), expected_version=1)


@pytest.fixture
async def sqlite_store(tmp_path: Path):
    store = sqlite_records(str(tmp_path / "records.sqlite"))
    await _filled(store)
    yield store
    await store.aclose()


def _execute(path: Path, sql: str, *params: object) -> None:
    db = sqlite3.connect(path)
    with db:
        db.execute(sql, params)
    db.close()


async def test_an_untouched_chain_verifies(sqlite_store: Records) -> None:
    """Every link holds: OK with the count, from genesis, head = the last hash."""
    result = await verify_chain(sqlite_store)

    trail = await sqlite_store.audit.trail()
    assert result.ok
    assert (result.count, result.anchored, result.head) == (7, False, trail[-1].hash)


async def test_a_record_edited_in_the_database_is_named(
    sqlite_store: Records, tmp_path: Path
) -> None:
    """Changing one link's record (a smaller record count) breaks that very link."""
    _execute(
        tmp_path / "records.sqlite",
        "UPDATE trail SET record = replace(record, '\"record_count\":25', '\"record_count\":2')"
        " WHERE seq = 4",
    )

    result = await verify_chain(sqlite_store)

    assert result.broken is not None
    assert (result.broken.seq, result.broken.kind, result.broken.reason) == (
        4,
        "data_access",
        "hash mismatch",
    )
    assert result.broken.time == T0 + 3
    assert result.count == 3


async def test_a_rehashed_edit_is_caught_at_the_next_link(
    sqlite_store: Records, tmp_path: Path
) -> None:
    """Recomputing the edited link's own hash only moves the break to the link after it."""
    link = (await sqlite_store.audit.trail(after_seq=1, limit=1))[0]
    forged = link.record.replace('"record_count":25', '"record_count":2')
    forged_hash = link_hash(link.prev_hash, link.seq, link.time, link.kind, forged)
    _execute(
        tmp_path / "records.sqlite",
        "UPDATE trail SET record = ?, hash = ? WHERE seq = 2",
        forged,
        forged_hash,
    )

    result = await verify_chain(sqlite_store)

    assert result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (3, "prev_hash mismatch")


async def test_a_deleted_link_is_named_by_the_one_after_the_gap(
    sqlite_store: Records, tmp_path: Path
) -> None:
    """Removing a link in the middle is reported at the next link."""
    _execute(tmp_path / "records.sqlite", "DELETE FROM trail WHERE seq = 5")

    result = await verify_chain(sqlite_store)

    assert result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (6, "missing link before it")


async def test_progress_is_reported_per_page(sqlite_store: Records) -> None:
    """A long run reports its count after each page."""
    seen: list[int] = []

    result = await verify_chain(sqlite_store, page=3, progress=seen.append)

    assert result.ok
    assert seen == [3, 6, 7]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
async def test_after_retention_the_chain_verifies_from_the_anchor(
    backend: str, tmp_path: Path
) -> None:
    """prune drops links older than audit_retention_days; the rest verifies from the anchor."""
    store = memory_records() if backend == "memory" else sqlite_records(str(tmp_path / "r.sqlite"))
    await _filled(store)
    await store.audit.append([audit("recent", at=T0 + 4 * YEAR)])
    settings = Settings()  # 1095 days

    pruned = await prune(store, settings, now=T0 + 4 * YEAR + 1)
    result = await verify_chain(store)

    assert pruned == 7
    assert result.ok
    assert (result.count, result.anchored) == (1, True)
    assert [a.id for a in await store.audit.of_consent("consent-1")] == ["recent"]
    await store.aclose()


async def test_tampering_after_a_prune_is_still_named(tmp_path: Path) -> None:
    """The first kept link must follow the anchor: a changed anchor is reported."""
    path = tmp_path / "r.sqlite"
    store = sqlite_records(str(path))
    await _filled(store)
    await store.audit.prune(T0 + 3)
    _execute(path, "UPDATE trail_anchor SET hash = ?", "00" * 32)

    result = await verify_chain(store)

    assert result.broken is not None
    assert (result.broken.seq, result.broken.reason) == (4, "prev_hash mismatch")
    await store.aclose()


async def test_history_from_before_the_trail_is_linked_on_upgrade(tmp_path: Path) -> None:
    """A database at schema 1 gets its consent events and accesses linked by migrate()."""
    from authz.store import schema

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for statement in schema.MIGRATIONS[0]:
        db.execute(statement)
    db.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    db.execute("PRAGMA user_version = 1")
    db.execute(
        "INSERT INTO consents VALUES ('consent-1', 'customer-1', 'client-1', 'ACTIVE', 1, ?, ?)",
        (T0, '{"id": "consent-1"}'),
    )
    db.execute(
        "INSERT INTO consent_events (consent_id, time, event, actor) VALUES (?, ?, ?, ?)",
        ("consent-1", T0, "granted", "INDIVIDUAL"),
    )
    db.commit()
    db.close()
    store = sqlite_records(str(path))

    await store.schema.migrate()
    result = await verify_chain(store)

    assert result.ok
    assert result.count == 1
    await store.aclose()

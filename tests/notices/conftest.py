"""Fixtures for the notice record families: one branch per implementation (contract suite)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from authz.notices.store import NoticeRecords
from authz.notices.store.memory import open_memory
from authz.notices.store.postgres import open_postgres
from authz.notices.store.sqlite import open_sqlite
from tests.contracts.conftest import create_database, drop_database


@pytest.fixture(params=["memory", "sqlite", "postgres"])
async def notice_records(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[NoticeRecords]:
    if request.param == "memory":
        records = open_memory()
        yield records
        await records.aclose()
        return
    if request.param == "sqlite":
        records = open_sqlite(str(tmp_path / "var" / "records.sqlite"))
        yield records
        await records.aclose()
        return
    url = create_database()
    records = open_postgres(url)
    try:
        yield records
    finally:
        await records.aclose()
        drop_database(url)

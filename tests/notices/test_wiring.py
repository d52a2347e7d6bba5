"""build_services wires consumer notices: records in the gateway's database, both observers,
the mail worker only with smtp_url; and the app runs them beside itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from starlette.testclient import TestClient

from authz.notices.notices import Notices
from authz.notices.store.sql import SqlOutbox
from authz.store import open_records
from config.settings import Settings
from gateway.app import create_app
from gateway.services import build_services


def settings(tmp_path: Path, **changes: Any) -> Settings:
    """A gateway on a migrated SQLite file, as `fdxgw init` leaves it."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"

    async def migrate() -> None:
        records = open_records(url)
        try:
            await records.schema.migrate()
        finally:
            await records.aclose()

    anyio.run(migrate)
    return Settings(database_url=url, var_dir=str(tmp_path / "var"), registry_jwks="", **changes)


def test_notices_are_wired_into_the_gateway(tmp_path: Path) -> None:
    services = build_services(
        settings(tmp_path, smtp_url="smtp://127.0.0.1:2525", mail_from="n@bank.example")
    )
    [notices] = [o for o in services.observers if isinstance(o, Notices)]
    assert notices in services.recipient_observers
    assert notices.worker is not None
    assert isinstance(services.notices.outbox, SqlOutbox)
    with TestClient(create_app(services.settings, services=services)) as client:
        assert client.get("/").status_code == 200  # the lifespan runs the worker and the sweep


def test_without_smtp_url_there_is_no_mail_worker(tmp_path: Path) -> None:
    services = build_services(settings(tmp_path))
    [notices] = [o for o in services.observers if isinstance(o, Notices)]
    assert notices.worker is None

"""The app wires the notifier from the settings and runs its worker for the app's lifetime."""

from __future__ import annotations

from pathlib import Path

import anyio
from starlette.testclient import TestClient

from authz.notifications import Notifier
from authz.store.sqlite import sqlite_records
from config.settings import Settings
from gateway.app import build_services, create_app


def test_the_gateway_notifies_recipients_while_it_runs(tmp_path: Path) -> None:
    """build_services registers a Notifier; the lifespan starts and stops its worker cleanly."""
    database = tmp_path / "gateway.db"
    anyio.run(_migrate, database)
    settings = Settings(database_url=f"sqlite:///{database}", var_dir=str(tmp_path / "var"))
    services = build_services(settings)

    assert len([o for o in services.observers if isinstance(o, Notifier)]) == 1
    with TestClient(create_app(settings, services=services)) as client:
        assert client.get("/").status_code == 200


async def _migrate(database: Path) -> None:
    store = sqlite_records(str(database))
    await store.schema.migrate()
    await store.aclose()

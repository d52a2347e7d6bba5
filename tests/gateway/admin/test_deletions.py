"""GET /admin/deletions/overdue: deletions consumers asked for that recipients have not
confirmed within 30 days."""

from __future__ import annotations

from pathlib import Path

import anyio

from authz.notices.store import DeletionRequest
from tests.gateway.admin.test_api import AdminHarness

DAY = 86400


def test_overdue_deletions_are_listed_for_the_bank(tmp_path: Path) -> None:
    adm = AdminHarness(tmp_path / "admin.sha256")
    deletions = adm.services.notices.deletions
    now = adm.clock()
    for consent_id, days_ago in (("c-old", 31), ("c-new", 5), ("c-done", 40)):
        asked = DeletionRequest(consent_id, "app-1", "cust-1", asked_at=now - days_ago * DAY)
        anyio.run(deletions.ask, asked)
    anyio.run(deletions.confirm, "c-done", now)

    response = adm.admin("GET", "/deletions/overdue")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "deletions": [
            {
                "consent_id": "c-old",
                "client_id": "app-1",
                "asked_at": now - 31 * DAY,
                "consumer_told_at": None,
            }
        ],
        "truncated": False,
    }
    assert adm.client.get("/admin/deletions/overdue").status_code == 401

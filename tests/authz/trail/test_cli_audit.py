"""``fdxgw audit verify|export|prune`` against a temporary SQLite database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import anyio
import pytest

from authz.consent.model import ConsentStatus
from authz.store.sqlite import sqlite_records
from gateway.cli import main
from tests.contracts.test_record_store import T0, audit, consent, event

DAY = 86400


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "gateway.db"

    async def fill() -> None:
        store = sqlite_records(str(path))
        await store.schema.migrate()
        await store.consents.create(consent(), event(at=T0))  # 2023-11-14
        await store.audit.append([audit("a1", at=T0 + DAY), audit("a2", at=T0 + 2 * DAY)])
        revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 3 * DAY)
        await store.consents.update(
            revoked, event(name="revoked", at=T0 + 3 * DAY), expected_version=1
        )
        await store.aclose()

    anyio.run(fill)
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "var"))
    return path


def test_verify_prints_ok_with_the_count(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An untouched trail: exit 0 and OK with how many links."""
    code = main(["audit", "verify"])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("OK: 4 links verified from genesis")


def test_verify_names_the_tampered_record_and_fails(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A link changed in the file: exit 1, naming its seq, kind and time."""
    db = sqlite3.connect(database)
    with db:
        db.execute("UPDATE trail SET record = replace(record, 'a2', 'zz') WHERE seq = 3")
    db.close()

    code = main(["audit", "verify"])

    out = capsys.readouterr().out
    assert code == 1
    assert "BROKEN at seq 3 (data_access, 2023-11-16T22:13:20+00:00): hash mismatch" in out


def test_export_writes_json_lines_for_the_days_asked(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from and --to are whole UTC days, both included."""
    out = tmp_path / "trail.jsonl"

    code = main(
        ["audit", "export", "--from", "2023-11-15", "--to", "2023-11-16", "--out", str(out)]
    )

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0
    assert [line["record"]["id"] for line in lines] == ["a1", "a2"]
    assert "exported 2 links" in capsys.readouterr().err


def test_export_to_standard_output(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --out the lines go to standard output."""
    code = main(["audit", "export", "--from", "2023-11-17", "--to", "2023-11-17"])

    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert [json.loads(line)["record"]["event"] for line in lines] == ["revoked"]


def test_export_refuses_a_bad_date(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A date that is not YYYY-MM-DD is a usage error."""
    with pytest.raises(SystemExit) as exc:
        main(["audit", "export", "--from", "15/11/2023", "--to", "2023-11-16"])
    assert exc.value.code == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err


def test_prune_drops_what_is_past_retention_and_verify_starts_from_the_anchor(
    database: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three years and two days later, the links of the first two days go; the rest verifies."""
    monkeypatch.setattr("gateway.cli._clock", lambda: T0 + 1095 * DAY + 2 * DAY - 1)

    main(["audit", "prune"])
    pruned = capsys.readouterr().out
    code = main(["audit", "verify"])

    assert pruned.startswith("pruned 2 links older than 1095 days")
    assert code == 0
    assert capsys.readouterr().out.startswith("OK: 2 links verified from the retention anchor")

"""``fdxgw consents``, ``fdxgw keys`` and ``fdxgw admin token`` against a real SQLite store."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest

from authz.consent.model import Consent, ConsentEvent, ConsentResource, ConsentStatus, DurationType
from authz.store import open_records
from gateway.admin import commands
from gateway.admin.token import AdminToken
from gateway.cli import main

NOW = 1_773_576_000.0


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An initialised gateway (storage, keys) in tmp_path, configured through FDX_*."""
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "var"))
    assert 0 == main(["init"])
    return tmp_path


def add_consent(tmp: Path, consent_id: str, customer: str, client: str, at: float) -> None:
    consent = Consent(
        id=consent_id,
        status=ConsentStatus.ACTIVE,
        client_id=client,
        customer_id=customer,
        created_at=at,
        updated_at=at,
        expires_at=4_000_000_000.0,
        duration_type=DurationType.TIME_BOUND,
        duration_period=90,
        lookback_period=365,
        resources=(ConsentResource("ACCOUNT", "acc-1", ("ACCOUNT_BASIC", "TRANSACTIONS")),),
        purpose="Budgeting",
    )

    async def put() -> None:
        records = open_records(f"sqlite:///{tmp}/gw.db")
        await records.consents.create(
            consent, ConsentEvent(consent_id, at, "granted", "INDIVIDUAL")
        )
        await records.aclose()

    anyio.run(put)


def test_consents_search_prints_a_table_newest_first(gw, capsys):
    """By customer: a header, one row a consent, and the count on stderr."""
    add_consent(gw, "c-old", "cus-1", "app-1", NOW)
    add_consent(gw, "c-new", "cus-1", "app-2", NOW + 60)
    add_consent(gw, "c-other", "cus-2", "app-1", NOW)

    code = main(["consents", "search", "--customer", "cus-1"])
    out, err = capsys.readouterr()

    lines = out.splitlines()
    assert 0 == code
    assert lines[0].startswith("CONSENT")
    assert ["c-new", "c-old"] == [line.split()[0] for line in lines[1:]]
    assert "2 consent(s)" in err


def test_consents_search_by_recipient_shows_progress_on_long_runs(gw, capsys):
    """--progress-every N prints a count line every N rows."""
    for n in range(5):
        add_consent(gw, f"c-{n}", f"cus-{n}", "app-1", NOW + n)

    main(["consents", "search", "--recipient", "app-1", "--progress-every", "2"])
    out, err = capsys.readouterr()

    assert 6 == len(out.splitlines())
    assert ["2 of 5", "4 of 5"] == re.findall(r"\d of \d", err)


def test_consents_search_needs_a_customer_or_a_recipient(gw):
    """argparse refuses neither, and both."""
    with pytest.raises(SystemExit):
        main(["consents", "search"])
    with pytest.raises(SystemExit):
        main(["consents", "search", "--customer", "a", "--recipient", "b"])


def test_consents_revoke_ends_the_consent_as_the_bank(gw, capsys):
    """Through the lifecycle: REVOKED, actor DATA_PROVIDER, the reason given."""
    add_consent(gw, "c-1", "cus-1", "app-1", NOW)

    code = main(["consents", "revoke", "c-1", "--reason", "USER_ACTION"])
    again = main(["consents", "revoke", "c-1"])
    unknown = main(["consents", "revoke", "nope"])

    async def history() -> list[ConsentEvent]:
        records = open_records(f"sqlite:///{gw}/gw.db")
        try:
            return await records.consents.events("c-1")
        finally:
            await records.aclose()

    last = anyio.run(history)[-1]
    assert (0, 1, 1) == (code, again, unknown)
    assert ("revoked", "DATA_PROVIDER", "USER_ACTION") == (last.event, last.actor, last.reason)
    out, err = capsys.readouterr()
    assert "c-1 is now REVOKED" in out
    assert "already REVOKED" in err


def test_keys_list_shows_the_signing_key(gw, capsys):
    """One key after init, marked as the one that signs, with its creation time."""
    code = main(["keys", "list"])
    out = capsys.readouterr().out

    rows = out.splitlines()[1:]
    assert (0, 1) == (code, len(rows))
    assert rows[0].rstrip().endswith("yes")
    assert re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", rows[0])


def test_keys_list_without_keys_says_to_run_init(tmp_path, monkeypatch, capsys):
    """No keys are created by listing them."""
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "empty"))
    assert 0 == main(["db", "migrate"])

    code = main(["keys", "list"])

    assert 1 == code
    assert "fdxgw init" in capsys.readouterr().err
    assert not (tmp_path / "empty" / "keys").exists()


def test_admin_token_prints_a_token_once_and_stores_its_hash(gw, capsys, monkeypatch):
    """The printed token verifies against the file; the file does not contain it."""
    path = gw / "admin.sha256"
    monkeypatch.setenv("FDX_ADMIN_TOKEN_FILE", str(path))

    code = main(["admin", "token"])
    out = capsys.readouterr().out

    token = re.search(r"fdxadm_\S+", out)
    assert 0 == code
    assert token is not None
    assert AdminToken(path).verify(token.group(0))
    assert token.group(0) not in path.read_text()


def test_admin_token_without_a_setting_says_where_to_point_it(gw, capsys):
    """The hash goes under var_dir and the operator is told the setting to add."""
    main(["admin", "token"])
    out = capsys.readouterr().out

    assert (gw / "var" / commands.DEFAULT_HASH_FILE).is_file()
    assert "admin_token_file" in out


def test_init_makes_var_dir_private_and_puts_the_database_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """FDX_VAR_DIR two folders deep: the var directory itself is 0700 (the keys' folder was
    making it with the umask's 0755), its parent keeps the default mode, and the default
    database lives in it rather than in ./var of the working directory."""
    monkeypatch.delenv("FDX_DATABASE_URL", raising=False)
    var = tmp_path / "deploy" / "var"
    monkeypatch.setenv("FDX_VAR_DIR", str(var))
    assert 0 == main(["init"])
    assert 0o700 == var.stat().st_mode & 0o777
    assert 0o700 != (tmp_path / "deploy").stat().st_mode & 0o777
    assert (var / "gateway.db").is_file()
    assert f"storage ready at sqlite:///{var}/gateway.db" in capsys.readouterr().out


def test_init_again_keeps_the_demo_recipient_as_the_bank_left_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo recipient is seeded once, through the stamped client writes every gateway process
    hears of; a later init neither reinstates it once suspended nor overwrites it."""
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "var"))
    assert 0 == main(["init"])
    assert 0 == main(["recipients", "suspend", "demo-budget-app"])
    again = main(["init"])
    capsys.readouterr()
    assert 0 == main(["recipients", "list"])
    listed = capsys.readouterr().out

    assert 0 == again
    assert "demo-budget-app\tsuspended" in listed

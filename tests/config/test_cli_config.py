"""``fdxgw --config FILE``, ``FDX_CONFIG`` and ``--version`` at the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import __version__
from gateway.cli import main


def test_version_is_printed(capsys: pytest.CaptureFixture[str]):
    """``fdxgw --version`` prints the package's version and exits 0."""
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert 0 == exited.value.code
    assert f"fdxgw {__version__}" == capsys.readouterr().out.strip()


def test_a_typo_in_the_file_stops_the_command_naming_the_closest_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """Exit 2 and the key the operator probably meant, before anything starts."""
    config = tmp_path / "op.toml"
    config.write_text("isuer = 'https://bank.example'\n", encoding="utf-8")

    status = main(["--config", str(config), "check"])
    err = capsys.readouterr().err

    assert 2 == status
    assert "unknown key 'isuer' (the closest known key is 'issuer')" in err


def test_fdx_config_and_an_unknown_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """FDX_CONFIG names the file; FDX_PROVIDR_NAME is reported, not fatal."""
    config = tmp_path / "op.toml"
    config.write_text("provider_name = 'File Bank'\n", encoding="utf-8")
    monkeypatch.setenv("FDX_CONFIG", str(config))
    monkeypatch.setenv("FDX_PROVIDR_NAME", "typo")

    status = main(["check"])
    err = capsys.readouterr().err

    assert 0 == status
    assert "fdxgw: warning: FDX_PROVIDR_NAME: not a setting" in err
    assert "'provider_name'" in err

"""``fdxgw check`` loads what ``serve`` would load (the adapters from ``adapter_config``, the
maintenance windows) and names the key of whatever is wrong, exiting non-zero."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main

BROKEN_ADAPTER_CONFIGS = {
    "missing-file": None,
    "not-toml": "[sandbox\nfaults = ",
    "not-tables": "sandbox = 3\n",
    "unknown-option": "[sandbox]\ncolour = 'blue'\n",
}
BROKEN_MAINTENANCE = {
    "not-toml": "[[window]\nstart = ",
    "window-not-a-list": "window = 3\n",
    "no-time-zone": "[[window]]\nstart = 2026-01-01T00:00:00\nend = 2026-01-01T02:00:00\n",
    "unknown-key": "when = 'soon'\n",
}


def _check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text", BROKEN_ADAPTER_CONFIGS.values(), ids=BROKEN_ADAPTER_CONFIGS)
def test_a_broken_adapter_config_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    text: str | None,
) -> None:  # fmt: skip
    """The adapters are built as at start-up; the message names ``adapter_config``."""
    path = tmp_path / "adapters.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FDX_ADAPTER_CONFIG", str(path))

    code, out, err = _check(capsys)

    assert (2, "") == (code, out)
    assert err.startswith("fdxgw: configuration error: adapter_config: ")


@pytest.mark.parametrize("text", BROKEN_MAINTENANCE.values(), ids=BROKEN_MAINTENANCE)
def test_a_malformed_maintenance_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    text: str,
) -> None:  # fmt: skip
    """The windows are read as at start-up; the message names ``maintenance_file``."""
    path = tmp_path / "maintenance.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("FDX_MAINTENANCE_FILE", str(path))

    code, out, err = _check(capsys)

    assert (2, "") == (code, out)
    assert err.startswith("fdxgw: configuration error: maintenance_file: ")


def test_a_sound_configuration_is_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both files sound: ``configuration OK`` and exit 0."""
    (tmp_path / "adapters.toml").write_text("[sandbox]\n", encoding="utf-8")
    (tmp_path / "maintenance.toml").write_text(
        "[[window]]\nstart = 2026-01-01T00:00:00Z\nend = 2026-01-01T02:00:00Z\n", encoding="utf-8"
    )
    monkeypatch.setenv("FDX_ADAPTER_CONFIG", str(tmp_path / "adapters.toml"))
    monkeypatch.setenv("FDX_MAINTENANCE_FILE", str(tmp_path / "maintenance.toml"))

    assert (0, "configuration OK\n", "") == _check(capsys)

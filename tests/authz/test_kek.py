"""The key-encryption key: read from exactly one of its two settings, 32 bytes in base64, and
AES-GCM that refuses another key or another record's label (authz/kek.py)."""

from __future__ import annotations

import base64
import os

import pytest

from authz.kek import AesGcmKek, KekError, NoKek, kek_from_settings, new_kek

pytestmark = pytest.mark.anyio


def private_file(tmp_path, text: str, mode: int = 0o600):
    path = tmp_path / "kek"
    path.write_text(text + "\n")
    os.chmod(path, mode)
    return path


async def test_a_wrapped_value_opens_only_with_its_key_and_label() -> None:
    """Confidential (not in the sealed bytes), bound to its record, refused under another key."""
    kek = AesGcmKek(os.urandom(32))
    sealed = await kek.wrap(b"private key bytes", label=b"sig:k1")

    assert b"private key bytes" not in sealed
    assert b"private key bytes" == await kek.unwrap(sealed, label=b"sig:k1")
    with pytest.raises(KekError):
        await kek.unwrap(sealed, label=b"sig:k2")
    with pytest.raises(KekError):
        await AesGcmKek(os.urandom(32)).unwrap(sealed, label=b"sig:k1")
    with pytest.raises(KekError):
        await kek.unwrap(sealed[:-1] + bytes([sealed[-1] ^ 1]), label=b"sig:k1")


async def test_the_same_value_seals_differently_each_time() -> None:
    """A fresh nonce per wrap (NIST SP 800-38D §8.2.2)."""
    kek = AesGcmKek(os.urandom(32))
    assert await kek.wrap(b"v", label=b"l") != await kek.wrap(b"v", label=b"l")


def test_the_kek_comes_from_the_file_or_the_environment(tmp_path) -> None:
    """Both name the same key the same way; neither gives NoKek."""
    value = new_kek()
    from_file = kek_from_settings(str(private_file(tmp_path, value)), "")
    from_env = kek_from_settings("", value)

    assert 44 == len(value)
    assert from_file.kek_id == from_env.kek_id
    assert value not in from_file.kek_id
    assert isinstance(kek_from_settings("", ""), NoKek)


@pytest.mark.parametrize(
    "value",
    [
        base64.b64encode(os.urandom(16)).decode(),  # too short
        base64.b64encode(os.urandom(33)).decode(),  # too long
        "not base64 at all, not base64 at all, 44 ch",
        "",
    ],
)
def test_a_malformed_kek_is_refused_naming_where_it_came_from(value) -> None:
    """Never quoted back: the message names the setting."""
    with pytest.raises(KekError, match="FDX_KEY_ENCRYPTION_KEY: expected 32 bytes") as caught:
        kek_from_settings("", value or " ")
    assert value.strip() == "" or value not in str(caught.value)


def test_a_kek_file_others_can_read_or_both_settings_are_refused(tmp_path) -> None:
    """A KEK readable by others protects nothing; two KEKs are ambiguous."""
    loose = private_file(tmp_path, new_kek(), 0o640)

    with pytest.raises(KekError, match="group or others"):
        kek_from_settings(str(loose), "")
    with pytest.raises(KekError, match="not both"):
        kek_from_settings(str(loose), new_kek())
    with pytest.raises(KekError, match="cannot read"):
        kek_from_settings(str(tmp_path / "missing"), "")


def test_fdxgw_check_names_a_bad_kek(tmp_path, monkeypatch, capsys) -> None:
    """Caught before any start: the file's mode, the value's length."""
    from gateway.cli import main

    monkeypatch.setenv("FDX_KEY_ENCRYPTION_KEY_FILE", str(private_file(tmp_path, new_kek(), 0o644)))
    loose = main(["check"])
    monkeypatch.setenv("FDX_KEY_ENCRYPTION_KEY_FILE", "")
    monkeypatch.setenv("FDX_KEY_ENCRYPTION_KEY", "short")
    short = main(["check"])
    err = capsys.readouterr().err

    assert (2, 2) == (loose, short)
    assert "group or others" in err
    assert "FDX_KEY_ENCRYPTION_KEY: expected 32 bytes" in err

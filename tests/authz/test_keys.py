"""Signing keys: published before they sign, kept until what they signed has expired, pruned,
refused when others may read them, optionally encrypted at rest (authz/keys.py)."""

from __future__ import annotations

import json
import logging
import os

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from authz import keys as keyring
from authz.keys import KeyFileError, SigningKeys
from authz.tokens import AccessTokens
from gateway.cli import main

T0 = 1_780_000_000.0
HOUR = 3600.0
DAY = 86400.0
PASSPHRASE = b"correct horse battery staple"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def kids(keys: SigningKeys) -> list[str]:
    return [k["kid"] for k in keys.jwks()["keys"]]


def test_first_key_is_created_private_to_its_owner_and_signs_at_once(tmp_path):
    """The first key has no one to be published ahead to: it signs from its creation."""
    clock = Clock()
    keys = SigningKeys.load_or_create(tmp_path / "keys", clock=clock)

    files = list((tmp_path / "keys").glob("signing-*.json"))
    doc = json.loads(files[0].read_text())
    assert 1 == len(files)
    assert 0o600 == files[0].stat().st_mode & 0o777
    assert (keys.kid, T0, T0, None) == (
        doc["kid"],
        doc["created"],
        doc["not_before_signing"],
        doc["retire_after"],
    )


def test_a_rotated_key_is_published_at_once_but_signs_only_after_the_delay(tmp_path):
    """Clients caching the JWKS see the new key before any token is signed with it."""
    clock = Clock()
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=clock)
    old = keys.kid

    new = keyring.rotate(directory, now=clock.now, publish_ahead=HOUR, retention=DAY)
    clock.now += keyring.RELOAD_SECONDS  # the running gateway rescans the folder
    published = kids(keys)
    signing_before = keys.kid
    clock.now = T0 + HOUR
    signing_after = keys.kid

    assert {old, new.kid} == set(published)
    assert (old, new.kid) == (signing_before, signing_after)
    assert keys.current.kid == new.kid


def test_the_replaced_key_stays_published_and_verifies_what_it_signed(tmp_path):
    """A token signed just before the takeover still verifies after it."""
    clock = Clock()
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=clock)
    tokens = AccessTokens(
        keys, issuer="https://as", audience="https://as/fdx/v6", ttl=300, clock=clock
    )
    keyring.rotate(directory, now=clock.now, publish_ahead=HOUR, retention=DAY)
    clock.now = T0 + HOUR - 1
    token, _ = tokens.issue(consent_id="c", client_id="app", sub="s", scope="fdx:accounts")
    clock.now = T0 + HOUR + 200
    fresh = AccessTokens(
        keys, issuer="https://as", audience="https://as/fdx/v6", ttl=300, clock=clock
    )

    claims = fresh.verify(token)

    assert "c" == claims.consent_id
    assert jwt.decode(token, keys.all).header["kid"] != keys.kid


def test_prune_removes_a_key_only_after_its_retire_after(tmp_path):
    """retire_after = takeover + key_retention; prune before it keeps the key."""
    clock = Clock()
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=clock)
    old = keys.kid
    new = keyring.rotate(directory, now=T0, publish_ahead=HOUR, retention=DAY)

    early = keyring.prune(directory, now=T0 + HOUR + DAY - 1)
    late = keyring.prune(directory, now=T0 + HOUR + DAY)
    clock.now = T0 + HOUR + DAY + keyring.RELOAD_SECONDS

    assert [] == early
    assert [old] == [m.kid for m in late]
    assert [new.kid] == kids(keys)


def test_prune_never_removes_the_key_that_signs(tmp_path):
    """Even a signer carrying a past retire_after (a hand-edited file) is kept."""
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=Clock())
    path = directory / f"signing-{keys.kid}.json"
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, "retire_after": T0 - 1}))

    removed = keyring.prune(directory, now=T0 + DAY)

    assert ([], True) == (removed, path.exists())


def test_rotating_twice_hands_over_to_the_newest_key(tmp_path):
    """Each rotation schedules every earlier key's retirement; the newest ready key signs."""
    clock = Clock()
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=clock)
    keyring.rotate(directory, now=T0, publish_ahead=HOUR, retention=DAY)
    third = keyring.rotate(directory, now=T0 + 10, publish_ahead=HOUR, retention=DAY)
    clock.now = T0 + HOUR + 10

    metas = keyring.read_meta(directory)

    assert third.kid == keys.kid
    assert [T0 + HOUR + DAY, T0 + HOUR + 10 + DAY, None] == [m.retire_after for m in metas]


def test_a_key_file_others_can_read_is_refused_naming_the_file(tmp_path):
    """A private key readable by group or others stops start-up with a clear message."""
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=Clock())
    path = directory / f"signing-{keys.kid}.json"
    os.chmod(path, 0o644)

    with pytest.raises(KeyFileError) as caught:
        SigningKeys.load_or_create(directory, clock=Clock())

    assert str(path) in str(caught.value)
    assert "0644" in str(caught.value)


def test_keys_are_encrypted_at_rest_with_the_passphrase(tmp_path):
    """PKCS #8 with BestAvailableEncryption: no private JWK member in the file."""
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=Clock(), passphrase=PASSPHRASE)
    text = next(directory.glob("signing-*.json")).read_text()

    again = SigningKeys.load_or_create(directory, clock=Clock(), passphrase=PASSPHRASE)

    assert "ENCRYPTED PRIVATE KEY" in text
    assert '"d"' not in text
    assert again.jwks() == keys.jwks()
    assert again.ring()[0].encrypted


def test_an_encrypted_key_without_or_with_a_wrong_passphrase_is_refused(tmp_path):
    """The error names the file and never quotes key material."""
    directory = tmp_path / "keys"
    SigningKeys.load_or_create(directory, clock=Clock(), passphrase=PASSPHRASE)

    with pytest.raises(KeyFileError) as missing:
        SigningKeys.load_or_create(directory, clock=Clock())
    with pytest.raises(KeyFileError) as wrong:
        SigningKeys.load_or_create(directory, clock=Clock(), passphrase=b"not the passphrase")

    assert "keys_passphrase_file" in str(missing.value)
    assert "wrong passphrase" in str(wrong.value)
    assert "PRIVATE" not in str(wrong.value)


def test_the_passphrase_file_must_be_private_and_long_enough(tmp_path):
    """A passphrase others can read protects nothing; a short one is guessable."""
    loose = tmp_path / "loose"
    loose.write_bytes(PASSPHRASE + b"\n")
    os.chmod(loose, 0o640)
    short = tmp_path / "short"
    short.write_bytes(b"short\n")
    os.chmod(short, 0o600)
    good = tmp_path / "good"
    good.write_bytes(PASSPHRASE + b"\n")
    os.chmod(good, 0o600)

    with pytest.raises(KeyFileError, match="group or others"):
        keyring.read_passphrase(loose)
    with pytest.raises(KeyFileError, match="at least 12"):
        keyring.read_passphrase(short)
    assert PASSPHRASE == keyring.passphrase_setting(str(good))
    assert keyring.passphrase_setting("") is None


def test_a_first_slice_bare_jwk_file_still_signs_and_gains_metadata_on_rotation(tmp_path):
    """Key files written before rotation existed keep working and are upgraded in place."""
    directory = tmp_path / "keys"
    directory.mkdir()
    legacy = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, private=True)
    legacy.ensure_kid()
    path = directory / f"signing-{legacy.kid}.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(legacy.as_dict(private=True), f)

    keys = SigningKeys.load_or_create(directory, clock=Clock())
    keyring.rotate(directory, now=T0, publish_ahead=HOUR, retention=DAY, passphrase=PASSPHRASE)
    upgraded = json.loads(path.read_text())

    assert legacy.kid == keys.kid
    assert (1, T0 + HOUR + DAY) == (upgraded["format"], upgraded["retire_after"])
    assert "d" not in json.dumps(upgraded.get("jwk", {}))
    assert 0o600 == path.stat().st_mode & 0o777


def test_a_bad_file_appearing_later_keeps_the_running_keys_and_logs_no_key(tmp_path, caplog):
    """A reload failure is logged by file name; the gateway keeps signing with what it had."""
    clock = Clock()
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=clock)
    before = keys.kid
    private_d = json.loads(next(directory.glob("signing-*.json")).read_text())["jwk"]["d"]
    bad = directory / "signing-bad.json"
    bad.write_text("{}")
    os.chmod(bad, 0o644)
    clock.now += keyring.RELOAD_SECONDS

    with caplog.at_level(logging.DEBUG):
        after = keys.kid

    assert before == after
    assert "signing-bad.json" in caplog.text
    assert private_d not in caplog.text


def test_the_clock_set_back_before_every_key_signs_keeps_the_oldest_key(tmp_path):
    """No key is ready: the oldest one signs rather than none."""
    clock = Clock()
    directory = tmp_path / "keys"
    keys = SigningKeys.load_or_create(directory, clock=clock)
    first = keys.kid
    keyring.rotate(directory, now=T0, publish_ahead=HOUR, retention=DAY)
    clock.now = T0 - DAY

    assert first == SigningKeys.load_or_create(directory, clock=clock).kid


def test_fdxgw_keys_rotate_list_and_prune(tmp_path, monkeypatch, capsys):
    """The operator's commands: rotate publishes a pending key; prune keeps unexpired keys."""
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "var"))
    assert 0 == main(["init"])

    rotated = main(["keys", "rotate"])
    listed = main(["keys", "list"])
    pruned = main(["keys", "prune"])
    out = capsys.readouterr().out
    rows = [r for r in out.splitlines() if "  ES256  " in r]

    assert (0, 0, 0) == (rotated, listed, pruned)
    assert 2 == len(rows)
    assert rows[0].rstrip().endswith("yes")
    assert not rows[1].rstrip().endswith("yes")
    assert "0 key(s) removed" in out

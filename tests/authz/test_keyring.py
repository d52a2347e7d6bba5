"""Keys in the record store (authz/keyring.py): sealed at rest by the KEK, refused with a clear
message under another KEK, followed by a running gateway, and moved in from the key files an
earlier release kept under var_dir."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import anyio
import pytest
from cryptography.hazmat.primitives import serialization
from joserfc.jwk import ECKey

from authz import keyring
from authz.kek import AesGcmKek, NoKek, new_kek
from authz.keyfiles import KeyFileError, load_ring, read_passphrase
from authz.keys import SigningKeys
from authz.records import SealedSecret
from authz.store import RecordsUnavailable
from authz.store.memory import MemorySecrets
from authz.tokens import AccessTokens
from gateway.cli import main
from tests.faults.servers import free_port
from tests.multi.processes import ROOT

Completed = subprocess.CompletedProcess[str]
T0 = 1_780_000_000.0
HOUR = 3600.0
PASSPHRASE = b"correct horse battery staple"


def old_key_file(directory: Path, *, passphrase: bytes | None = None, bare: bool = False) -> ECKey:
    """A key file as earlier releases wrote it under ``<var_dir>/keys`` (mode 0600): the
    private JWK in clear, a PKCS #8 PEM under the passphrase, or the first slice's bare JWK."""
    key = ECKey.generate_key("P-256", parameters={"alg": "ES256", "use": "sig"}, private=True)
    key.ensure_kid()
    doc: dict[str, object] = {
        "format": 1,
        "kid": str(key.kid),
        "alg": "ES256",
        "created": T0 - HOUR,
        "not_before_signing": T0 - HOUR,
        "retire_after": None,
    }
    if bare:
        doc = dict(key.as_dict(private=True))
    elif passphrase is not None:
        assert key.private_key is not None
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        doc["pkcs8"] = pem.decode("ascii")
    else:
        doc["jwk"] = key.as_dict(private=True)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / f"signing-{key.kid}.json", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    return key


def old_var_dir(var: Path) -> tuple[list[ECKey], bytes]:
    """A var_dir made the old way: three keys of each format and the session secret file."""
    keys = [
        old_key_file(var / "keys"),
        old_key_file(var / "keys", passphrase=PASSPHRASE),
        old_key_file(var / "keys", bare=True),
    ]
    secret = os.urandom(32)
    fd = os.open(var / "secret.key", os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
    return keys, secret


def configure(monkeypatch, tmp_path: Path, *, var: str = "var", kek: str = "") -> None:
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / var))
    monkeypatch.setenv("FDX_KEY_ENCRYPTION_KEY", kek)


def stored_bytes(tmp_path: Path) -> bytes:
    with sqlite3.connect(tmp_path / "gw.db") as db:
        return b"".join(r[0] for r in db.execute("SELECT sealed FROM secrets"))


def test_with_a_kek_no_private_key_or_secret_is_stored_in_clear(tmp_path, monkeypatch, capsys):
    """The sealed column is AES-GCM output: neither a JWK's ``d`` nor the secret shows."""
    configure(monkeypatch, tmp_path, kek=new_kek())
    assert 0 == main(["init"])

    material = anyio.run(open_with, tmp_path, os.environ["FDX_KEY_ENCRYPTION_KEY"])
    private_d = str(material.ring[0].key.as_dict(private=True)["d"])
    raw = stored_bytes(tmp_path)

    assert base64.urlsafe_b64decode(private_d + "==") not in raw
    assert private_d.encode() not in raw
    assert material.secret not in raw
    assert 0 == main(["keys", "list"])
    assert "  sealed   yes" in capsys.readouterr().out


async def open_with(tmp_path: Path, kek: str) -> keyring.KeyMaterial:
    from authz.store import open_records

    records = open_records(f"sqlite:///{tmp_path}/gw.db")
    try:
        key = AesGcmKek(base64.b64decode(kek)) if kek else NoKek()
        return await keyring.load(records.secrets, key)
    finally:
        await records.aclose()


def test_without_a_kek_the_embedded_database_is_private_to_its_owner(tmp_path, monkeypatch):
    """The keys are then in clear in the SQLite file: only its owner may read it."""
    configure(monkeypatch, tmp_path)
    assert 0 == main(["init"])

    assert 0o600 == (tmp_path / "gw.db").stat().st_mode & 0o777


def test_keys_made_without_a_kek_are_sealed_once_one_is_set(tmp_path, monkeypatch, capsys):
    """``make run`` first, a KEK later: ``fdxgw keys seal`` seals the key and the session
    secret in place; they are the same key and secret, now opened only with the KEK."""
    configure(monkeypatch, tmp_path)
    assert 0 == main(["init"])
    before = anyio.run(open_with, tmp_path, "")
    kek = new_kek()
    monkeypatch.setenv("FDX_KEY_ENCRYPTION_KEY", kek)

    sealed = main(["keys", "seal"])
    again = main(["keys", "seal"])
    after = anyio.run(open_with, tmp_path, kek)
    out = capsys.readouterr().out

    assert (0, 0) == (sealed, again)
    assert "2 record(s) sealed" in out
    assert "0 record(s) sealed" in out
    assert before.secret == after.secret
    assert before.ring[0].key.as_dict(private=True) == after.ring[0].key.as_dict(private=True)
    assert before.secret not in stored_bytes(tmp_path)
    with pytest.raises(keyring.KeyringError, match="this instance has none"):
        anyio.run(open_with, tmp_path, "")


def test_an_instance_whose_kek_cannot_open_the_keys_refuses_to_start(tmp_path, monkeypatch, capsys):
    """Another KEK, or none: ``fdxgw serve`` and ``fdxgw init`` stop with one clear line naming
    the settings, no traceback and no key material."""
    configure(monkeypatch, tmp_path, kek=new_kek())
    assert 0 == main(["init"])
    capsys.readouterr()

    monkeypatch.setenv("FDX_KEY_ENCRYPTION_KEY", new_kek())
    serve = serve_process()
    init = main(["init"])
    monkeypatch.setenv("FDX_KEY_ENCRYPTION_KEY", "")
    unset = serve_process()
    err = capsys.readouterr().err

    assert (2, 2, 2) == (serve.returncode, init, unset.returncode)
    assert "fdxgw: cannot start: the stored keys are sealed by key-encryption key" in serve.stderr
    assert "FDX_KEY_ENCRYPTION_KEY" in serve.stderr
    assert "fdxgw: keys: the stored keys are sealed by key-encryption key" in err
    assert "this instance has none" in unset.stderr
    assert "Traceback" not in serve.stderr + unset.stderr + serve.stdout + unset.stdout
    factory = serve_process(["-m", "uvicorn", "--factory", "gateway.app:from_environment"])
    assert 2 == factory.returncode
    assert "fdxgw: cannot start: the stored keys are sealed" in factory.stderr
    assert "Traceback" not in factory.stderr + factory.stdout


def serve_process(command: Sequence[str] = ("-m", "gateway.cli", "serve")) -> Completed:
    """``fdxgw serve`` in a process of its own (it would configure this one's logging); with
    keys it cannot open it stops before listening, so it returns."""
    port = str(free_port())
    env = {**os.environ, "FDX_PORT": port}
    if "uvicorn" in command:
        command = [*command, "--port", port]
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_malformed_kek_stops_init_naming_the_setting(tmp_path, monkeypatch, capsys):
    """Before anything is written."""
    configure(monkeypatch, tmp_path, kek="too short")

    assert 2 == main(["init"])
    assert "FDX_KEY_ENCRYPTION_KEY: expected 32 bytes" in capsys.readouterr().err


def test_keys_migrate_moves_an_old_var_dir_into_the_store(tmp_path, monkeypatch, capsys):
    """Every key keeps its kid and schedule (tokens it signed still verify); the session secret
    is the file's (sessions survive); encrypted files open with keys_passphrase_file."""
    configure(monkeypatch, tmp_path, var="old", kek=new_kek())
    old, secret = old_var_dir(tmp_path / "old")
    passphrase = tmp_path / "passphrase"
    passphrase.write_bytes(PASSPHRASE)
    os.chmod(passphrase, 0o600)
    monkeypatch.setenv("FDX_KEYS_PASSPHRASE_FILE", str(passphrase))
    issued = AccessTokens(
        SigningKeys(load_ring(tmp_path / "old" / "keys", PASSPHRASE)),
        issuer="https://as",
        audience="https://as/fdx/v6",
        ttl=300,
        clock=time.time,
    ).issue(consent_id="c", client_id="app", sub="s", scope="fdx:accounts")[0]
    assert 0 == main(["db", "migrate"])

    moved = main(["keys", "migrate"])
    again = main(["keys", "migrate"])
    material = anyio.run(open_with, tmp_path, os.environ["FDX_KEY_ENCRYPTION_KEY"])
    verifier = AccessTokens(
        SigningKeys(material.ring),
        issuer="https://as",
        audience="https://as/fdx/v6",
        ttl=300,
        clock=time.time,
    )
    out = capsys.readouterr().out

    assert (0, 0) == (moved, again)
    assert "3 key(s) moved; session secret moved" in out
    assert "0 key(s) moved; session secret left as is" in out
    assert {str(k.kid) for k in old} == {k.meta.kid for k in material.ring}
    assert secret == material.secret
    assert "c" == verifier.verify(issued).consent_id


def test_init_on_an_old_var_dir_moves_its_keys_once_then_var_dir_decides_nothing(
    tmp_path, monkeypatch
):
    """The first start after the upgrade keeps the deployment's keys; afterwards another
    var_dir with other key files changes nothing: the store decides."""
    configure(monkeypatch, tmp_path, var="old")
    (key,), secret = [old_key_file(tmp_path / "old" / "keys")], b"s" * 32
    (tmp_path / "old" / "secret.key").write_bytes(secret)
    assert 0 == main(["init"])
    configure(monkeypatch, tmp_path, var="other")
    old_key_file(tmp_path / "other" / "keys")
    assert 0 == main(["init"])

    material = anyio.run(open_with, tmp_path, "")

    assert [str(key.kid)] == [k.meta.kid for k in material.ring]
    assert secret == material.secret


def test_a_world_readable_old_key_file_is_refused_naming_it(tmp_path, monkeypatch, capsys):
    """As earlier releases did: a private key others may read is not trusted, even to move."""
    configure(monkeypatch, tmp_path, var="old")
    key = old_key_file(tmp_path / "old" / "keys")
    path = tmp_path / "old" / "keys" / f"signing-{key.kid}.json"
    os.chmod(path, 0o644)
    assert 0 == main(["db", "migrate"])

    code = main(["keys", "migrate"])
    err = capsys.readouterr().err

    assert 2 == code
    assert str(path) in err
    assert "chmod 600" in err


@pytest.mark.anyio
async def test_the_reloader_publishes_a_rotation_made_elsewhere() -> None:
    """Another instance rotates: the next reload publishes the pending key here too."""
    store, kek = MemorySecrets(), AesGcmKek(os.urandom(32))
    keys = SigningKeys((await keyring.open_keys(store, kek, now=T0)).ring)
    reloader = keyring.Reloader(keys, store, kek, interval=1)

    new = await keyring.rotate(store, kek, now=T0, publish_ahead=HOUR, retention=HOUR)
    before = {k["kid"] for k in keys.jwks()["keys"]}
    await reloader.reload()

    assert new.kid not in before
    assert new.kid in {k["kid"] for k in keys.jwks()["keys"]}
    assert keys.current_as_stored


def test_old_encrypted_key_files_need_their_private_long_passphrase(tmp_path):
    """Read as earlier releases read them: a passphrase others can read, a short one, a wrong
    or missing one is refused naming the file, never quoting key material."""
    old_key_file(tmp_path / "keys", passphrase=PASSPHRASE)
    loose, short = tmp_path / "loose", tmp_path / "short"
    loose.write_bytes(PASSPHRASE)
    os.chmod(loose, 0o640)
    short.write_bytes(b"short")
    os.chmod(short, 0o600)

    with pytest.raises(KeyFileError, match="group or others"):
        read_passphrase(loose)
    with pytest.raises(KeyFileError, match="at least 12"):
        read_passphrase(short)
    with pytest.raises(KeyFileError, match="keys_passphrase_file"):
        load_ring(tmp_path / "keys", None)
    with pytest.raises(KeyFileError, match="wrong passphrase") as wrong:
        load_ring(tmp_path / "keys", b"not the passphrase")
    assert "PRIVATE" not in str(wrong.value)
    assert load_ring(tmp_path / "keys", PASSPHRASE)[0].meta.encrypted


@pytest.mark.anyio
async def test_a_reload_while_the_store_is_away_keeps_the_ring_and_readiness() -> None:
    """The storage check reports the outage; the keys held are still the store's, so the
    instance is ready again as soon as the store is back, not a reload interval later."""
    store, kek = MemorySecrets(), NoKek()
    keys = SigningKeys((await keyring.open_keys(store, kek, now=T0)).ring)
    kid = keys.kid

    class Away(MemorySecrets):
        async def all(self) -> list[SealedSecret]:
            raise RecordsUnavailable("PostgreSQL at db:5432: cannot connect")

    await keyring.Reloader(keys, Away(), kek, interval=1).reload()

    assert (kid, True) == (keys.kid, keys.current_as_stored)

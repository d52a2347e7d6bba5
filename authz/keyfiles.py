"""Key files as earlier releases kept them, read once to move them into the record store
(``authz.keyring.migrate_files``, ``fdxgw keys migrate``).

One ES256 key a file, ``<var_dir>/keys/signing-<kid>.json``, mode 0600 (refused when group or
others may read it). Each carries, in clear, ``created``, ``not_before_signing`` and
``retire_after``; the private key is a private JWK, or a PKCS #8 PEM encrypted with the
operator's passphrase (``keys_passphrase_file``, ``cryptography``'s
``BestAvailableEncryption``). A bare JWK (no ``format``) is the first release's file: it has
signed since it was written. The session secret was ``<var_dir>/secret.key``, 32 bytes. Errors
name files, never contents.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, Key, KeyParameters

from authz.keys import SIGNING_ALG, KeyMeta, StoredKey, order

PATTERN = "signing-*.json"


class KeyFileError(ValueError):
    """A key file or the passphrase file cannot be used; the message names the file."""


def load_ring(directory: Path, passphrase: bytes | None) -> tuple[StoredKey, ...]:
    """Every key file in ``directory``, oldest first."""
    ring = [_read(path, passphrase) for path in sorted(directory.glob(PATTERN))]
    if not ring:
        raise KeyFileError(f"{directory}: no signing keys")
    return tuple(sorted(ring, key=order))


def passphrase_setting(file: str) -> bytes | None:
    """The passphrase named by the ``keys_passphrase_file`` setting; None when it is empty."""
    return read_passphrase(Path(file)) if file else None


def read_passphrase(path: Path) -> bytes:
    """The passphrase in ``path`` (one line), which only its owner may read."""
    try:
        _check_mode(path)
        value = path.read_bytes().strip()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the keys passphrase ({exc.strerror})") from None
    if len(value) < 12:
        raise KeyFileError(f"{path}: the keys passphrase must be at least 12 characters")
    return value


def _read(path: Path, passphrase: bytes | None) -> StoredKey:
    _check_mode(path)
    doc = _document(path)
    meta = _meta(path, doc)
    params: KeyParameters = {"kid": meta.kid, "alg": SIGNING_ALG, "use": "sig"}
    try:
        if "pkcs8" in doc:
            if passphrase is None:
                raise KeyFileError(f"{path}: the key is encrypted; set keys_passphrase_file")
            private = serialization.load_pem_private_key(
                str(doc["pkcs8"]).encode("ascii"), password=passphrase
            )
            if not isinstance(private, ec.EllipticCurvePrivateKey):
                raise KeyFileError(f"{path}: not an EC private key")
            key: Key = ECKey.import_key(private, parameters=params)
        else:
            key = ECKey.import_key(doc.get("jwk", doc), parameters=params)
    except KeyFileError:
        raise
    except (ValueError, TypeError, KeyError):
        # The message of a failed import may quote key material: name the file only.
        raise KeyFileError(f"{path}: cannot read the private key (wrong passphrase?)") from None
    if not key.is_private:
        raise KeyFileError(f"{path}: holds no private key")
    return StoredKey(meta, key)


def _document(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path}: not a readable key file ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise KeyFileError(f"{path}: not a key file")
    return doc


def _meta(path: Path, doc: dict[str, Any]) -> KeyMeta:
    if "format" not in doc:  # the first slice's bare JWK: signs since it was written
        kid = str(doc.get("kid") or path.stem.removeprefix("signing-"))
        return KeyMeta(kid, path.stat().st_mtime, 0.0, None)
    try:
        retire = doc.get("retire_after")
        return KeyMeta(
            kid=str(doc["kid"]),
            created=float(doc["created"]),
            not_before_signing=float(doc["not_before_signing"]),
            retire_after=None if retire is None else float(retire),
            encrypted="pkcs8" in doc,
        )
    except (KeyError, TypeError, ValueError):
        raise KeyFileError(f"{path}: key metadata missing or malformed") from None


def _check_mode(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyFileError(
            f"{path}: readable or writable by group or others (mode {mode:04o});"
            " run chmod 600 on it"
        )

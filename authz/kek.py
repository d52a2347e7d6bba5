"""The key-encryption key (KEK) that seals signing keys and the session secret at rest.

``Kek`` is the seam: ``wrap`` and ``unwrap`` a small secret, bound to a label (the record's id
and use, as AES-GCM associated data, so a sealed value cannot be moved to another record). A KMS
or an HSM implements the same two calls; ``kek_id`` names the key that wrapped a record, so an
instance given another KEK says so instead of failing obscurely.

``AesGcmKek`` ships: 32 random bytes (base64, 44 characters) from ``key_encryption_key_file``
or ``FDX_KEY_ENCRYPTION_KEY``; each value sealed with AES-256-GCM (``cryptography``) under a
fresh 96-bit nonce (NIST SP 800-38D §8.2.2). ``NoKek`` is what runs when none is configured:
values are stored in clear (``kek_id`` "none") and protected by the database's own access
control only (docs/security.md "Secrets at rest").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONE = "none"
_NONCE = 12


class KekError(ValueError):
    """The KEK is missing, malformed, or not the one that sealed a record; never quotes key
    material."""


class Kek(Protocol):
    @property
    def kek_id(self) -> str:
        """Names this key (not secret): stored beside every value it wraps."""

    async def wrap(self, plaintext: bytes, *, label: bytes) -> bytes: ...

    async def unwrap(self, sealed: bytes, *, label: bytes) -> bytes:
        """Raises KekError when ``sealed`` was not wrapped by this key under ``label``."""


class NoKek:
    """No KEK configured: values are kept in clear."""

    kek_id = NONE

    async def wrap(self, plaintext: bytes, *, label: bytes) -> bytes:
        return plaintext

    async def unwrap(self, sealed: bytes, *, label: bytes) -> bytes:
        return sealed


class AesGcmKek:
    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise KekError("the key-encryption key must be 32 bytes")
        self._aead = AESGCM(key)
        # A fingerprint, not the key: a one-way hash under a label of its own.
        self._id = "aes256gcm:" + hashlib.sha256(b"fdxgw-kek-id:" + key).hexdigest()[:16]

    @property
    def kek_id(self) -> str:
        return self._id

    async def wrap(self, plaintext: bytes, *, label: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, label)

    async def unwrap(self, sealed: bytes, *, label: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], label)
        except (InvalidTag, ValueError):
            raise KekError("a stored key does not open with this key-encryption key") from None


def kek_from_settings(file: str, value: str) -> Kek:
    """The KEK named by ``key_encryption_key_file`` or given by ``FDX_KEY_ENCRYPTION_KEY``
    (``value``); ``NoKek`` when neither is set. Raises KekError naming the setting at fault."""
    if file and value:
        raise KekError("set key_encryption_key_file or FDX_KEY_ENCRYPTION_KEY, not both")
    if file:
        path = Path(file)
        try:
            if path.stat().st_mode & 0o077:
                raise KekError(f"{path}: readable by group or others; run chmod 600 on it")
            value = path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise KekError(f"{path}: cannot read the key-encryption key ({exc})") from None
        return AesGcmKek(_decode(value, str(path)))
    if value:
        return AesGcmKek(_decode(value.strip(), "FDX_KEY_ENCRYPTION_KEY"))
    return NoKek()


def new_kek() -> str:
    """A fresh KEK, as the settings take it: 32 random bytes in base64 (44 characters)."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise KekError(f"{where}: expected 32 bytes in base64 (44 characters)") from None
    if len(text) != 44 or len(key) != 32:
        raise KekError(f"{where}: expected 32 bytes in base64 (44 characters)")
    return key

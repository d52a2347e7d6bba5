"""The authorization server's signing keys and the JWKS it publishes, rotated with overlap.

Keys are ES256 (P-256) keys. They live in the record store, shared by every instance, sealed by
the key-encryption key (``authz.keyring``, ``authz.kek``); this module is the ring an instance
holds in memory. Each key carries when it was made (``created``), when it may start signing
(``not_before_signing``) and, once a newer key has been scheduled, when it may be removed
(``retire_after``).

Rotation (``authz.keyring.rotate``, ``fdxgw keys rotate``) never surprises a verifier:

1. the new key is published in the JWKS at once but signs only from ``not_before_signing``
   (``key_publish_ahead`` later), so clients caching the JWKS have fetched it before they meet
   a token it signed;
2. the signer is always the newest key whose ``not_before_signing`` has passed, so every
   instance holding the same ring picks the same signer;
3. a replaced key stays published until ``retire_after`` (``key_retention`` after it stopped
   signing), past the life of anything it signed; then ``fdxgw keys prune`` deletes it.

A running gateway reads the store again every ``key_reload_interval`` seconds
(``authz.keyring.Reloader``) and hands the ring to ``refresh``.

Earlier releases kept one key a file under ``<var_dir>/keys`` (``signing-<kid>.json``, mode
0600, the private key a JWK or a PKCS #8 PEM encrypted with ``keys_passphrase_file``);
``load_ring`` still reads them, for ``fdxgw keys migrate``. Nothing here logs or prints a
private key; errors name files, never contents.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, Key, KeyParameters, KeySet

SIGNING_ALG = "ES256"
PATTERN = "signing-*.json"

Clock = Callable[[], float]


class KeyFileError(ValueError):
    """A key file or the passphrase file cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class KeyMeta:
    """What the operator sees of a key: never private material."""

    kid: str
    created: float
    not_before_signing: float
    retire_after: float | None  # None until a newer key replaces it
    encrypted: bool = False  # sealed by a key-encryption key where it is stored


@dataclass(frozen=True, slots=True)
class StoredKey:
    meta: KeyMeta
    key: Key


class SigningKeys:
    """The published keys and the one that signs now.

    ``kid`` chooses the signer (rescanning the folder when due) and ``current`` is that same
    key, so code that reads ``kid`` then ``current`` always pairs them, even at the instant a
    new key takes over; ``signer()`` returns both at once."""

    def __init__(self, ring: Sequence[StoredKey], *, clock: Clock = time.time) -> None:
        if not ring:
            raise ValueError("a key ring needs at least one key")
        self._ring = tuple(ring)
        self._clock = clock
        self._due = 0.0
        self._signer = self._ring[0]
        self._keyset = KeySet([k.key for k in self._ring])
        self.current_as_stored = True  # False while the store's keys cannot be read (/readyz)
        self._tick()

    def refresh(self, ring: Sequence[StoredKey]) -> None:
        """Hold ``ring`` (every key in the store) from now on; the signer is chosen again."""
        if not ring:
            raise ValueError("a key ring needs at least one key")
        self._ring = tuple(ring)
        self._keyset = KeySet([k.key for k in self._ring])
        self._due = 0.0
        self._tick()

    @property
    def kid(self) -> str:
        self._tick()
        return self._signer.meta.kid

    @property
    def current(self) -> Key:
        """The signer chosen by the last ``kid`` (or ``all``, ``jwks``) read."""
        return self._signer.key

    @property
    def all(self) -> KeySet:
        """Every published key: pending, signing and replaced ones (all verify)."""
        self._tick()
        return self._keyset

    def signer(self) -> tuple[str, Key]:
        self._tick()
        return self._signer.meta.kid, self._signer.key

    def ring(self) -> tuple[KeyMeta, ...]:
        """Every published key's metadata, oldest first."""
        self._tick()
        return tuple(k.meta for k in self._ring)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 §5); private parts never leave."""
        self._tick()
        return {"keys": [_public(k.key) for k in self._ring]}

    @classmethod
    def generate(cls, *, clock: Clock = time.time) -> SigningKeys:
        """An in-memory key that signs at once, for tests."""
        now = clock()
        key = new_key()
        return cls([StoredKey(KeyMeta(str(key.kid), now, now, None), key)], clock=clock)

    # ------------------------------------------------------------------ internals

    def _tick(self) -> None:
        now = self._clock()
        if now < self._due:
            return
        self._signer = _choose_signer(self._ring, now)
        pending = [k.meta.not_before_signing for k in self._ring if k.meta.not_before_signing > now]
        self._due = min(pending, default=float("inf"))


def _choose_signer(ring: Sequence[StoredKey], now: float) -> StoredKey:
    """The newest key allowed to sign; if none is yet (clock set back), the oldest."""
    ready = [k for k in ring if k.meta.not_before_signing <= now]
    if not ready:
        return min(ring, key=_order)
    return max(ready, key=_order)


def _order(k: StoredKey) -> tuple[float, float, str]:
    return (k.meta.not_before_signing, k.meta.created, k.meta.kid)


# ---------------------------------------------------------------------- files of earlier releases


def load_ring(directory: Path, passphrase: bytes | None) -> tuple[StoredKey, ...]:
    """Every key file in ``directory``, oldest first."""
    ring = [_read(path, passphrase) for path in sorted(directory.glob(PATTERN))]
    if not ring:
        raise KeyFileError(f"{directory}: no signing keys")
    return tuple(sorted(ring, key=_order))


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


def new_key() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"alg": SIGNING_ALG, "use": "sig"}, private=True)
    key.ensure_kid()
    return key


def _public(key: Key) -> dict[str, Any]:
    d = dict(key.as_dict(private=False))
    d.setdefault("alg", SIGNING_ALG)
    d.setdefault("use", "sig")
    return d

"""The authorization server's signing keys and the JWKS it publishes, rotated with overlap.

Keys are ES256 (P-256) keys kept one a file under ``<var_dir>/keys`` (``signing-<kid>.json``,
mode 0600, refused at load when group or others may read it). Each file carries, in clear, when
the key was made (``created``), when it may start signing (``not_before_signing``) and, once a
newer key has been scheduled, when it may be removed (``retire_after``); the private key is a
private JWK, or a PKCS #8 PEM encrypted with the operator's passphrase (``cryptography``'s
``BestAvailableEncryption``) when ``keys_passphrase_file`` is set.

Rotation (``rotate``, ``fdxgw keys rotate``) never surprises a verifier:

1. the new key is published in the JWKS at once but signs only from ``not_before_signing``
   (``key_publish_ahead`` later), so clients caching the JWKS have fetched it before they meet
   a token it signed;
2. the signer is always the newest key whose ``not_before_signing`` has passed;
3. a replaced key stays published until ``retire_after`` (``key_retention`` after it stopped
   signing), past the life of anything it signed; then ``prune`` (``fdxgw keys prune``)
   deletes it.

A running gateway rescans the folder every ``RELOAD_SECONDS`` (and at a pending key's
``not_before_signing``), so a key added by the command line is published without a restart.
Nothing here logs or prints a private key; errors name files, never contents.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey, Key, KeyParameters, KeySet

SIGNING_ALG = "ES256"
RELOAD_SECONDS = 30.0  # how stale a running gateway's view of the keys folder may be
PATTERN = "signing-*.json"
FORMAT = 1  # of the key file; a bare JWK (no "format") is the first slice's file, still read

Clock = Callable[[], float]
log = logging.getLogger("authz.keys")


class KeyFileError(ValueError):
    """A key file or the passphrase file cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class KeyMeta:
    """What the operator sees of a key: never private material."""

    kid: str
    created: float
    not_before_signing: float
    retire_after: float | None  # None until a newer key replaces it
    encrypted: bool = False


@dataclass(frozen=True, slots=True)
class StoredKey:
    meta: KeyMeta
    key: Key
    path: Path | None = None
    stamp: tuple[int, int] | None = None  # the file's (mtime_ns, size) when it was read


class SigningKeys:
    """The published keys and the one that signs now.

    ``kid`` chooses the signer (rescanning the folder when due) and ``current`` is that same
    key, so code that reads ``kid`` then ``current`` always pairs them, even at the instant a
    new key takes over; ``signer()`` returns both at once."""

    def __init__(
        self,
        ring: Sequence[StoredKey],
        *,
        directory: Path | None = None,
        clock: Clock = time.time,
        passphrase: bytes | None = None,
    ) -> None:
        if not ring:
            raise ValueError("a key ring needs at least one key")
        self._ring = tuple(ring)
        self._directory = directory
        self._clock = clock
        self._passphrase = passphrase
        self._due = 0.0
        self._signer = self._ring[0]
        self._keyset = KeySet([k.key for k in self._ring])
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
        key = _new_key()
        return cls([StoredKey(KeyMeta(str(key.kid), now, now, None), key)], clock=clock)

    @classmethod
    def load_or_create(
        cls, directory: Path, *, clock: Clock = time.time, passphrase: bytes | None = None
    ) -> SigningKeys:
        """The folder's keys; a first key, signing at once, when it has none (nobody can have
        cached a JWKS that did not exist). Raises ``KeyFileError`` naming a bad file."""
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not any(directory.glob(PATTERN)):
            now = clock()
            _write(directory, _new_key(), created=now, not_before=now, passphrase=passphrase)
        return cls(
            load_ring(directory, passphrase),
            directory=directory,
            clock=clock,
            passphrase=passphrase,
        )

    # ------------------------------------------------------------------ internals

    def _tick(self) -> None:
        now = self._clock()
        if now < self._due:
            return
        if self._directory is not None:
            try:
                self._ring = load_ring(self._directory, self._passphrase, previous=self._ring)
            except (KeyFileError, OSError) as exc:
                # Keep serving with the keys already loaded; the operator sees why.
                log.error("keys.reload_failed error=%s", exc)
            self._keyset = KeySet([k.key for k in self._ring])
        self._signer = _choose_signer(self._ring, now)
        pending = [k.meta.not_before_signing for k in self._ring if k.meta.not_before_signing > now]
        self._due = min([now + RELOAD_SECONDS, *pending])


def _choose_signer(ring: Sequence[StoredKey], now: float) -> StoredKey:
    """The newest key allowed to sign; if none is yet (clock set back), the oldest."""
    ready = [k for k in ring if k.meta.not_before_signing <= now]
    if not ready:
        return min(ring, key=_order)
    return max(ready, key=_order)


def _order(k: StoredKey) -> tuple[float, float, str]:
    return (k.meta.not_before_signing, k.meta.created, k.meta.kid)


# ---------------------------------------------------------------------- files


def load_ring(
    directory: Path, passphrase: bytes | None, *, previous: Sequence[StoredKey] = ()
) -> tuple[StoredKey, ...]:
    """Every key file in ``directory``, oldest first. A file already loaded (same path, size and
    mtime) is reused rather than decrypted again."""
    known = {(k.path, k.stamp): k for k in previous if k.path is not None}
    ring: list[StoredKey] = []
    for path in sorted(directory.glob(PATTERN)):
        stamp = _stamp(path)
        cached = known.get((path, stamp))
        ring.append(cached if cached is not None else _read(path, passphrase))
    if not ring:
        raise KeyFileError(f"{directory}: no signing keys (run fdxgw init)")
    return tuple(sorted(ring, key=_order))


def read_meta(directory: Path) -> list[KeyMeta]:
    """The metadata of every key file, oldest first, without touching private material."""
    metas = [_meta(path, _document(path)) for path in sorted(directory.glob(PATTERN))]
    return sorted(metas, key=lambda m: (m.not_before_signing, m.created, m.kid))


def rotate(
    directory: Path,
    *,
    now: float,
    publish_ahead: float,
    retention: float,
    passphrase: bytes | None = None,
) -> KeyMeta:
    """Add a key that signs from ``now + publish_ahead`` and schedule every key without a
    ``retire_after`` to retire ``retention`` after the new one takes over."""
    if not any(directory.glob(PATTERN)):
        raise KeyFileError(f"{directory}: no signing keys to rotate (run fdxgw init)")
    takeover = now + publish_ahead
    for path in sorted(directory.glob(PATTERN)):
        _check_mode(path)
        doc = _document(path)
        meta = _meta(path, doc)
        if meta.retire_after is None:
            _rewrite(path, doc, meta, retire_after=takeover + retention, passphrase=passphrase)
    path = _write(directory, _new_key(), created=now, not_before=takeover, passphrase=passphrase)
    return _meta(path, _document(path))


def prune(directory: Path, *, now: float) -> list[KeyMeta]:
    """Delete the keys whose ``retire_after`` has passed; never the newest signing key."""
    metas = read_meta(directory)
    ready = [m for m in metas if m.not_before_signing <= now]
    keep = max(ready, key=lambda m: (m.not_before_signing, m.created, m.kid)) if ready else None
    removed = []
    for meta in metas:
        if meta.retire_after is not None and meta.retire_after <= now and meta != keep:
            (directory / f"signing-{meta.kid}.json").unlink(missing_ok=True)
            removed.append(meta)
    return removed


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
    stamp = _stamp(path)
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
    return StoredKey(meta, key, path, stamp)


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


def _stamp(path: Path | None) -> tuple[int, int] | None:
    if path is None:
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _new_key() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"alg": SIGNING_ALG, "use": "sig"}, private=True)
    key.ensure_kid()
    return key


def _write(
    directory: Path, key: ECKey, *, created: float, not_before: float, passphrase: bytes | None
) -> Path:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "kid": str(key.kid),
        "alg": SIGNING_ALG,
        "created": created,
        "not_before_signing": not_before,
        "retire_after": None,
        **_private_part(key, passphrase),
    }
    path = directory / f"signing-{key.kid}.json"
    _atomic_write(path, doc, exclusive=True)
    return path


def _rewrite(
    path: Path,
    doc: dict[str, Any],
    meta: KeyMeta,
    *,
    retire_after: float,
    passphrase: bytes | None,
) -> None:
    """The same key with ``retire_after`` set; a first-slice bare JWK gains the metadata (and
    encryption, when a passphrase is configured) on the way."""
    if "format" in doc:
        new = {**doc, "retire_after": retire_after}
    else:
        key = ECKey.import_key(doc, parameters={"kid": meta.kid})
        new = {
            "format": FORMAT,
            "kid": meta.kid,
            "alg": SIGNING_ALG,
            "created": meta.created,
            "not_before_signing": meta.not_before_signing,
            "retire_after": retire_after,
            **_private_part(key, passphrase),
        }
    _atomic_write(path, new, exclusive=False)


def _private_part(key: ECKey, passphrase: bytes | None) -> dict[str, Any]:
    if passphrase is None:
        return {"jwk": key.as_dict(private=True)}
    private = key.private_key
    assert private is not None  # only private keys are written
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    return {"pkcs8": pem.decode("ascii")}


def _atomic_write(path: Path, doc: dict[str, Any], *, exclusive: bool) -> None:
    """Written to a temporary 0600 file then renamed: a reader never sees half a key, and the
    private key is never readable by others, even for an instant."""
    if exclusive and path.exists():
        raise KeyFileError(f"{path}: already exists")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _public(key: Key) -> dict[str, Any]:
    d = dict(key.as_dict(private=False))
    d.setdefault("alg", SIGNING_ALG)
    d.setdefault("use", "sig")
    return d

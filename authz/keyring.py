"""The signing keys and the session secret as the record store keeps them, for every instance.

Every instance on one database reads the same records (``Records.secrets``), so each publishes
the same JWKS, accepts the others' tokens and signs with the same key, whatever its ``var_dir``.
Private parts are sealed by the key-encryption key (``authz.kek``) before they reach the store
and opened only in memory; the schedule (created, signs from, retires) is kept in clear, so
``fdxgw keys list`` and ``prune`` never open a key.

``Reloader`` reads the store every ``key_reload_interval`` seconds: a rotation made through any
instance (or the command line) is published, and then used, by all within that bound. A record
this instance's KEK cannot open stops the reload (the ring it holds stays) and marks the ring
not current, which ``/readyz`` reports.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
from joserfc.jwk import ECKey, KeyParameters

from authz.kek import NONE, Kek, KekError
from authz.keyfiles import load_ring
from authz.keys import SIGNING_ALG, KeyMeta, SigningKeys, StoredKey, new_key
from authz.records import SealedSecret
from authz.store.base import Secrets

SIG = "sig"
SESSION = "session"  # the session secret's id and use
log = logging.getLogger("authz.keyring")


class KeyringError(ValueError):
    """The stored keys cannot be used here; the message says why and what to run."""


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    ring: tuple[StoredKey, ...]
    secret: bytes  # signs session cookies and CSRF values, keys pairwise subjects


async def open_keys(
    store: Secrets,
    kek: Kek,
    *,
    now: float,
    legacy: Path | None = None,
    passphrase: bytes | None = None,
) -> KeyMaterial:
    """The stored keys, made first if the store has none: from the key files of an earlier
    release under ``legacy`` (``<var_dir>``) when there are some, else new ones signing at once
    (nobody can have cached a JWKS that did not exist). Instances starting together keep one."""
    stored = await store.all()
    if legacy is not None and not any(s.use == SIG for s in stored):
        await migrate_files(store, kek, legacy, passphrase)
        stored = await store.all()
    if not any(s.use == SIG for s in stored):
        await store.add(await _seal_key(kek, new_key(), now, now), first=True)
    if not any(s.use == SESSION for s in stored):
        await store.add(await _seal_secret(kek, secrets.token_bytes(32), now), first=True)
    return await load(store, kek)


async def load(store: Secrets, kek: Kek) -> KeyMaterial:
    """Every stored key, opened; KeyringError when one cannot be."""
    stored = await store.all()
    ring = tuple([await _open_key(kek, s) for s in stored if s.use == SIG])
    secret = [s for s in stored if s.use == SESSION]
    if not ring or not secret:
        raise KeyringError("no signing keys in the record store (run fdxgw init)")
    return KeyMaterial(ring, await _open(kek, secret[0]))


def schedule(stored: Sequence[SealedSecret]) -> list[KeyMeta]:
    """The signing keys' metadata, oldest first, without opening any."""
    metas = [_meta(s) for s in stored if s.use == SIG]
    return sorted(metas, key=lambda m: (m.not_before_signing, m.created, m.kid))


async def rotate(
    store: Secrets, kek: Kek, *, now: float, publish_ahead: float, retention: float
) -> KeyMeta:
    """Add a key that signs from ``now + publish_ahead`` and schedule every key without a
    ``retire_after`` to retire ``retention`` after the new one takes over."""
    if not schedule(await store.all()):
        raise KeyringError("no signing keys to rotate (run fdxgw init)")
    takeover = now + publish_ahead
    sealed = await _seal_key(kek, new_key(), now, takeover)
    await store.rotate(sealed, retire_after=takeover + retention)
    return _meta(sealed)


async def prune(store: Secrets, *, now: float) -> list[KeyMeta]:
    """Delete the keys whose ``retire_after`` has passed; never the newest signing key."""
    metas = schedule(await store.all())
    ready = [m for m in metas if m.not_before_signing <= now]
    keep = ready[-1] if ready else None
    gone = [m for m in metas if m.retire_after is not None and m.retire_after <= now]
    gone = [m for m in gone if m != keep]
    await store.remove([m.kid for m in gone])
    return gone


async def migrate_files(
    store: Secrets, kek: Kek, var_dir: Path, passphrase: bytes | None
) -> tuple[list[str], bool]:
    """Copy an earlier release's ``<var_dir>/keys/signing-*.json`` and ``<var_dir>/secret.key``
    into the store, sealed, keeping each key's kid and schedule: tokens they signed still
    verify and sessions survive. Keys already stored are left alone; the files are not deleted.
    Returns the kids copied and whether the session secret was."""
    copied: list[str] = []
    directory = var_dir / "keys"
    if directory.is_dir() and any(directory.glob("signing-*.json")):
        for key in load_ring(directory, passphrase):
            m = key.meta
            if not isinstance(key.key, ECKey):
                raise KeyringError(f"{directory}: {m.kid} is not an EC key")
            sealed = await _seal_key(kek, key.key, m.created, m.not_before_signing, m.retire_after)
            if await store.add(sealed):
                copied.append(m.kid)
    secret_file = var_dir / "secret.key"
    secret = False
    if secret_file.is_file():
        value = secret_file.read_bytes()
        if len(value) < 32:
            raise KeyringError(f"{secret_file}: session secret is shorter than 32 bytes")
        created = secret_file.stat().st_mtime
        secret = await store.add(await _seal_secret(kek, value, created), first=True)
    return copied, secret


async def seal(store: Secrets, kek: Kek) -> list[str]:
    """Seal under ``kek`` every record stored in clear (made before a KEK was configured);
    returns their ids. Records sealed by another KEK are left alone."""
    if kek.kek_id == NONE:
        raise KeyringError("no key-encryption key configured: nothing to seal with")
    done = []
    for s in await store.all():
        if s.kek == NONE:
            sealed = await kek.wrap(s.sealed, label=_label(s.id, s.use))
            await store.reseal(replace(s, kek=kek.kek_id, sealed=sealed))
            done.append(s.id)
    return done


class Reloader:
    """Reads the store every ``interval`` seconds into ``keys`` while ``running``."""

    def __init__(self, keys: SigningKeys, store: Secrets, kek: Kek, *, interval: float) -> None:
        self.keys, self.store, self.kek, self.interval = keys, store, kek, interval

    async def reload(self) -> None:
        """Keep serving with the ring held when the read fails. A key this KEK cannot open
        marks the ring not current (/readyz); the store away does not, since the storage check
        already says so and the keys held are still the store's as last seen."""
        try:
            material = await load(self.store, self.kek)
        except KeyringError as exc:
            self.keys.current_as_stored = False
            log.error("keys.reload_failed error=%s", exc)
            return
        except Exception as exc:  # RecordsUnavailable and the like: the next reload retries
            log.warning("keys.reload_failed %s", type(exc).__name__)
            return
        self.keys.refresh(material.ring)
        self.keys.current_as_stored = True

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(self.interval)
                await self.reload()

        task = asyncio.create_task(loop(), name="keys-reload")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# ---------------------------------------------------------------------- sealing


def _label(record_id: str, use: str) -> bytes:
    return f"fdxgw:{use}:{record_id}".encode()


async def _seal_key(
    kek: Kek, key: ECKey, created: float, not_before: float, retire_after: float | None = None
) -> SealedSecret:
    kid = str(key.kid)
    plain = orjson.dumps(key.as_dict(private=True))
    sealed = await kek.wrap(plain, label=_label(kid, SIG))
    return SealedSecret(kid, SIG, created, not_before, retire_after, kek.kek_id, sealed)


async def _seal_secret(kek: Kek, value: bytes, created: float) -> SealedSecret:
    sealed = await kek.wrap(value, label=_label(SESSION, SESSION))
    return SealedSecret(SESSION, SESSION, created, created, None, kek.kek_id, sealed)


async def _open(kek: Kek, s: SealedSecret) -> bytes:
    if s.kek == NONE:
        return s.sealed  # stored in clear (no KEK when it was made)
    if s.kek != kek.kek_id:
        raise KeyringError(
            f"the stored keys are sealed by key-encryption key {s.kek}; this instance has"
            f" {kek.kek_id} (check key_encryption_key_file or FDX_KEY_ENCRYPTION_KEY)"
        )
    try:
        return await kek.unwrap(s.sealed, label=_label(s.id, s.use))
    except KekError:
        raise KeyringError(
            f"stored key {s.id} does not open with key-encryption key {kek.kek_id}"
            " (altered in the database, or sealed by another key)"
        ) from None


async def _open_key(kek: Kek, s: SealedSecret) -> StoredKey:
    params: KeyParameters = {"kid": s.id, "alg": SIGNING_ALG, "use": "sig"}
    plain = await _open(kek, s)
    try:
        key = ECKey.import_key(orjson.loads(plain), parameters=params)
    except (ValueError, TypeError, KeyError):
        raise KeyringError(f"stored key {s.id} is not a private EC key") from None
    if not key.is_private:
        raise KeyringError(f"stored key {s.id} is not a private EC key")
    return StoredKey(_meta(s), key)


def _meta(s: SealedSecret) -> KeyMeta:
    return KeyMeta(s.id, s.created, s.not_before, s.retire_after, encrypted=s.kek != NONE)

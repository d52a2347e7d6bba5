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

Earlier releases kept the keys in files under ``var_dir``; ``authz.keyfiles`` reads them once,
for ``fdxgw keys migrate``. Nothing here logs or prints a private key.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc.jwk import ECKey, Key, KeySet

SIGNING_ALG = "ES256"

Clock = Callable[[], float]


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
        return min(ring, key=order)
    return max(ready, key=order)


def order(k: StoredKey) -> tuple[float, float, str]:
    return (k.meta.not_before_signing, k.meta.created, k.meta.kid)


def new_key() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"alg": SIGNING_ALG, "use": "sig"}, private=True)
    key.ensure_kid()
    return key


def _public(key: Key) -> dict[str, Any]:
    d = dict(key.as_dict(private=False))
    d.setdefault("alg", SIGNING_ALG)
    d.setdefault("use", "sig")
    return d

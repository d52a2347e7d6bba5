"""The authorization server's signing keys and the JWKS it publishes.

Keys are ES256 (P-256) JWKs kept as files under ``<var_dir>/keys`` with mode 0600, created on
first use. The newest key signs; every key in the folder is published and verifies, so a new key
can be added before it signs and an old one kept until its tokens have expired.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, Key, KeySet

SIGNING_ALG = "ES256"


@dataclass(frozen=True, slots=True, eq=False)
class SigningKeys:
    current: Key  # signs
    all: KeySet  # verifies (current included)

    @property
    def kid(self) -> str:
        return str(self.current.kid)

    def jwks(self) -> dict[str, Any]:
        """The public JWK Set (RFC 7517 §5); private parts never leave."""
        return {"keys": [_public(k) for k in self.all.keys]}

    @classmethod
    def generate(cls) -> SigningKeys:
        """An in-memory key, for tests."""
        key = _new_key()
        return cls(current=key, all=KeySet([key]))

    @classmethod
    def load_or_create(cls, directory: Path) -> SigningKeys:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        files = sorted(directory.glob("signing-*.json"), key=lambda p: (p.stat().st_mtime, p.name))
        if not files:
            files = [_write_new(directory)]
        keys: list[Key] = [
            ECKey.import_key(json.loads(p.read_text(encoding="utf-8"))) for p in files
        ]
        return cls(current=keys[-1], all=KeySet(keys))


def _new_key() -> ECKey:
    key = ECKey.generate_key("P-256", parameters={"alg": SIGNING_ALG, "use": "sig"}, private=True)
    key.ensure_kid()
    return key


def _write_new(directory: Path) -> Path:
    key = _new_key()
    path = directory / f"signing-{key.kid}.json"
    # O_EXCL + 0600: the private key is never readable by others, even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(key.as_dict(private=True), f)
    return path


def _public(key: Key) -> dict[str, Any]:
    d = dict(key.as_dict(private=False))
    d.setdefault("alg", SIGNING_ALG)
    d.setdefault("use", "sig")
    return d

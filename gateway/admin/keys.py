"""The authorization server's signing keys as an operator sees them: kid, created, which signs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from authz.keys import SigningKeys


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: str
    alg: str
    created: float | None  # the key file's mtime; None for a key held only in memory
    signing: bool

    def to_dict(self) -> dict[str, Any]:
        created = None
        if self.created is not None:
            created = datetime.fromtimestamp(self.created, UTC).isoformat(timespec="seconds")
        return {"kid": self.kid, "alg": self.alg, "created": created, "signing": self.signing}


def list_keys(keys: SigningKeys, directory: Path | None = None) -> list[KeyInfo]:
    """Every published key, oldest first; ``directory`` (``<var_dir>/keys``) dates them.
    Public parts only: nothing here reads or returns a private key."""
    out = []
    for jwk in keys.jwks()["keys"]:
        kid = str(jwk.get("kid", ""))
        created = None
        if directory is not None:
            path = directory / f"signing-{kid}.json"
            if path.is_file():
                created = path.stat().st_mtime
        out.append(KeyInfo(kid, str(jwk.get("alg", "")), created, kid == keys.kid))
    return sorted(out, key=lambda k: (k.created or 0.0, not k.signing))

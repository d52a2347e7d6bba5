"""The authorization server's signing keys as an operator sees them: kid, created, when each
signs and retires, which one signs now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authz.keys import SIGNING_ALG, SigningKeys


@dataclass(frozen=True, slots=True)
class KeyInfo:
    kid: str
    alg: str
    created: float | None
    signing: bool
    not_before_signing: float | None = None
    retire_after: float | None = None  # None while no newer key replaces it

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "alg": self.alg,
            "created": _iso(self.created),
            "signing": self.signing,
            "not_before_signing": _iso(self.not_before_signing),
            "retire_after": _iso(self.retire_after),
        }


def list_keys(keys: SigningKeys) -> list[KeyInfo]:
    """Every published key, oldest first, as this instance holds them. Public parts only:
    nothing here reads or returns a private key."""
    signer = keys.kid
    return [
        KeyInfo(
            m.kid, SIGNING_ALG, m.created, m.kid == signer, m.not_before_signing, m.retire_after
        )
        for m in keys.ring()
    ]


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")

"""Signing keys and the session secret in a dict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from authz.records import SealedSecret


class MemorySecrets:
    def __init__(self) -> None:
        self._rows: dict[str, SealedSecret] = {}

    async def all(self) -> list[SealedSecret]:
        return sorted(self._rows.values(), key=lambda s: (s.created, s.id))

    async def add(self, secret: SealedSecret, *, first: bool = False) -> bool:
        taken = secret.id in self._rows
        if taken or (first and any(s.use == secret.use for s in self._rows.values())):
            return False
        self._rows[secret.id] = secret
        return True

    async def rotate(self, key: SealedSecret, *, retire_after: float) -> None:
        if key.id in self._rows:
            raise ValueError("a secret with this id exists")
        for s in list(self._rows.values()):
            if s.use == "sig" and s.retire_after is None:
                self._rows[s.id] = replace(s, retire_after=retire_after)
        self._rows[key.id] = key

    async def reseal(self, secret: SealedSecret) -> None:
        stored = self._rows.get(secret.id)
        if stored is not None:
            self._rows[secret.id] = replace(stored, kek=secret.kek, sealed=secret.sealed)

    async def remove(self, ids: Sequence[str]) -> None:
        for i in ids:
            self._rows.pop(i, None)

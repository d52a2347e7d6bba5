"""The sign-in throttle shared by every form that checks a consumer's credentials (the consent
screen's and the portal's), OWASP ASVS V2.2.1.

Failures are counted under three keys, each in a fixed window of ``WINDOW`` seconds:

- the (user ID, address) pair: ``PAIR_FAILURES`` lock that pair. This is the throttle a
  guesser meets, and the only one that can be reached from one address with one user ID, so
  knowing a user ID does not let anyone lock its owner out of signing in elsewhere (and out of
  ending a consent in the portal);
- the user ID across every address: ``USER_FAILURES``, well above the pair's, lock the user ID,
  so a guesser spread over many addresses still gets few tries. The lock lasts ``WINDOW``, no
  longer than the pair's;
- the address across every user ID: ``per_address`` (the ``login_failures_per_address``
  setting) lock the address, so one address cannot try a few passwords on many user IDs.

A locked key refuses every attempt, the right password included, until its window ends;
except that the user ID's all-address lock does not apply to a browser that signed in as that
user ID before (the "known device" cookie, ``authz.screens.known_device``): strangers spread
over many addresses could otherwise renew it for ever and keep the owner out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from authz.store.base import Kind, StateStore

PAIR_FAILURES = 5
USER_FAILURES = 20
WINDOW = 900  # seconds


class TooManyAttempts(Exception):
    """The user ID, the address, or the two together are locked for the rest of the window."""


@dataclass(frozen=True, slots=True)
class SignInThrottle:
    state: StateStore
    per_address: int

    async def check(self, user_id: str, address: str | None, *, known: bool = False) -> None:
        """Raise ``TooManyAttempts`` while any key of this attempt is locked. ``known``: the
        browser signed in as this user ID before (``authz.screens.known_device``), so the user
        ID's all-address lock, which strangers can renew, does not apply to it."""
        keys = self._keys(user_id, address)
        if known:
            del keys[1]
        for kind, key in keys:
            if await self.state.get(kind, "lock " + key) is not None:
                raise TooManyAttempts(user_id)

    async def failed(self, user_id: str, address: str | None) -> None:
        """Count one failure under every key of this attempt, locking those at their limit."""
        limits = (PAIR_FAILURES, USER_FAILURES, self.per_address)
        for (kind, key), limit in zip(self._keys(user_id, address), limits, strict=False):
            if await self.state.incr(kind, key, ttl=WINDOW) >= limit:
                await self.state.put(kind, "lock " + key, {}, ttl=WINDOW)

    async def succeeded(self, user_id: str, address: str | None) -> None:
        """The owner got in from here: this pair's failures are forgotten (the others are not,
        or a guesser could reset them by signing in to an account of their own)."""
        pair = self._keys(user_id, address)[0]
        await self.state.delete(*pair)

    @staticmethod
    def _keys(user_id: str, address: str | None) -> list[tuple[Kind, str]]:
        """(pair, user, address); without an address, the pair is the user ID alone."""
        user = user_id.lower()
        keys = [
            (Kind.LOGIN_FAILURES, "pair " + json.dumps([user, address or ""])),
            (Kind.LOGIN_FAILURES, "user " + json.dumps(user)),
        ]
        if address:
            # Address counters live under Kind.RATE, where no user ID can name them.
            keys.append((Kind.RATE, "login:" + address))
        return keys

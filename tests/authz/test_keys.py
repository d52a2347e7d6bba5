"""Signing keys: published before they sign, kept until what they signed has expired, pruned
(authz/keys.py, authz/keyring.py), over the in-memory store."""

from __future__ import annotations

from dataclasses import replace

import pytest
from joserfc import jwt

from authz import keyring
from authz.kek import NoKek
from authz.keys import SigningKeys
from authz.store.memory import MemorySecrets
from authz.tokens import AccessTokens
from gateway.cli import main

pytestmark = pytest.mark.anyio

T0 = 1_780_000_000.0
HOUR = 3600.0
DAY = 86400.0


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def kids(keys: SigningKeys) -> list[str]:
    return [k["kid"] for k in keys.jwks()["keys"]]


async def ring(store: MemorySecrets, clock: Clock) -> SigningKeys:
    """What a gateway holds after reading the store."""
    material = await keyring.open_keys(store, NoKek(), now=clock.now)
    return SigningKeys(material.ring, clock=clock)


async def refresh(keys: SigningKeys, store: MemorySecrets) -> None:
    keys.refresh((await keyring.load(store, NoKek())).ring)


async def test_the_first_key_signs_at_once_and_a_session_secret_is_made_with_it() -> None:
    """The first key has no one to be published ahead to: it signs from its creation."""
    store, clock = MemorySecrets(), Clock()
    material = await keyring.open_keys(store, NoKek(), now=T0)
    again = await keyring.open_keys(store, NoKek(), now=T0 + 5)

    (meta,) = keyring.schedule(await store.all())
    assert (T0, T0, None) == (meta.created, meta.not_before_signing, meta.retire_after)
    assert 32 == len(material.secret)
    assert material == again  # a second start finds them, makes nothing
    assert meta.kid == SigningKeys(material.ring, clock=clock).kid


async def test_a_rotated_key_is_published_at_once_but_signs_only_after_the_delay() -> None:
    """Clients caching the JWKS see the new key before any token is signed with it."""
    store, clock = MemorySecrets(), Clock()
    keys = await ring(store, clock)
    old = keys.kid

    new = await keyring.rotate(store, NoKek(), now=T0, publish_ahead=HOUR, retention=DAY)
    await refresh(keys, store)
    published, signing_before = kids(keys), keys.kid
    clock.now = T0 + HOUR

    assert {old, new.kid} == set(published)
    assert (old, new.kid) == (signing_before, keys.kid)
    assert keys.current.kid == new.kid


async def test_the_replaced_key_stays_published_and_verifies_what_it_signed() -> None:
    """A token signed just before the takeover still verifies after it."""
    store, clock = MemorySecrets(), Clock()
    keys = await ring(store, clock)
    tokens = AccessTokens(
        keys, issuer="https://as", audience="https://as/fdx/v6", ttl=300, clock=clock
    )
    await keyring.rotate(store, NoKek(), now=T0, publish_ahead=HOUR, retention=DAY)
    await refresh(keys, store)
    clock.now = T0 + HOUR - 1
    token, _ = tokens.issue(consent_id="c", client_id="app", sub="s", scope="fdx:accounts")
    clock.now = T0 + HOUR + 200

    claims = tokens.verify(token)

    assert "c" == claims.consent_id
    assert jwt.decode(token, keys.all).header["kid"] != keys.kid


async def test_prune_removes_a_key_only_after_its_retire_after() -> None:
    """retire_after = takeover + key_retention; prune before it keeps the key."""
    store, clock = MemorySecrets(), Clock()
    keys = await ring(store, clock)
    old = keys.kid
    new = await keyring.rotate(store, NoKek(), now=T0, publish_ahead=HOUR, retention=DAY)

    early = await keyring.prune(store, now=T0 + HOUR + DAY - 1)
    late = await keyring.prune(store, now=T0 + HOUR + DAY)
    await refresh(keys, store)

    assert [] == early
    assert [old] == [m.kid for m in late]
    assert [new.kid] == kids(keys)


async def test_prune_never_removes_the_key_that_signs() -> None:
    """Even a signer carrying a past retire_after (an edited record) is kept."""
    store = MemorySecrets()
    await keyring.open_keys(store, NoKek(), now=T0)
    (sig,) = [s for s in await store.all() if s.use == "sig"]
    await store.remove([sig.id])
    await store.add(replace(sig, retire_after=T0 - 1))

    removed = await keyring.prune(store, now=T0 + DAY)

    assert ([], 1) == (removed, len(keyring.schedule(await store.all())))


async def test_rotating_twice_hands_over_to_the_newest_key() -> None:
    """Each rotation schedules every earlier key's retirement; the newest ready key signs."""
    store, clock = MemorySecrets(), Clock()
    keys = await ring(store, clock)
    await keyring.rotate(store, NoKek(), now=T0, publish_ahead=HOUR, retention=DAY)
    third = await keyring.rotate(store, NoKek(), now=T0 + 10, publish_ahead=HOUR, retention=DAY)
    await refresh(keys, store)
    clock.now = T0 + HOUR + 10

    metas = keyring.schedule(await store.all())

    assert third.kid == keys.kid
    assert [T0 + HOUR + DAY, T0 + HOUR + 10 + DAY, None] == [m.retire_after for m in metas]


async def test_rotating_an_empty_store_says_to_run_init() -> None:
    """Nothing to hand over from."""
    with pytest.raises(keyring.KeyringError, match="fdxgw init"):
        await keyring.rotate(MemorySecrets(), NoKek(), now=T0, publish_ahead=0, retention=DAY)


async def test_the_clock_set_back_before_every_key_signs_keeps_the_oldest_key() -> None:
    """No key is ready: the oldest one signs rather than none."""
    store, clock = MemorySecrets(), Clock()
    keys = await ring(store, clock)
    first = keys.kid
    await keyring.rotate(store, NoKek(), now=T0, publish_ahead=HOUR, retention=DAY)
    clock.now = T0 - DAY

    assert first == (await ring(store, clock)).kid


def test_fdxgw_keys_rotate_list_and_prune(tmp_path, monkeypatch, capsys):
    """The operator's commands: rotate publishes a pending key; prune keeps unexpired keys."""
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "var"))
    assert 0 == main(["init"])

    rotated = main(["keys", "rotate"])
    listed = main(["keys", "list"])
    pruned = main(["keys", "prune"])
    out = capsys.readouterr().out
    rows = [r for r in out.splitlines() if "  ES256  " in r]

    assert (0, 0, 0) == (rotated, listed, pruned)
    assert 2 == len(rows)
    assert rows[0].rstrip().endswith("yes")
    assert not rows[1].rstrip().endswith("yes")
    assert "0 key(s) removed" in out
    assert not (tmp_path / "var" / "keys").exists()  # var_dir holds no key any more

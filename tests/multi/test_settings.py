"""The settings that let several gateways (or test runs) share one Redis."""

from __future__ import annotations

import time

import pytest

from authz.store import Kind, open_state
from authz.store.redis import RedisStateStore
from config.settings import Settings, SettingsError


def test_the_redis_prefix_reaches_the_state_store() -> None:
    """Every key of an instance opened with redis_prefix starts with it (no connection made)."""
    settings = Settings(redis_url="redis://127.0.0.1:6379/0", redis_prefix="bank-a:")

    store = open_state(settings.state_url, clock=time.time, prefix=settings.redis_prefix)

    assert isinstance(store, RedisStateStore)
    assert "bank-a:{code:x}" == store.key(Kind.CODE, "x")


@pytest.mark.parametrize("prefix", ["", "a{b}:", "with space:", "x" * 65])
def test_a_prefix_that_would_break_the_layout_is_refused_naming_the_key(prefix: str) -> None:
    """Braces would move the Redis Cluster hash tag; empty would share the default namespace."""
    with pytest.raises(SettingsError, match="redis_prefix"):
        Settings(redis_prefix=prefix)

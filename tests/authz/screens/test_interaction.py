"""A screen in progress: finishing it is one atomic use of the state store, and single."""

from __future__ import annotations

from typing import Any

import pytest

from authz.keys import SigningKeys
from authz.requests import PushedRequest
from authz.screens.interaction import Interactions
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.screens.conftest import (
    CHALLENGE,
    CLIENT_ID,
    CONSENT_REQUEST,
    REDIRECT_URI,
    FakeBank,
    FakeClock,
)

pytestmark = pytest.mark.anyio


class CountingState(MemoryStateStore):
    """The memory state store, noting each call on interactions (one call is one round trip
    to Redis)."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.calls: list[str] = []

    async def consume(self, kind: Kind, key: str, *, at: float | None = None) -> Any:
        self.calls.append("consume")
        return await super().consume(kind, key, at=at)

    async def delete(self, kind: Kind, key: str) -> None:
        self.calls.append("delete")
        await super().delete(kind, key)


async def _started() -> tuple[Interactions, CountingState, Any]:
    clock = FakeClock()
    state = CountingState(clock)
    services = Services.build(
        Settings(),
        policy=load_policy(),
        records=memory_records(clock=clock),
        state=state,
        bank=FakeBank(),
        keys=SigningKeys.generate(),
        secret=b"s" * 32,
        clock=clock,
    )
    pushed = PushedRequest(
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        state="s",
        scope=("fdx:accountbasic:read",),
        code_challenge=CHALLENGE,
        consent=CONSENT_REQUEST,
        created_at=clock(),
    )
    interactions = Interactions(services)
    interaction = await interactions.start(pushed)
    return interactions, state, interaction


async def test_finishing_an_interaction_is_one_atomic_use() -> None:
    """One consume decides it: no delete after it (a round trip the single use never needed)."""
    interactions, state, interaction = await _started()

    assert await interactions.finish(interaction)
    assert ["consume"] == state.calls


async def test_a_finished_interaction_cannot_be_finished_or_loaded_again() -> None:
    """A double submit or a replay gets False, and the screen is gone for the browser."""
    interactions, _, interaction = await _started()
    await interactions.finish(interaction)

    again = await interactions.finish(interaction)

    assert again is False
    assert await interactions.load(interaction.id) is None


async def test_a_sign_in_that_finishes_after_the_decision_does_not_reopen_it() -> None:
    """Signed in twice (a second tab, a slow bank): the later bind lands after the decision
    used the interaction. It must stay used: no second decision, no second code."""
    interactions, _, interaction = await _started()
    first = await interactions.bind(interaction, "customer-1")
    assert (await interactions.load(interaction.id)) == first
    late = await interactions.load(interaction.id)  # the second sign-in loaded it, then waited
    assert late is not None
    assert await interactions.finish(first)

    await interactions.bind(late, "customer-1")

    assert await interactions.load(interaction.id) is None
    assert await interactions.finish(late) is False

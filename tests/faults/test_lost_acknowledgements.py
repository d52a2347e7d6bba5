"""A commit whose acknowledgement is lost: PostgreSQL stored the consent, then the connection
dropped, so the gateway saw ``RecordsUnavailable`` for a write that did happen.

The consent screen reads the consent back (``lifecycle.store_grant``): stored means granted,
so the consumer goes on to the app with a code that works, instead of a "cannot be reached"
page over an ACTIVE consent that its recipient could never use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from authz.consent.model import ConsentStatus
from authz.store.base import Kind, RecordsUnavailable
from tests.faults.test_outage_answers import WorldFactory, world

__all__ = ["world"]  # the fixture, shared with the in-process outage tests

pytestmark = pytest.mark.anyio


def commit_then_fail(write: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def lost(*args: Any, **kwargs: Any) -> Any:
        await write(*args, **kwargs)
        raise RecordsUnavailable("connection lost after COMMIT (test)")

    return lost


async def test_a_granted_consent_whose_commit_answer_was_lost_still_reaches_the_app(
    world: WorldFactory,
) -> None:
    w = await world()
    pushed = await w.driver.par()
    screen = await w.driver.consent_screen(pushed)
    w.memory.consents.create = commit_then_fail(w.memory.consents.create)  # type: ignore[method-assign,assignment]

    answer = await w.driver.approve(screen, pushed)

    code = w.driver.code_from(answer, pushed)  # 303 to the app, state and iss as always
    tokens = await w.driver.token(code, pushed)
    assert 200 == (await w.driver.fdx(tokens)).status_code
    [consent] = await w.memory.consents.find()
    assert ConsentStatus.ACTIVE is consent.status


async def test_a_grant_never_stored_still_leaves_no_code(world: WorldFactory) -> None:
    """The read-back finds nothing: the outage stands and the code is deleted."""
    w = await world()
    pushed = await w.driver.par()
    screen = await w.driver.consent_screen(pushed)
    w.records.failing.add("consents.create")

    answer = await w.driver.approve(screen, pushed)

    assert 503 == answer.status_code
    assert [] == await w.memory.consents.find()
    assert not [k for (kind, k) in w.memory_state._items if kind == Kind.CODE]

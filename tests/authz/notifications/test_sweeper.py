"""The sweeper: one reauthorization notice per authorization, and expiry of unused consents."""

from __future__ import annotations

from typing import Any

import pytest

from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentStatus, DurationType
from authz.notifications import Sweeper
from tests.authz.notifications.conftest import DAY, World

pytestmark = pytest.mark.anyio


async def kinds(world: World, consent_id: str = "c-1") -> list[str]:
    return [d.kind for d in await world.records.outbox.of_consent(consent_id)]


async def test_a_reauthorization_notice_is_sent_once_30_days_ahead(world: World) -> None:
    """Due within 30 days: one CONSENT_UPDATED notice, however many sweeps follow."""
    await world.client(uri="https://app.example/n")
    await world.consent(expires_in=31 * DAY)
    sweeper = world.notifier.sweeper

    early = await sweeper.sweep()
    world.clock.advance(2 * DAY)
    first = await sweeper.sweep()
    again = await sweeper.sweep()

    assert (early.reminded, first.reminded, again.reminded) == (0, 1, 0)
    [notice] = await world.records.outbox.of_consent("c-1")
    assert notice.kind == "reauthorization_due"
    assert notice.notification["type"] == "CONSENT_UPDATED"
    assert (
        notice.notification["notificationPayload"]["customFields"]["name"] == "reauthorizationDue"
    )


async def test_a_renewal_earns_a_new_notice_for_the_next_authorization(world: World) -> None:
    """After a renewal (new expiry) the next due date gets its own notice."""
    await world.client(uri="https://app.example/n")
    await world.consent(expires_in=20 * DAY)
    sweeper = world.notifier.sweeper
    await sweeper.sweep()

    await lifecycle.renew(world.services, "c-1")
    await sweeper.sweep()
    world.clock.advance(340 * DAY)
    await sweeper.sweep()
    await sweeper.sweep()

    assert await kinds(world) == ["reauthorization_due", "renewed", "reauthorization_due"]


async def test_only_persistent_consents_are_reminded(world: World) -> None:
    """A TIME_BOUND consent ending in 10 days ends as agreed: no reauthorization notice."""
    await world.client(uri="https://app.example/n")
    await world.consent(duration=DurationType.TIME_BOUND, expires_in=10 * DAY)

    result = await world.notifier.sweeper.sweep()

    assert result.reminded == 0
    assert await kinds(world) == []


async def test_an_unused_consent_past_its_expiry_is_expired_and_told(world: World) -> None:
    """ACTIVE past expires_at: recorded EXPIRED (by the lifecycle) and an expiry notice queued."""
    await world.client(uri="https://app.example/n")
    await world.consent(duration=DurationType.TIME_BOUND, expires_in=DAY)
    world.clock.advance(DAY)

    first = await world.notifier.sweeper.sweep()
    second = await world.notifier.sweeper.sweep()

    consent = await world.records.consents.get("c-1")
    assert consent is not None
    assert consent.status is ConsentStatus.EXPIRED
    assert (first.expired, second.expired) == (1, 0)
    assert await kinds(world) == ["expired"]
    [event] = [e for e in await world.records.consents.events("c-1") if e.event == "expired"]
    assert event.actor == "DATA_PROVIDER"


async def test_a_sweep_reaches_every_due_consent_beyond_one_batch(world: World) -> None:
    """More due consents than one query returns: every one is expired or reminded, once, even
    when the first rows stay ACTIVE (reminded) and many share one expiry."""
    await world.client(uri="https://app.example/n")
    for n in range(3):
        await world.consent(f"ending-{n}", duration=DurationType.TIME_BOUND, expires_in=DAY)
    for n in range(7):
        await world.consent(f"due-{n}", expires_in=10 * DAY)  # all the same expiry
    world.clock.advance(DAY)
    sweeper = Sweeper(world.services, world.notifier, batch=2)

    first = await sweeper.sweep()
    again = await sweeper.sweep()

    assert (3, 7) == (first.expired, first.reminded)
    assert (0, 0) == (again.expired, again.reminded)
    for n in range(7):
        assert ["reauthorization_due"] == await kinds(world, f"due-{n}")
    for n in range(3):
        assert ["expired"] == await kinds(world, f"ending-{n}")


async def test_a_sweep_reads_each_due_row_once_and_offers_a_reminder_once(world: World) -> None:
    """Keyset pages: 9 due consents in pages of 2 are 9 rows read, not a growing re-read; and
    a reminder already queued is not built and offered to the outbox again by later sweeps."""
    await world.client(uri="https://app.example/n")
    for n in range(9):
        await world.consent(f"due-{n}", expires_in=10 * DAY)
    sweeper = Sweeper(world.services, world.notifier, batch=2)
    rows: list[str] = []
    offered: list[str] = []
    read, offer = world.records.consents.expiring, world.notifier.enqueue

    async def counted_read(before: float, **kwargs: Any) -> list[Consent]:
        page = await read(before, **kwargs)
        rows.extend(c.id for c in page)
        return page

    async def counted_offer(kind: str, consent: Consent, **kwargs: Any) -> bool:
        offered.append(consent.id)
        return await offer(kind, consent, **kwargs)

    world.records.consents.expiring = counted_read  # type: ignore[method-assign]
    world.notifier.enqueue = counted_offer  # type: ignore[method-assign,assignment]

    first = await sweeper.sweep()
    second = await sweeper.sweep()

    assert (9, 0) == (first.reminded, second.reminded)
    assert sorted(rows) == sorted(2 * [f"due-{n}" for n in range(9)]), "each row once a sweep"
    assert sorted(offered) == [f"due-{n}" for n in range(9)], "offered once, not every sweep"


async def test_a_sweeper_needs_a_batch_of_at_least_one(world: World) -> None:
    with pytest.raises(ValueError, match="batch"):
        Sweeper(world.services, world.notifier, batch=0)

"""Notification subscriptions: each is delivered its type through the signed, retried outbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from authz.notifications import targets
from authz.subscriptions import Subscription
from tests.authz.notifications.conftest import NOW, Receiver, World
from tests.authz.notifications.test_delivery import app_jwks, revoke

pytestmark = pytest.mark.anyio

StartReceiver = Callable[..., Receiver]


def _subscription(url: str, kind: str = "CONSENT_REVOKED", n: int = 1) -> Subscription:
    return Subscription(
        id=f"{targets.SUBSCRIPTION_PREFIX}{n:024x}",
        client_id="client-1",
        type=kind,
        category="CONSENT",
        callback_url=url,
        subscriber={"name": "Budget App", "type": "DATA_RECIPIENT"},
        effective_date="2027-01-01",
        created_at=NOW,
    )


async def test_a_subscription_receives_its_type_signed(
    world: World, receiver: StartReceiver
) -> None:
    """Registered URI and a CONSENT_REVOKED subscription: both get the revocation, each its own
    notification id, both verifiable with the gateway's JWKS."""
    registered, subscribed = receiver("/registered"), receiver("/subscribed")
    registered.jwks = subscribed.jwks = app_jwks(world)
    await world.client(uri=registered.url)
    await world.services.subscriptions.create(_subscription(subscribed.url))
    await world.consent()

    await revoke(world)
    await world.notifier.worker.run_once()

    [told] = subscribed.received
    assert "CONSENT_REVOKED" == told.claims["type"]
    assert "c-1" == told.claims["notificationPayload"]["id"]
    assert 1 == len(registered.received)
    assert told.claims["jti"] != registered.received[0].claims["jti"]


async def test_a_subscription_of_another_type_is_not_told(
    world: World, receiver: StartReceiver
) -> None:
    """A CONSENT_UPDATED subscription hears nothing of a revocation."""
    subscribed = receiver()
    subscribed.jwks = app_jwks(world)
    await world.client()  # no registered URI: the subscription is the only way in
    await world.services.subscriptions.create(_subscription(subscribed.url, "CONSENT_UPDATED"))
    await world.consent()

    await revoke(world)
    await world.notifier.worker.run_once()

    assert [] == subscribed.received
    assert [] == await world.records.outbox.of_consent("c-1")


async def test_a_subscription_alone_is_enough(world: World, receiver: StartReceiver) -> None:
    """Without a registered notification_uri, the subscription still gets its notification."""
    subscribed = receiver()
    subscribed.jwks = app_jwks(world)
    await world.client()
    await world.services.subscriptions.create(_subscription(subscribed.url))
    await world.consent()

    await revoke(world)
    await world.notifier.worker.run_once()

    assert 1 == len(subscribed.received)


async def test_a_delivery_queued_before_the_subscription_was_deleted_is_dropped(
    world: World, receiver: StartReceiver
) -> None:
    """Deleted between queueing and sending: nothing is sent, and the outbox says why."""
    subscribed = receiver()
    subscribed.jwks = app_jwks(world)
    await world.client()
    sub = _subscription(subscribed.url)
    await world.services.subscriptions.create(sub)
    await world.consent()
    await revoke(world)

    await world.services.subscriptions.delete(sub.id, now=NOW)
    await world.notifier.worker.run_once()

    assert 0 == subscribed.requests
    [delivery] = await world.records.outbox.of_consent("c-1")
    assert "refused: subscription deleted" == delivery.last_status
    assert delivery.given_up_at is not None

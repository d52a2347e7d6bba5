"""Notifications reach a real receiver on loopback: signed, retried with backoff, bounded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.testclient import TestClient

from authz.consent import lifecycle
from authz.consent.model import ConsentStatus, DurationType
from authz.store.base import NotificationDelivery
from authz.store.memory import MemoryOutbox, memory_records
from authz.store.sqlite import sqlite_records
from gateway.app import create_app
from tests.authz.notifications.conftest import NOW, FakeClock, Receiver, World, build_world

pytestmark = pytest.mark.anyio

StartReceiver = Callable[..., Receiver]


def app_jwks(world: World) -> dict[str, Any]:
    """The JWKS as the gateway publishes it, read over HTTP from the app."""
    app = create_app(world.services.settings, services=world.services)
    jwks: dict[str, Any] = TestClient(app).get("/jwks").json()
    return jwks


async def only_delivery(world: World, consent_id: str = "c-1") -> NotificationDelivery:
    [delivery] = await world.records.outbox.of_consent(consent_id)
    return delivery


async def delivered(world: World, consent_id: str) -> None:
    """Return once the consent's notification is delivered (the caller bounds the wait)."""
    for _ in range(10_000):
        if (await only_delivery(world, consent_id)).delivered_at is not None:
            return
        await anyio.sleep(0.01)


async def revoke(world: World, consent_id: str = "c-1") -> None:
    await lifecycle.revoke(world.services, consent_id, actor="INDIVIDUAL", reason="USER_ACTION")


async def test_a_revocation_reaches_the_receiver_signed_by_the_gateway(
    world: World, receiver: StartReceiver
) -> None:
    """The receiver verifies the JWS with the app's JWKS and gets CONSENT_REVOKED for it."""
    inbox = receiver()
    inbox.jwks = app_jwks(world)
    await world.client(uri=inbox.url)
    await world.consent()

    await revoke(world)
    sent = await world.notifier.worker.run_once()

    assert sent == 1
    assert inbox.rejected == []
    [got] = inbox.received
    assert got.header["typ"] == "notification+jwt"
    assert got.header["kid"] == world.services.keys.kid
    assert got.headers["content-type"] == "application/jose"
    assert got.claims["type"] == "CONSENT_REVOKED"
    assert got.claims["notificationPayload"]["id"] == "c-1"
    assert got.claims["aud"] == "client-1"
    assert got.claims["iss"] == world.services.settings.issuer
    delivery = await only_delivery(world)
    assert (delivery.attempts, delivery.last_status, delivery.delivered_at) == (1, "204", NOW)


async def test_failed_attempts_are_retried_with_backoff_until_delivered(
    world: World, receiver: StartReceiver
) -> None:
    """Two 503s then 204: three attempts, each only once its backoff has passed."""
    inbox = receiver()
    inbox.jwks = app_jwks(world)
    inbox.answers = [503, 503]
    await world.client(uri=inbox.url)
    await world.consent()
    await revoke(world)
    worker = world.notifier.worker

    assert await worker.run_once() == 1  # first attempt: 503
    first = await only_delivery(world)
    assert await worker.run_once() == 0  # not due yet
    world.clock.advance(30)  # base 30 s x 2^0, jitter factor 1
    assert await worker.run_once() == 1  # second attempt: 503
    second = await only_delivery(world)
    world.clock.advance(59)
    assert await worker.run_once() == 0  # 60 s this time
    world.clock.advance(1)
    assert await worker.run_once() == 1  # third attempt: 204

    done = await only_delivery(world)
    assert (first.attempts, first.last_status, first.next_attempt_at) == (1, "503", NOW + 30)
    assert (second.attempts, second.next_attempt_at) == (2, NOW + 90)
    assert (done.attempts, done.last_status, done.delivered_at) == (3, "204", NOW + 90)
    assert len(inbox.received) == 3
    assert len({r.claims["notificationId"] for r in inbox.received}) == 1  # one id, retried


async def test_a_delivery_is_given_up_after_the_last_attempt(
    receiver: StartReceiver,
) -> None:
    """With notification_max_attempts=2, the second failure gives up, and that is recorded."""
    world = build_world(notification_max_attempts=2)
    inbox = receiver()
    inbox.jwks = app_jwks(world)
    inbox.answers = [500, 500, 500]
    await world.client(uri=inbox.url)
    await world.consent()
    await revoke(world)

    await world.notifier.worker.run_once()
    world.clock.advance(3600)
    await world.notifier.worker.run_once()
    world.clock.advance(86400)

    assert await world.notifier.worker.run_once() == 0
    delivery = await only_delivery(world)
    assert (delivery.attempts, delivery.last_status) == (2, "500")
    assert delivery.given_up_at == NOW + 3600
    await world.notifier.sender.aclose()


async def test_a_slow_receiver_blocks_neither_the_revocation_nor_other_deliveries(
    receiver: StartReceiver,
) -> None:
    """Revoking returns before any delivery; while one receiver hangs, another is served."""
    world = build_world()
    slow, fast = receiver("/slow"), receiver("/fast")
    slow.jwks = fast.jwks = app_jwks(world)
    slow.hold = threading.Event()
    await world.client("slow-app", uri=slow.url)
    await world.client("fast-app", uri=fast.url)
    await world.consent("c-slow", client_id="slow-app")
    await world.consent("c-fast", client_id="fast-app")

    await revoke(world, "c-slow")
    await revoke(world, "c-fast")
    assert (slow.requests, fast.requests) == (0, 0)  # the observer only enqueued

    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(world.notifier.worker.run)
            with anyio.fail_after(10):
                await delivered(world, "c-fast")
            held = await only_delivery(world, "c-slow")
            tg.cancel_scope.cancel()
    finally:
        slow.hold.set()
        await world.notifier.sender.aclose()

    assert slow.requests == 1  # it was being sent ...
    assert held.attempts == 0  # ... and still in flight when the other was delivered
    assert len(fast.received) == 1


async def test_a_receiver_slower_than_the_read_timeout_is_a_failed_attempt(
    receiver: StartReceiver,
) -> None:
    """The attempt ends at the timeout, is recorded as such and retried later."""
    world = build_world(notification_read_timeout=0.3)
    slow = receiver()
    slow.jwks = app_jwks(world)
    slow.hold = threading.Event()
    await world.client(uri=slow.url)
    await world.consent()
    await revoke(world)

    try:
        await world.notifier.worker.run_once()
    finally:
        slow.hold.set()

    delivery = await only_delivery(world)
    assert (delivery.attempts, delivery.last_status) == (1, "timeout")
    assert delivery.next_attempt_at == NOW + 30
    assert delivery.given_up_at is None
    await world.notifier.sender.aclose()


async def test_an_http_url_off_loopback_is_refused_without_a_request() -> None:
    """https only: http://app.example is given up at once, and nothing is sent."""
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(204)

    world = build_world(transport=httpx.MockTransport(handler))
    await world.client(uri="http://app.example/notifications")
    await world.consent()
    await revoke(world)

    await world.notifier.worker.run_once()

    delivery = await only_delivery(world)
    assert (delivery.attempts, delivery.last_status) == (1, "refused: not an https url")
    assert delivery.given_up_at == NOW
    assert calls == []
    await world.notifier.sender.aclose()


async def test_loopback_http_needs_the_sandbox_setting(receiver: StartReceiver) -> None:
    """With allow_insecure_notification_urls off, even a loopback http receiver gets nothing."""
    world = build_world(allow_insecure_notification_urls=False)
    inbox = receiver()
    await world.client(uri=inbox.url)
    await world.consent()
    await revoke(world)

    await world.notifier.worker.run_once()

    assert inbox.requests == 0
    assert (await only_delivery(world)).last_status == "refused: not an https url"
    await world.notifier.sender.aclose()


async def test_queued_notifications_survive_a_restart(
    tmp_path: Path, receiver: StartReceiver
) -> None:
    """Enqueued by one process, delivered by the next one on the same database."""
    path = str(tmp_path / "records.sqlite")
    first = build_world(sqlite_records(path))
    await first.records.schema.migrate()
    inbox = receiver()
    inbox.jwks = app_jwks(first)
    await first.client(uri=inbox.url)
    await first.consent()
    await revoke(first)
    await first.records.aclose()
    await first.notifier.sender.aclose()

    second = build_world(sqlite_records(path), clock=FakeClock(NOW + 5))
    inbox.jwks = app_jwks(second)  # the next process signs with its own key
    await second.notifier.worker.run_once()

    assert [r.claims["type"] for r in inbox.received] == ["CONSENT_REVOKED"]
    await second.records.aclose()
    await second.notifier.sender.aclose()


class BrokenOutbox(MemoryOutbox):
    async def enqueue(self, delivery: NotificationDelivery) -> bool:
        raise RuntimeError("disk full")


async def test_a_broken_outbox_never_fails_the_revocation(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The consent is revoked; the failure is logged by type and consent id, nothing personal."""
    world = build_world(replace(memory_records(), outbox=BrokenOutbox()))
    await world.client(uri="https://app.example/n")
    await world.consent()

    with caplog.at_level(logging.ERROR):
        await revoke(world)

    consent = await world.records.consents.get("c-1")
    assert consent is not None
    assert consent.status is ConsentStatus.REVOKED
    assert "notification.enqueue_failed RuntimeError consent_id=c-1" in caplog.text
    assert "cust-1" not in caplog.text
    await world.notifier.sender.aclose()


async def test_recipients_without_a_url_and_one_time_expiries_get_nothing(world: World) -> None:
    """No notification_uri: nothing queued. A ONE_TIME consent's end is not told."""
    await world.client("quiet-app", uri=None)
    await world.client("client-1", uri="https://app.example/n")
    await world.consent("c-quiet", client_id="quiet-app")
    await world.consent("c-once", duration=DurationType.ONE_TIME, expires_in=360)
    await revoke(world, "c-quiet")
    world.clock.advance(361)

    consent = await world.records.consents.get("c-once")
    assert consent is not None
    await lifecycle.expire_if_due(world.services, consent)

    assert await world.records.outbox.of_consent("c-quiet") == []
    assert await world.records.outbox.of_consent("c-once") == []

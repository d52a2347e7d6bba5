"""Consumer notices reach a real SMTP server on 127.0.0.1: what they say, when, in which
language, and what happens when the server refuses or drops the connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from authz.consent import lifecycle
from authz.consent.model import DurationType
from authz.notices.mail import SmtpMailer
from authz.notices.notices import Notices
from authz.registration import recipients
from config.settings import Settings, SettingsError
from config.smtp import SmtpTarget, parse_smtp_url
from tests.notices.smtp import (
    Mailbox,
    SmtpServer,
    refusing_url,
    self_signed,
    start_dropper,
    start_smtp,
    start_tls_smtp,
)
from tests.notices.world import ALICE, CHECKING, DAY, World, build_world

pytestmark = pytest.mark.anyio


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = await start_smtp()
    yield server
    await server.aclose()


async def send_all(world: World) -> int:
    assert world.notices.worker is not None
    return await world.notices.worker.run_once()


def bodies(mailbox: Mailbox, n: int = -1) -> tuple[str, str]:
    message = mailbox.messages[n]
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


async def test_a_grant_is_told_by_email_and_in_the_inbox(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    consent = await world.grant()

    assert await send_all(world) == 1

    [message] = smtp.mailbox.messages
    assert smtp.mailbox.envelopes == [("notices@bank.example", ["alice.johnson@example.com"])]
    assert message["Subject"] == "You connected Demo Budget App"
    assert message["From"] == "notices@bank.example"
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = bodies(smtp.mailbox)
    assert "Everyday Checking ••••4696" in text
    assert "15 April 2027" in text  # 90 days on, in words
    assert "http://127.0.0.1:8000/consumer" in text
    assert 'href="http://127.0.0.1:8000/consumer"' in html
    # Never a token, a consent id, an account id or a full number; nothing fetched on opening.
    for secret in (consent.id, CHECKING, ALICE):
        assert secret not in text
        assert secret not in html
    for remote in ("<img", "src=", "url(", "@import", "<link"):
        assert remote not in html.lower()
    [notice] = await world.inbox()
    assert (notice.kind, notice.subject, notice.consent_id) == (
        "granted",
        "You connected Demo Budget App",
        "c-1",
    )
    assert notice.text.strip() == text.replace("\r\n", "\n").strip()  # the same words


async def test_the_html_escapes_what_the_app_registered(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client(client_name='<img src="https://evil.example/p.gif">Budget')
    await world.grant()
    await send_all(world)
    _, html = bodies(smtp.mailbox)
    assert "<img" not in html
    assert "&lt;img src=&#34;https://evil.example/p.gif&#34;&gt;Budget" in html


@pytest.mark.parametrize(
    ("actor", "said"),
    [
        ("INDIVIDUAL", "You stopped it on 25 January 2027."),
        ("DATA_RECIPIENT", "Demo Budget App stopped it on 25 January 2027."),
        ("DATA_PROVIDER", "Sandbox Bank stopped it on 25 January 2027."),
    ],
)
async def test_every_end_is_told_with_who_ended_it(smtp: SmtpServer, actor: str, said: str) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    await world.grant()
    world.clock.advance(10 * DAY)
    await lifecycle.revoke(world.services, "c-1", actor=actor, reason="USER_ACTION")
    await send_all(world)
    assert [m["Subject"] for m in smtp.mailbox.messages] == [
        "You connected Demo Budget App",
        "Sharing with Demo Budget App has stopped",
    ]
    text, _ = bodies(smtp.mailbox)
    assert said in text
    # Told once: revoking again changes nothing and tells nothing.
    await lifecycle.revoke(world.services, "c-1", actor=actor, reason="USER_ACTION")
    assert await send_all(world) == 0
    assert len(await world.inbox()) == 2


async def test_an_expiry_is_told_as_time_running_out(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    consent = await world.grant(days=30)
    world.clock.advance(31 * DAY)
    await lifecycle.expire_if_due(world.services, consent)
    await send_all(world)
    text, _ = bodies(smtp.mailbox)
    assert "The time you agreed to ended on 14 February 2027." in text


async def test_reminders_30_and_7_days_before_the_end_once_each(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    await world.grant(days=90)
    assert await world.notices.sweep() == 0  # 90 days left
    world.clock.advance(61 * DAY)  # 29 days left
    assert await world.notices.sweep() == 1
    assert await world.notices.sweep() == 0  # deduplicated
    world.clock.advance(23 * DAY)  # 6 days left
    assert await world.notices.sweep() == 1
    await send_all(world)
    subjects = [m["Subject"] for m in smtp.mailbox.messages]
    assert (
        subjects
        == ["You connected Demo Budget App"]
        + ["Sharing with Demo Budget App ends on 15 April 2027"] * 2
    )
    kinds = [n.kind for n in await world.inbox()]
    assert kinds == ["expiring", "expiring", "granted"]


async def test_a_persistent_consent_is_reminded_to_reauthorize(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    await world.grant(duration=DurationType.PERSISTENT, days=365)
    world.clock.advance(358 * DAY)
    assert await world.notices.sweep() == 1
    await send_all(world)
    assert smtp.mailbox.messages[-1]["Subject"] == (
        "Please confirm sharing with Demo Budget App by 15 January 2028"
    )


async def test_a_suspension_and_a_reinstatement_are_told(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    await world.grant()
    observers = world.services.recipient_observers
    records = world.services.records
    await recipients.suspend(records, "app-1", now=world.clock(), reason="audit")
    assert [n.kind for n in await world.inbox()] == ["granted"]  # no observers: nothing told
    await recipients.change_status(
        records, "app-1", "reinstate", now=world.clock() + 1, observers=observers
    )
    await recipients.change_status(
        records, "app-1", "suspend", now=world.clock() + 2, observers=observers
    )
    await send_all(world)
    assert [m["Subject"] for m in smtp.mailbox.messages] == [
        "You connected Demo Budget App",
        "Demo Budget App can read your data again",
        "Sandbox Bank has paused Demo Budget App",
    ]


async def test_a_changed_purpose_is_told_and_the_consent_keeps_what_was_agreed(
    smtp: SmtpServer,
) -> None:
    world = build_world(smtp_url=smtp.url)
    before = await world.client()
    consent = await world.grant()
    after = await world.client(
        description="Sells your spending profile to advertisers.",
        clusters=("ACCOUNT_BASIC", "TRANSACTIONS", "CUSTOMER_CONTACT"),
    )
    for observer in world.services.recipient_observers:
        await observer.recipient_changed(before, after)
        await observer.recipient_changed(before, after)  # told once
    await send_all(world)
    assert len(smtp.mailbox.messages) == 2
    assert smtp.mailbox.messages[-1]["Subject"] == "Demo Budget App changed what it says it does"
    text, _ = bodies(smtp.mailbox)
    assert "“Sells your spending profile to advertisers.”" in text
    assert "still gets only what you agreed to" in text
    stored = await world.services.records.consents.get("c-1")
    assert stored == consent  # purpose and data exactly as agreed


async def test_notices_are_in_the_language_last_used(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.records.languages.remember(ALICE, "ja", world.clock())
    await world.client()
    await world.grant()
    await send_all(world)
    message = smtp.mailbox.messages[0]
    assert message["Subject"] == "Demo Budget Appと連携しました"
    text, html = bodies(smtp.mailbox)
    assert "2027年4月15日" in text
    assert '<html lang="ja">' in html


async def test_without_smtp_url_notices_land_only_in_the_inbox() -> None:
    world = build_world()
    await world.client()
    await world.grant()
    assert world.notices.worker is None
    assert [n.kind for n in await world.inbox()] == ["granted"]


async def test_a_refusal_is_final_and_a_deferral_is_retried(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    smtp.mailbox.rcpt_answers = ["550 5.1.1 No such user"]
    await world.grant("c-1")
    assert await send_all(world) == 1
    [notice] = await world.inbox()
    refused = await world.records.outbox.get(notice.id)
    assert refused is not None
    assert (refused.last_status, refused.given_up_at) == ("refused: 550", world.clock())

    smtp.mailbox.data_answers = ["451 4.3.0 Try again later"]
    await world.grant("c-2")
    await send_all(world)
    [second, _] = await world.inbox()
    deferred = await world.records.outbox.get(second.id)
    assert deferred is not None
    assert (deferred.last_status, deferred.given_up_at) == ("deferred: 451", None)
    assert deferred.next_attempt_at == world.clock() + 60  # backoff base, no jitter
    assert await send_all(world) == 0  # not yet due
    world.clock.advance(60)
    assert await send_all(world) == 1
    sent = await world.records.outbox.get(second.id)
    assert sent is not None
    assert sent.sent_at == world.clock()
    assert sent.attempts == 2
    assert len(smtp.mailbox.messages) == 1


async def test_refused_connections_are_retried_with_backoff_then_given_up() -> None:
    world = build_world(smtp_url=refusing_url())
    await world.client()
    await world.grant()  # returns at once: sending never blocks the consumer's action
    [notice] = await world.inbox()
    waits = []
    for _ in range(4):
        assert await send_all(world) == 1
        email = await world.records.outbox.get(notice.id)
        assert email is not None
        if email.given_up_at is not None:
            break
        waits.append(email.next_attempt_at - world.clock())
        world.clock.advance(email.next_attempt_at - world.clock())
    assert waits == [60, 120, 240]  # exponential
    assert email is not None
    assert email.attempts == 4
    assert email.last_status == "connect error"


@pytest.mark.parametrize("greet", [False, True])
async def test_dropped_connections_are_retried_and_the_email_sent_once(greet: bool) -> None:
    dropper = await start_dropper(greet=greet)
    world = build_world(smtp_url=dropper.url)
    await world.client()
    await world.grant()
    assert await send_all(world) == 1
    [notice] = await world.inbox()
    email = await world.records.outbox.get(notice.id)
    assert email is not None
    assert email.sent_at is None
    assert email.given_up_at is None
    assert email.last_status in ("disconnected", "connect error")
    await dropper.aclose()

    # The server comes back on another port: the same email goes out, once.
    good = await start_smtp()
    try:
        notices = Notices(world.services, mailer=SmtpMailer(good.url, timeout=5.0))
        world.clock.advance(3600)
        assert notices.worker is not None
        assert await notices.worker.run_once() == 1
        assert await notices.worker.run_once() == 0
        assert [m["Subject"] for m in good.mailbox.messages] == ["You connected Demo Budget App"]
    finally:
        await good.aclose()


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("smtp://mail.example:25", "mail_from: needed with smtp_url"),
        ("http://mail.example", "smtp_url: expected smtp://"),
        ("smtps://mail.example:465/path", "smtp_url: expected SCHEME://host:port"),
    ],
)
def test_smtp_settings_are_checked(url: str, error: str) -> None:
    with pytest.raises(SettingsError, match=error):
        Settings(smtp_url=url)


def test_smtp_urls_name_their_security() -> None:
    assert parse_smtp_url("smtp://127.0.0.1:2525") == SmtpTarget("127.0.0.1", 2525, "plain")
    assert parse_smtp_url("smtp+starttls://mail.example") == SmtpTarget(
        "mail.example", 587, "starttls"
    )
    target = parse_smtp_url("smtps://user:p%40ss@mail.example")
    assert (target.port, target.security, target.password) == (465, "tls", "p@ss")
    assert "p@ss" not in repr(target)
    settings = Settings(smtp_url="smtps://user:pw-9f2c@mail.example", mail_from="n@bank.example")
    assert "pw-9f2c" not in repr(settings)


def test_smtp_url_is_read_from_the_environment() -> None:
    settings = Settings.load(
        {"FDX_SMTP_URL": "smtp://127.0.0.1:2525", "FDX_MAIL_FROM": "n@bank.example"}
    )
    assert (settings.smtp_url, settings.mail_from) == ("smtp://127.0.0.1:2525", "n@bank.example")


@pytest.mark.parametrize("implicit", [True, False])
async def test_smtps_and_starttls_send_over_verified_tls(tmp_path: Path, implicit: bool) -> None:
    cert = self_signed(tmp_path)
    server = await start_tls_smtp(cert, implicit=implicit)
    try:
        world = build_world(smtp_url=server.url)
        notices = Notices(
            world.services, mailer=SmtpMailer(server.url, timeout=5.0, tls_context=cert.client)
        )
        world.services.observers[-1] = notices
        await world.client()
        await world.grant()
        assert notices.worker is not None
        assert await notices.worker.run_once() == 1
        assert [m["Subject"] for m in server.mailbox.messages] == ["You connected Demo Budget App"]
        # A client that does not trust the certificate sends nothing.
        untrusting = SmtpMailer(server.url, timeout=5.0)
        sent = await untrusting.send(server.mailbox.messages[0])
        assert not sent.ok
        assert len(server.mailbox.messages) == 1
    finally:
        await server.aclose()


async def test_starttls_is_never_skipped(smtp: SmtpServer) -> None:
    """smtp+starttls against a server without STARTTLS: nothing goes out in the clear."""
    url = smtp.url.replace("smtp://", "smtp+starttls://")
    world = build_world(smtp_url=url)
    await world.client()
    await world.grant()
    assert await send_all(world) == 1
    assert smtp.mailbox.messages == []
    [notice] = await world.inbox()
    email = await world.records.outbox.get(notice.id)
    assert email is not None
    assert email.sent_at is None


class SlowBank:
    """The sandbox bank, except that naming accounts and reading contacts never answers."""

    def __init__(self, bank: Any) -> None:
        self._bank = bank

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bank, name)

    async def list_accounts(self, customer_id: str) -> Any:
        await anyio.sleep_forever()

    async def get_customer_info(self, customer_id: str) -> Any:
        await anyio.sleep_forever()


async def test_a_bank_that_does_not_answer_never_holds_up_a_grant_or_the_outbox(
    smtp: SmtpServer,
) -> None:
    world = build_world(smtp_url=smtp.url, adapter_timeout=0.2)
    slow = replace(world.services, bank=SlowBank(world.services.bank))
    notices = Notices(slow, mailer=SmtpMailer(smtp.url, timeout=5.0))
    world.services.observers[-1] = notices
    await world.client()
    with anyio.fail_after(5):
        await world.grant()  # the notice waits a moment for account names, then goes without
    [notice] = await world.inbox()
    assert "1 account(s): see them in the portal" in notice.text
    assert CHECKING not in notice.text
    assert notices.worker is not None
    with anyio.fail_after(5):
        assert await notices.worker.run_once() == 1
    email = await world.records.outbox.get(notice.id)
    assert email is not None
    assert (email.last_status, email.sent_at, email.given_up_at) == ("bank unavailable", None, None)


async def test_an_end_with_a_deletion_request_says_so(smtp: SmtpServer) -> None:
    world = build_world(smtp_url=smtp.url)
    await world.client()
    await world.grant()
    await lifecycle.revoke(
        world.services,
        "c-1",
        actor="INDIVIDUAL",
        reason="USER_ACTION",
        detail="consumer portal; deletion requested",
    )
    await send_all(world)
    text, _ = bodies(smtp.mailbox)
    assert "You asked Demo Budget App to delete the data it already has." in text

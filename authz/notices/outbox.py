"""Sends the queued emails: claims due rows, reads each consumer's address from the bank,
sends through the ``Mailer``, records every attempt.

The queue is the ``MailOutbox`` family, so nothing is lost across restarts. Each claimed email
is leased (its next attempt moved past the longest an attempt can take) so another gateway
never sends it at the same time. A transient failure (connection refused or dropped, timeout,
a 4xx, the bank unreachable) is retried after an exponential, capped, jittered backoff; a 5xx
refusal, a consumer without an address, or ``mail_max_attempts`` reached gives the email up,
and that is recorded too. Nothing here ever runs on a request: the consumer's action only
writes the row (``Notices.tell``) and wakes this worker.
"""

from __future__ import annotations

import logging
import random as _random
from collections.abc import Callable

import anyio

from adapters.base import BankAdapter
from adapters.errors import AdapterError
from authz.notices.mail import Mailer, Sent, compose
from authz.notices.store import Email, MailOutbox
from authz.notifications.worker import backoff
from config.settings import Settings

log = logging.getLogger("authz.notices")

POLL = 5.0  # seconds between looks for due retries when nothing wakes the worker
BATCH = 10  # emails claimed at a time
LEASE = 300.0  # seconds: longer than any one attempt (SMTP timeout per command, a few commands)


class MailWorker:
    def __init__(
        self,
        outbox: MailOutbox,
        bank: BankAdapter,
        settings: Settings,
        *,
        mailer: Mailer,
        clock: Callable[[], float],
        rand: Callable[[], float] = _random.random,
    ) -> None:
        self._outbox = outbox
        self._bank = bank
        self._settings = settings
        self._mailer = mailer
        self._clock = clock
        self._rand = rand
        self._wake = anyio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """Claim what is due, send it one by one, return how many were tried."""
        try:
            claimed = await self._outbox.claim(self._clock(), limit=BATCH, lease=LEASE)
        except Exception as exc:
            log.error("mail.claim_failed %s", type(exc).__name__)
            return 0
        for email in claimed:
            await self.deliver(email)
        return len(claimed)

    async def run(self) -> None:
        while True:
            self._wake = anyio.Event()
            if await self.run_once() == BATCH:
                continue  # more may be due
            with anyio.move_on_after(POLL):
                await self._wake.wait()

    async def deliver(self, email: Email) -> None:
        """One attempt, recorded whatever happens; never raises."""
        try:
            sent = await self._attempt(email)
        except Exception as exc:  # a bug must not stop the worker; the email is retried
            sent = Sent(False, f"error: {type(exc).__name__}")
        now = self._clock()
        attempts = email.attempts + 1
        retry_at = None
        if not sent.ok and not sent.permanent and attempts < self._settings.mail_max_attempts:
            retry_at = now + backoff(
                attempts,
                base=self._settings.mail_backoff_base,
                cap=self._settings.mail_backoff_max,
                rand=self._rand,
            )
        outcome = "sent" if sent.ok else ("retry" if retry_at else "given_up")
        # The id and kind only: the address and the text are personal data.
        log.info(
            "mail.attempt id=%s kind=%s attempt=%d status=%s outcome=%s",
            email.id,
            email.kind,
            attempts,
            sent.status,
            outcome,
        )
        try:
            await self._outbox.record_attempt(
                email.id, now=now, status=sent.status, sent=sent.ok, retry_at=retry_at
            )
        except Exception as exc:  # the lease runs out and the email is tried again
            log.error("mail.record_failed %s id=%s", type(exc).__name__, email.id)

    async def _attempt(self, email: Email) -> Sent:
        try:
            with anyio.fail_after(self._settings.adapter_timeout):
                info = await self._bank.get_customer_info(email.customer_id)
        except (AdapterError, TimeoutError):
            return Sent(False, "bank unavailable")
        address = _first_address(info.get("emails"))
        if address is None:
            return Sent(False, "refused: no address", permanent=True)
        message = compose(
            sender=self._settings.mail_from,
            to=address,
            subject=email.subject,
            text=email.text,
            html=email.html,
            now=self._clock(),
        )
        return await self._mailer.send(message)


def _first_address(emails: object) -> str | None:
    """The first address the bank holds that is one line with one @ (no header injection)."""
    if not isinstance(emails, list):
        return None
    for value in emails:
        if (
            isinstance(value, str)
            and value.count("@") == 1
            and not any(c in value for c in "\r\n<>,")
        ):
            return value.strip()
    return None

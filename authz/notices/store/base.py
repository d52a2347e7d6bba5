"""The consumer-notice record families: each a small Protocol of its own.

- ``MailOutbox``: emails waiting to go out (durable: a restart loses none), each sent once.
- ``NoticeInbox``: every notice, kept for the portal's inbox.
- ``LanguageChoices``: the language a consumer last used on our screens (the notices' language).
- ``DeletionRequests``: a consumer's "delete the data you already have" asked of a recipient
  when sharing stopped, and the recipient's confirmation.

Implementations: ``memory`` (tests, the sandbox), ``sqlite`` and ``postgres`` (one SQL text,
``authz.notices.store.sql``). Every implementation creates its own tables on first use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Email:
    """One email to a consumer. The address is not stored: the bank holds it, and it is read
    from the bank adapter at each attempt. ``dedupe_key`` is unique: the same notice is never
    queued twice."""

    id: str
    customer_id: str
    kind: str
    subject: str
    text: str
    html: str
    created_at: float
    next_attempt_at: float
    dedupe_key: str
    attempts: int = 0
    last_status: str | None = None  # "250", "refused: 550", "connect error", …
    sent_at: float | None = None
    given_up_at: float | None = None


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice as the portal's inbox shows it (the email's plain-text body)."""

    id: str
    customer_id: str
    kind: str
    time: float
    subject: str
    text: str
    dedupe_key: str
    consent_id: str | None = None
    read_at: float | None = None


@dataclass(frozen=True, slots=True)
class DeletionRequest:
    consent_id: str
    client_id: str
    customer_id: str
    asked_at: float
    confirmed_at: float | None = None
    overdue_told_at: float | None = None  # when the consumer was told it is still unconfirmed


class MailOutbox(Protocol):
    async def enqueue(self, email: Email) -> bool:
        """Store a new email; False (nothing stored) if its ``dedupe_key`` was used."""

    async def claim(self, now: float, *, limit: int, lease: float) -> list[Email]:
        """Up to ``limit`` unsent emails due at ``now``, earliest first; each one's next attempt
        moves to ``now + lease`` so no other worker takes it while this one tries."""

    async def record_attempt(
        self, email_id: str, *, now: float, status: str, sent: bool, retry_at: float | None
    ) -> None:
        """Count one attempt: sent, to be retried at ``retry_at``, or (neither) given up."""

    async def get(self, email_id: str) -> Email | None: ...

    async def aclose(self) -> None: ...


class NoticeInbox(Protocol):
    async def post(self, notice: Notice) -> bool:
        """Store a new notice; False if its ``dedupe_key`` was used."""

    async def list(self, customer_id: str, *, limit: int = 50) -> list[Notice]:
        """The customer's notices, newest first."""

    async def unread(self, customer_id: str) -> int: ...

    async def mark_read(self, customer_id: str, now: float) -> None:
        """Every notice of the customer read at ``now`` (those read before keep their time)."""

    async def aclose(self) -> None: ...


class LanguageChoices(Protocol):
    async def remember(self, customer_id: str, lang: str, now: float) -> None: ...

    async def language(self, customer_id: str) -> str | None:
        """The language last remembered, None if never."""

    async def aclose(self) -> None: ...


class DeletionRequests(Protocol):
    async def ask(self, request: DeletionRequest) -> bool:
        """Store the request; False (the first kept) if the consent already has one."""

    async def get(self, consent_id: str) -> DeletionRequest | None: ...

    async def confirm(self, consent_id: str, now: float) -> DeletionRequest | None:
        """Record the recipient's confirmation (the first one's time stays); the request as
        stored, None if there is none."""

    async def overdue(self, asked_before: float, *, limit: int = 1000) -> list[DeletionRequest]:
        """Unconfirmed requests asked before ``asked_before``, oldest first."""

    async def mark_overdue_told(self, consent_id: str, now: float) -> bool:
        """True for the first caller only: the consumer is told once."""

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class NoticeRecords:
    """The four families, as one deployment opens them (``open_notice_records``)."""

    outbox: MailOutbox
    inbox: NoticeInbox
    languages: LanguageChoices
    deletions: DeletionRequests

    async def migrate(self) -> None:
        """Create the families' tables if missing (``fdxgw init``, as the database's owner)."""
        await self.inbox.list("", limit=1)  # the first use creates every family's tables

    async def aclose(self) -> None:
        for family in (self.outbox, self.inbox, self.languages, self.deletions):
            await family.aclose()

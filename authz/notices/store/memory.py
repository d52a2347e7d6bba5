"""The notice families in process memory: tests and the sandbox (nothing survives a restart)."""

from __future__ import annotations

from dataclasses import replace

from authz.notices.store.base import (
    DeletionRequest,
    DeletionRequests,
    Email,
    LanguageChoices,
    MailOutbox,
    Notice,
    NoticeInbox,
    NoticeRecords,
)


class MemoryOutbox:
    def __init__(self) -> None:
        self._emails: dict[str, Email] = {}
        self._keys: set[str] = set()

    async def enqueue(self, email: Email) -> bool:
        if email.dedupe_key in self._keys or email.id in self._emails:
            return False
        self._keys.add(email.dedupe_key)
        self._emails[email.id] = email
        return True

    async def claim(self, now: float, *, limit: int, lease: float) -> list[Email]:
        due = sorted(
            (
                e
                for e in self._emails.values()
                if e.sent_at is None and e.given_up_at is None and e.next_attempt_at <= now
            ),
            key=lambda e: e.next_attempt_at,
        )[:limit]
        for e in due:
            self._emails[e.id] = replace(e, next_attempt_at=now + lease)
        return due

    async def record_attempt(
        self, email_id: str, *, now: float, status: str, sent: bool, retry_at: float | None
    ) -> None:
        e = self._emails.get(email_id)
        if e is None:
            return
        self._emails[email_id] = replace(
            e,
            attempts=e.attempts + 1,
            last_status=status,
            sent_at=now if sent else None,
            given_up_at=None if sent or retry_at is not None else now,
            next_attempt_at=retry_at if retry_at is not None else e.next_attempt_at,
        )

    async def get(self, email_id: str) -> Email | None:
        return self._emails.get(email_id)

    async def aclose(self) -> None:
        pass


class MemoryInbox:
    def __init__(self) -> None:
        self._notices: list[Notice] = []
        self._keys: set[str] = set()

    async def post(self, notice: Notice) -> bool:
        if notice.dedupe_key in self._keys:
            return False
        self._keys.add(notice.dedupe_key)
        self._notices.append(notice)
        return True

    async def list(self, customer_id: str, *, limit: int = 50) -> list[Notice]:
        mine = [n for n in reversed(self._notices) if n.customer_id == customer_id]
        return sorted(mine, key=lambda n: -n.time)[:limit]

    async def unread(self, customer_id: str) -> int:
        return sum(n.customer_id == customer_id and n.read_at is None for n in self._notices)

    async def mark_read(self, customer_id: str, now: float) -> None:
        self._notices = [
            replace(n, read_at=now) if n.customer_id == customer_id and n.read_at is None else n
            for n in self._notices
        ]

    async def aclose(self) -> None:
        pass


class MemoryLanguages:
    def __init__(self) -> None:
        self._langs: dict[str, str] = {}

    async def remember(self, customer_id: str, lang: str, now: float) -> None:
        self._langs[customer_id] = lang

    async def language(self, customer_id: str) -> str | None:
        return self._langs.get(customer_id)

    async def aclose(self) -> None:
        pass


class MemoryDeletions:
    def __init__(self) -> None:
        self._requests: dict[str, DeletionRequest] = {}

    async def ask(self, request: DeletionRequest) -> bool:
        if request.consent_id in self._requests:
            return False
        self._requests[request.consent_id] = request
        return True

    async def get(self, consent_id: str) -> DeletionRequest | None:
        return self._requests.get(consent_id)

    async def confirm(self, consent_id: str, now: float) -> DeletionRequest | None:
        r = self._requests.get(consent_id)
        if r is not None and r.confirmed_at is None:
            r = self._requests[consent_id] = replace(r, confirmed_at=now)
        return r

    async def overdue(self, asked_before: float, *, limit: int = 1000) -> list[DeletionRequest]:
        due = [
            r
            for r in self._requests.values()
            if r.confirmed_at is None and r.asked_at < asked_before
        ]
        return sorted(due, key=lambda r: (r.asked_at, r.consent_id))[:limit]

    async def mark_overdue_told(self, consent_id: str, now: float) -> bool:
        r = self._requests.get(consent_id)
        if r is None or r.overdue_told_at is not None:
            return False
        self._requests[consent_id] = replace(r, overdue_told_at=now)
        return True

    async def aclose(self) -> None:
        pass


def open_memory() -> NoticeRecords:
    outbox: MailOutbox = MemoryOutbox()
    inbox: NoticeInbox = MemoryInbox()
    languages: LanguageChoices = MemoryLanguages()
    deletions: DeletionRequests = MemoryDeletions()
    return NoticeRecords(outbox, inbox, languages, deletions)

"""The notice families over SQL: one text for SQLite and PostgreSQL, run by a ``Database``.

Statements are literals with ``?`` parameters (the PostgreSQL database turns them into ``%s``);
no value is ever formatted into them. Each family creates its tables on first use, idempotently
(``CREATE TABLE IF NOT EXISTS``; PostgreSQL under an advisory lock), so they need no step in the
record store's own migrations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from authz.notices.store.base import DeletionRequest, Email, Notice

Row = Sequence[Any]

DDL: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS notice_emails (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        next_attempt_at DOUBLE PRECISION NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_status TEXT,
        sent_at DOUBLE PRECISION,
        given_up_at DOUBLE PRECISION
    )""",
    "CREATE INDEX IF NOT EXISTS notice_emails_due ON notice_emails (next_attempt_at)"
    " WHERE sent_at IS NULL AND given_up_at IS NULL",
    """CREATE TABLE IF NOT EXISTS notice_inbox (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        time DOUBLE PRECISION NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        dedupe_key TEXT NOT NULL UNIQUE,
        consent_id TEXT,
        read_at DOUBLE PRECISION
    )""",
    "CREATE INDEX IF NOT EXISTS notice_inbox_customer ON notice_inbox (customer_id, time)",
    """CREATE TABLE IF NOT EXISTS notice_languages (
        customer_id TEXT PRIMARY KEY,
        lang TEXT NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS deletion_requests (
        consent_id TEXT PRIMARY KEY,
        client_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        asked_at DOUBLE PRECISION NOT NULL,
        confirmed_at DOUBLE PRECISION,
        overdue_told_at DOUBLE PRECISION
    )""",
    "CREATE INDEX IF NOT EXISTS deletion_requests_open ON deletion_requests (asked_at)"
    " WHERE confirmed_at IS NULL",
)


# A claim takes due rows and leases them in one statement; PostgreSQL also locks the rows it
# takes (SKIP LOCKED), so a second gateway claiming at the same moment takes others.
_CLAIM = (
    "UPDATE notice_emails SET next_attempt_at = ? WHERE id IN (SELECT id FROM notice_emails"
    " WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ?"
    " ORDER BY next_attempt_at, created_at, id LIMIT ?)"
    " RETURNING id, customer_id, kind, subject, text_body, html_body, created_at,"
    " next_attempt_at, dedupe_key, attempts, last_status, sent_at, given_up_at"
)
_CLAIM_LOCKING = (
    "UPDATE notice_emails SET next_attempt_at = ? WHERE id IN (SELECT id FROM notice_emails"
    " WHERE sent_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ?"
    " ORDER BY next_attempt_at, created_at, id LIMIT ? FOR UPDATE SKIP LOCKED)"
    " RETURNING id, customer_id, kind, subject, text_body, html_body, created_at,"
    " next_attempt_at, dedupe_key, attempts, last_status, sent_at, given_up_at"
)


class Database(Protocol):
    """One SQL engine as the families use it; every call is its own committed transaction."""

    locks_rows: bool  # the engine has FOR UPDATE SKIP LOCKED

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run one statement; the rows it returns (``RETURNING`` or a query), else []."""

    async def ensure(self, ddl: Sequence[str]) -> None:
        """Run the statements once per process, serialised across processes."""

    async def aclose(self) -> None: ...


class _Family:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        await self._db.ensure(DDL)
        return await self._db.execute(sql, params)

    async def aclose(self) -> None:
        await self._db.aclose()


class SqlOutbox(_Family):
    async def enqueue(self, email: Email) -> bool:
        rows = await self._run(
            "INSERT INTO notice_emails (id, customer_id, kind, subject, text_body, html_body,"
            " created_at, next_attempt_at, dedupe_key, attempts, last_status, sent_at,"
            " given_up_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (
                email.id,
                email.customer_id,
                email.kind,
                email.subject,
                email.text,
                email.html,
                email.created_at,
                email.next_attempt_at,
                email.dedupe_key,
                email.attempts,
                email.last_status,
                email.sent_at,
                email.given_up_at,
            ),
        )
        return bool(rows)

    async def claim(self, now: float, *, limit: int, lease: float) -> list[Email]:
        rows = await self._run(
            _CLAIM_LOCKING if self._db.locks_rows else _CLAIM,
            (now + lease, now, limit),
        )
        return sorted((_email(r) for r in rows), key=lambda e: (e.created_at, e.id))

    async def record_attempt(
        self, email_id: str, *, now: float, status: str, sent: bool, retry_at: float | None
    ) -> None:
        given_up = None if sent or retry_at is not None else now
        await self._run(
            "UPDATE notice_emails SET attempts = attempts + 1, last_status = ?, sent_at = ?,"
            " given_up_at = ?, next_attempt_at = COALESCE(?, next_attempt_at) WHERE id = ?",
            (status, now if sent else None, given_up, retry_at, email_id),
        )

    async def get(self, email_id: str) -> Email | None:
        rows = await self._run(
            "SELECT id, customer_id, kind, subject, text_body, html_body, created_at,"
            " next_attempt_at, dedupe_key, attempts, last_status, sent_at, given_up_at"
            " FROM notice_emails WHERE id = ?",
            (email_id,),
        )
        return _email(rows[0]) if rows else None


class SqlInbox(_Family):
    async def post(self, notice: Notice) -> bool:
        rows = await self._run(
            "INSERT INTO notice_inbox (id, customer_id, kind, time, subject, text_body,"
            " dedupe_key, consent_id, read_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING id",
            (
                notice.id,
                notice.customer_id,
                notice.kind,
                notice.time,
                notice.subject,
                notice.text,
                notice.dedupe_key,
                notice.consent_id,
                notice.read_at,
            ),
        )
        return bool(rows)

    async def list(self, customer_id: str, *, limit: int = 50) -> list[Notice]:
        rows = await self._run(
            "SELECT id, customer_id, kind, time, subject, text_body, dedupe_key, consent_id,"
            " read_at"
            " FROM notice_inbox WHERE customer_id = ?"
            " ORDER BY time DESC, id DESC LIMIT ?",
            (customer_id, limit),
        )
        return [Notice(*r) for r in rows]

    async def unread(self, customer_id: str) -> int:
        rows = await self._run(
            "SELECT count(*) FROM notice_inbox WHERE customer_id = ? AND read_at IS NULL",
            (customer_id,),
        )
        return int(rows[0][0])

    async def mark_read(self, customer_id: str, now: float) -> None:
        await self._run(
            "UPDATE notice_inbox SET read_at = ? WHERE customer_id = ? AND read_at IS NULL",
            (now, customer_id),
        )


class SqlLanguages(_Family):
    async def remember(self, customer_id: str, lang: str, now: float) -> None:
        await self._run(
            "INSERT INTO notice_languages (customer_id, lang, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (customer_id) DO UPDATE SET lang = excluded.lang,"
            " updated_at = excluded.updated_at WHERE notice_languages.lang <> excluded.lang",
            (customer_id, lang, now),
        )

    async def language(self, customer_id: str) -> str | None:
        rows = await self._run(
            "SELECT lang FROM notice_languages WHERE customer_id = ?", (customer_id,)
        )
        return str(rows[0][0]) if rows else None


class SqlDeletions(_Family):
    async def ask(self, request: DeletionRequest) -> bool:
        rows = await self._run(
            "INSERT INTO deletion_requests (consent_id, client_id, customer_id, asked_at,"
            " confirmed_at, overdue_told_at)"
            " VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING consent_id",
            (
                request.consent_id,
                request.client_id,
                request.customer_id,
                request.asked_at,
                request.confirmed_at,
                request.overdue_told_at,
            ),
        )
        return bool(rows)

    async def get(self, consent_id: str) -> DeletionRequest | None:
        rows = await self._run(
            "SELECT consent_id, client_id, customer_id, asked_at, confirmed_at, overdue_told_at"
            " FROM deletion_requests WHERE consent_id = ?",
            (consent_id,),
        )
        return DeletionRequest(*rows[0]) if rows else None

    async def confirm(self, consent_id: str, now: float) -> DeletionRequest | None:
        await self._run(
            "UPDATE deletion_requests SET confirmed_at = ?"
            " WHERE consent_id = ? AND confirmed_at IS NULL",
            (now, consent_id),
        )
        return await self.get(consent_id)

    async def overdue(self, asked_before: float, *, limit: int = 1000) -> list[DeletionRequest]:
        rows = await self._run(
            "SELECT consent_id, client_id, customer_id, asked_at, confirmed_at, overdue_told_at"
            " FROM deletion_requests"
            " WHERE confirmed_at IS NULL AND asked_at < ? ORDER BY asked_at, consent_id LIMIT ?",
            (asked_before, limit),
        )
        return [DeletionRequest(*r) for r in rows]

    async def mark_overdue_told(self, consent_id: str, now: float) -> bool:
        rows = await self._run(
            "UPDATE deletion_requests SET overdue_told_at = ?"
            " WHERE consent_id = ? AND overdue_told_at IS NULL RETURNING consent_id",
            (now, consent_id),
        )
        return bool(rows)


def _email(r: Row) -> Email:
    return Email(*r)

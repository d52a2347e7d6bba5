"""The consumer-notice record families and the implementation a database URL names."""

from __future__ import annotations

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


def open_notice_records(url: str) -> NoticeRecords:
    """The families stored where ``database_url`` points (the record store's database)."""
    if url.startswith("postgresql://"):
        from authz.notices.store.postgres import open_postgres

        return open_postgres(url)
    if url.startswith("sqlite:///"):
        from authz.notices.store.sqlite import open_sqlite

        return open_sqlite(url.removeprefix("sqlite:///"))
    if url == "memory://":
        from authz.notices.store.memory import open_memory

        return open_memory()
    raise ValueError("database_url: no notice store for this URL")


__all__ = [
    "DeletionRequest",
    "DeletionRequests",
    "Email",
    "LanguageChoices",
    "MailOutbox",
    "Notice",
    "NoticeInbox",
    "NoticeRecords",
    "open_notice_records",
]

"""The contract of the notice record families, over every implementation."""

from __future__ import annotations

from dataclasses import replace

import pytest

from authz.notices.store import DeletionRequest, Email, Notice, NoticeRecords

pytestmark = pytest.mark.anyio

T0 = 1_700_000_000.0


def email(n: int, *, at: float = T0, key: str | None = None) -> Email:
    return Email(
        id=f"e{n}",
        customer_id="cust-1",
        kind="granted",
        subject=f"Subject {n}",
        text="plain",
        html="<p>html</p>",
        created_at=at,
        next_attempt_at=at,
        dedupe_key=key or f"k{n}",
    )


async def test_outbox_dedupes_claims_and_records(notice_records: NoticeRecords) -> None:
    outbox = notice_records.outbox
    assert await outbox.enqueue(email(1))
    assert not await outbox.enqueue(email(2, key="k1"))  # same notice: never twice
    assert await outbox.enqueue(email(3, at=T0 + 100))
    claimed = await outbox.claim(T0 + 10, limit=10, lease=60)
    assert [e.id for e in claimed] == ["e1"]
    assert claimed[0].subject == "Subject 1"
    assert claimed[0].html == "<p>html</p>"
    assert await outbox.claim(T0 + 20, limit=10, lease=60) == []  # leased
    await outbox.record_attempt(
        "e1", now=T0 + 30, status="connect error", sent=False, retry_at=T0 + 90
    )
    stored = await outbox.get("e1")
    assert stored is not None
    assert (stored.attempts, stored.last_status, stored.next_attempt_at) == (
        1,
        "connect error",
        T0 + 90,
    )
    assert [e.id for e in await outbox.claim(T0 + 200, limit=10, lease=60)] == ["e1", "e3"]
    await outbox.record_attempt("e1", now=T0 + 201, status="250", sent=True, retry_at=None)
    await outbox.record_attempt(
        "e3", now=T0 + 201, status="refused: 550", sent=False, retry_at=None
    )
    sent, given_up = await outbox.get("e1"), await outbox.get("e3")
    assert sent is not None
    assert sent.sent_at == T0 + 201
    assert sent.attempts == 2
    assert given_up is not None
    assert given_up.given_up_at == T0 + 201
    assert given_up.sent_at is None
    assert await outbox.claim(T0 + 10_000, limit=10, lease=60) == []
    assert await outbox.get("nope") is None


async def test_outbox_claim_respects_limit(notice_records: NoticeRecords) -> None:
    for n in range(5):
        await notice_records.outbox.enqueue(email(n, at=T0 + n))
    first = await notice_records.outbox.claim(T0 + 10, limit=2, lease=60)
    second = await notice_records.outbox.claim(T0 + 10, limit=10, lease=60)
    assert [e.id for e in first] == ["e0", "e1"]
    assert [e.id for e in second] == ["e2", "e3", "e4"]


async def test_inbox_lists_newest_first_and_counts_unread(notice_records: NoticeRecords) -> None:
    inbox = notice_records.inbox
    first = Notice("n1", "cust-1", "granted", T0, "Connected", "text", "k1", consent_id="c1")
    assert await inbox.post(first)
    assert not await inbox.post(replace(first, id="n1b"))  # dedupe key taken
    assert await inbox.post(replace(first, id="n2", time=T0 + 5, dedupe_key="k2"))
    assert await inbox.post(replace(first, id="n3", customer_id="cust-2", dedupe_key="k3"))
    listed = await inbox.list("cust-1")
    assert [n.id for n in listed] == ["n2", "n1"]
    assert listed[1] == first
    assert await inbox.unread("cust-1") == 2
    await inbox.mark_read("cust-1", T0 + 9)
    assert await inbox.unread("cust-1") == 0
    assert await inbox.unread("cust-2") == 1
    assert {n.read_at for n in await inbox.list("cust-1")} == {T0 + 9}
    assert len(await inbox.list("cust-1", limit=1)) == 1


async def test_languages_keep_the_last_choice(notice_records: NoticeRecords) -> None:
    languages = notice_records.languages
    assert await languages.language("cust-1") is None
    await languages.remember("cust-1", "ja", T0)
    await languages.remember("cust-1", "en", T0 + 1)
    await languages.remember("cust-2", "ja", T0)
    assert await languages.language("cust-1") == "en"
    assert await languages.language("cust-2") == "ja"


async def test_deletion_requests(notice_records: NoticeRecords) -> None:
    deletions = notice_records.deletions
    asked = DeletionRequest("c1", "app-1", "cust-1", T0)
    assert await deletions.ask(asked)
    assert not await deletions.ask(replace(asked, asked_at=T0 + 5))
    assert await deletions.get("c1") == asked
    assert await deletions.ask(DeletionRequest("c2", "app-1", "cust-1", T0 + 10))
    assert [r.consent_id for r in await deletions.overdue(T0 + 11)] == ["c1", "c2"]
    assert [r.consent_id for r in await deletions.overdue(T0 + 5)] == ["c1"]
    confirmed = await deletions.confirm("c1", T0 + 20)
    assert confirmed is not None
    assert confirmed.confirmed_at == T0 + 20
    again = await deletions.confirm("c1", T0 + 30)  # idempotent: the first time stays
    assert again is not None
    assert again.confirmed_at == T0 + 20
    assert await deletions.confirm("unknown", T0) is None
    assert [r.consent_id for r in await deletions.overdue(T0 + 100)] == ["c2"]
    assert await deletions.mark_overdue_told("c2", T0 + 40)
    assert not await deletions.mark_overdue_told("c2", T0 + 50)
    told = await deletions.get("c2")
    assert told is not None
    assert told.overdue_told_at == T0 + 40

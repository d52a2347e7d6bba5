"""The freshness rule (authz/store/live.py), over every record backend: a change to a consent or
its recipient acknowledged to any writer before the gate asks is what the gate reads.

"Another process" is a second store object on the same data (``reopen``) and, for the backends
whose data lives outside the process, a real second process (``revoke_elsewhere``) that revokes
between two requests of this one.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Awaitable, Callable

import anyio
import pytest

from authz.records import ConsentStatus
from authz.store.base import Records
from tests.contracts.test_record_store import T0, client, consent, event

pytestmark = pytest.mark.anyio

Reopen = Callable[[], Awaitable[Records]]


async def _granted(records: Records) -> None:
    await records.clients.put(client())
    await records.consents.create(consent(), event())


async def test_live_reads_the_consent_with_its_recipients_status(records: Records) -> None:
    """One question, both answers; an unknown consent is None."""
    await _granted(records)

    live = await records.consents.live("consent-1")

    assert live is not None
    assert consent() == live.consent
    assert "approved" == live.recipient_status
    assert await records.consents.live("nobody") is None


async def test_a_consent_of_an_unknown_recipient_has_no_status(records: Records) -> None:
    """No recipient row: no status, which the gate refuses like any status but approved."""
    await records.consents.create(consent(), event())

    live = await records.consents.live("consent-1")

    assert live is not None
    assert live.recipient_status is None


async def test_every_change_is_seen_by_the_next_question(records: Records) -> None:
    """The same store: each update (a new version) replaces what an earlier question read."""
    await _granted(records)
    first = await records.consents.live("consent-1")
    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    await records.consents.update(revoked, event(name="revoked"), expected_version=1)

    after = await records.consents.live("consent-1")

    assert first is not None
    assert ConsentStatus.ACTIVE is first.consent.status
    assert after is not None
    assert revoked == after.consent


async def test_this_stores_own_changes_after_a_cached_answer_are_seen(records: Records) -> None:
    """Asked twice, the second answer may come from the cache; a revocation and then a
    suspension through this same store (no other writer to notice) are each seen next."""
    await _granted(records)
    await records.consents.live("consent-1")
    await records.consents.live("consent-1")

    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await records.consents.update(revoked, event(name="revoked"), expected_version=1)
    after_revoke = await records.consents.live("consent-1")
    await records.consents.live("consent-1")
    await records.clients.put(client(status="suspended"))
    after_suspend = await records.consents.live("consent-1")

    assert after_revoke is not None
    assert ConsentStatus.REVOKED is after_revoke.consent.status
    assert after_suspend is not None
    assert "suspended" == after_suspend.recipient_status


async def test_a_revocation_through_another_store_is_seen_by_the_next_question(
    records: Records, reopen: Reopen
) -> None:
    """Another instance revokes between two questions of this one: the second one sees it,
    though the first left the consent parsed in this instance's cache."""
    await _granted(records)
    other = await reopen()
    before = await records.consents.live("consent-1")
    await records.consents.live("consent-1")  # and again: served from the cache if unchanged

    revoked = consent().with_status(ConsentStatus.REVOKED, T0 + 10)
    assert await other.consents.update(revoked, event(name="revoked"), expected_version=1)
    after = await records.consents.live("consent-1")

    assert before is not None
    assert ConsentStatus.ACTIVE is before.consent.status
    assert after is not None
    assert ConsentStatus.REVOKED is after.consent.status


async def test_a_suspension_through_another_store_is_seen_by_the_next_question(
    records: Records, reopen: Reopen
) -> None:
    """A recipient suspended by another instance is refused on its next request."""
    await _granted(records)
    other = await reopen()
    await records.consents.live("consent-1")

    await other.clients.put(client(status="suspended"))
    after = await records.consents.live("consent-1")

    assert after is not None
    assert "suspended" == after.recipient_status


@pytest.mark.parametrize("what", ["revoke", "suspend"])
async def test_a_change_by_another_process_between_two_requests_is_seen(
    records: Records, record_backend: str, record_location: str, what: str
) -> None:
    """A real second process (another gateway instance, or ``fdxgw``) changes the consent or
    its recipient between two requests of this one; the second request reads the change."""
    if record_backend == "memory":
        pytest.skip("the in-process store has no data another process could reach")
    await _granted(records)
    first = await records.consents.live("consent-1")

    await anyio.to_thread.run_sync(_elsewhere, record_location, what)
    second = await records.consents.live("consent-1")

    assert first is not None
    assert (ConsentStatus.ACTIVE, "approved") == (first.consent.status, first.recipient_status)
    assert second is not None
    if what == "revoke":
        assert ConsentStatus.REVOKED is second.consent.status
    else:
        assert "suspended" == second.recipient_status


def _elsewhere(location: str, what: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.contracts.revoke_elsewhere", location, "consent-1", what],
        check=True,
        timeout=60,
    )

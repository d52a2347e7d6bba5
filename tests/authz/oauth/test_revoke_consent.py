"""The shared "end this consent now" helper."""

from __future__ import annotations

import dataclasses

from authz.consent import lifecycle
from authz.consent.model import ConsentEvent, ConsentStatus
from authz.store.base import RefreshToken
from tests.authz.oauth.conftest import Harness, run


def _revoke(oauth: Harness, consent_id: str = "consent-1") -> bool:
    return run(
        lifecycle.revoke,
        oauth.services,
        consent_id,
        actor="DATA_PROVIDER",
        reason="BUSINESS_RULE",
        detail="test",
    ).changed


def test_an_active_consent_is_revoked_once(oauth: Harness) -> None:
    """The first call revokes and reports it; the second finds nothing to do."""
    oauth.consent()

    assert _revoke(oauth) is True
    assert _revoke(oauth) is False
    assert oauth.get_consent().status is ConsentStatus.REVOKED
    assert oauth.get_consent().version == 2


def test_an_unknown_consent_is_not_revoked(oauth: Harness) -> None:
    """Unknown ids answer False."""
    assert _revoke(oauth, "nope") is False


def test_refresh_tokens_die_even_when_the_consent_already_ended(oauth: Harness) -> None:
    """An expired or revoked consent still has its refresh tokens revoked."""
    oauth.consent(status=ConsentStatus.EXPIRED)
    token = RefreshToken("h", "consent-1", "client-1", oauth.clock(), oauth.clock() + 60)
    run(oauth.services.records.refresh_tokens.put, token)

    _revoke(oauth)
    record, won = run(oauth.services.records.refresh_tokens.use, "h", oauth.clock())

    assert record is not None
    assert won is False


def test_a_concurrent_update_is_retried(oauth: Harness) -> None:
    """An optimistic-version conflict is retried against the fresh consent."""
    oauth.consent()
    records = oauth.services.records
    original = records.consents.update
    calls = 0

    async def racing_update(consent, event, *, expected_version):
        nonlocal calls
        calls += 1
        if calls == 1:  # someone else writes first
            current = await records.consents.get(consent.id)
            assert current is not None
            bumped = dataclasses.replace(current, version=current.version + 1)
            other = ConsentEvent(consent.id, oauth.clock(), "renewed", "INDIVIDUAL")
            await original(bumped, other, expected_version=current.version)
        return await original(consent, event, expected_version=expected_version)

    object.__setattr__(records.consents, "update", racing_update)

    assert _revoke(oauth) is True
    assert calls == 2
    assert oauth.get_consent().status is ConsentStatus.REVOKED

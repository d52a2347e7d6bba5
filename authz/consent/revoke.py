"""Ending a consent now: the one place that flips it to REVOKED and kills its refresh tokens.

Used when a recipient revokes a refresh token (RFC 7009 §2.1), and when a code or refresh token is
replayed (RFC 6749 §4.1.2, RFC 9700 §4.14.2). Access tokens need nothing more: the gate checks the
consent live on every call, so they stop working on the very next request.
"""

from __future__ import annotations

from authz.consent.model import ConsentEvent, ConsentStatus
from authz.services import Services

ATTEMPTS = 5


class RevocationConflict(Exception):
    """The consent kept changing under us; its refresh tokens were revoked, its status not."""


async def revoke_consent(
    services: Services, consent_id: str, *, actor: str, reason: str, detail: str
) -> bool:
    """True if this call revoked the consent; False if it was unknown or already ended.
    Raises ``RevocationConflict`` if writers kept racing it.

    Refresh tokens are revoked either way, so a replay after an expiry still leaves nothing
    usable behind. Retries when another writer bumped the version first (optimistic locking).
    """
    records = services.records
    for _ in range(ATTEMPTS):
        consent = await records.get_consent(consent_id)
        if consent is None:
            return False
        now = services.clock()
        if consent.status is not ConsentStatus.ACTIVE:
            await records.revoke_refresh_tokens(consent_id, now)
            return False
        event = ConsentEvent(
            consent_id=consent_id,
            time=now,
            event="revoked",
            actor=actor,
            reason=reason,
            detail=detail,
        )
        revoked = consent.with_status(ConsentStatus.REVOKED, now)
        if await records.update_consent(revoked, event, expected_version=consent.version):
            await records.revoke_refresh_tokens(consent_id, now)
            return True
    # Still contended after several tries: the tokens at least must die now, and the caller
    # must not report success.
    await records.revoke_refresh_tokens(consent_id, services.clock())
    raise RevocationConflict(consent_id)

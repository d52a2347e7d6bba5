"""Ending a consent now, as a yes/no: did this call revoke it?

Used when a recipient revokes a refresh token (RFC 7009 §2.1), and when a code or refresh token is
replayed (RFC 6749 §4.1.2, RFC 9700 §4.14.2). The transition itself lives in
``authz.consent.lifecycle.revoke`` (recorded, refresh tokens killed, observers told); access tokens
need nothing more: the gate checks the consent live on every call, so they stop working on the
very next request.
"""

from __future__ import annotations

from authz.consent import lifecycle
from authz.consent.lifecycle import ATTEMPTS, RevocationConflict
from authz.services import Services


async def revoke_consent(
    services: Services, consent_id: str, *, actor: str, reason: str, detail: str | None = None
) -> bool:
    """True if this call revoked the consent; False if it was unknown or already ended.
    Raises ``RevocationConflict`` if writers kept racing it.

    Refresh tokens are revoked either way, so a replay after an expiry still leaves nothing
    usable behind.
    """
    _, revoked = await lifecycle.revoke_with_outcome(
        services, consent_id, actor=actor, reason=reason, detail=detail
    )
    return revoked


__all__ = ["ATTEMPTS", "RevocationConflict", "revoke_consent"]

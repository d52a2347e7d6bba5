"""Another process that revokes a consent (or suspends its recipient) and exits: the other
gateway instance of the freshness contract (tests/contracts/test_live_consents.py).

    python -m tests.contracts.revoke_elsewhere LOCATION CONSENT_ID revoke|suspend
"""

from __future__ import annotations

import sys
from dataclasses import replace

import anyio

from authz.records import ConsentEvent, ConsentStatus
from authz.store import open_records


async def main(location: str, consent_id: str, what: str) -> None:
    url = location if location.startswith("postgresql://") else f"sqlite:///{location}"
    records = open_records(url)
    try:
        consent = await records.consents.get(consent_id)
        assert consent is not None, "the consent is stored"
        if what == "suspend":
            client = await records.clients.get(consent.client_id)
            assert client is not None, "the recipient is registered"
            await records.clients.put(replace(client, status="suspended"))
            return
        revoked = consent.with_status(ConsentStatus.REVOKED, consent.updated_at + 1)
        event = ConsentEvent(consent_id, revoked.updated_at, "revoked", "INDIVIDUAL", "USER_ACTION")
        assert await records.consents.update(revoked, event, expected_version=consent.version)
    finally:
        await records.aclose()


if __name__ == "__main__":
    location, consent_id, what = sys.argv[1:4]
    anyio.run(main, location, consent_id, what)

"""The consent record's FDX face: ConsentGrant as FDX 6.2 defines it."""

from __future__ import annotations

import pytest

from authz.consent.model import Consent, ConsentResource, ConsentStatus, DurationType


def _consent(status: ConsentStatus) -> Consent:
    return Consent(
        id="c-1",
        status=status,
        client_id="app",
        customer_id="cust",
        created_at=1_773_576_000,  # 2026-03-15T12:00:00Z
        updated_at=1_773_576_061,
        expires_at=None,
        duration_type=DurationType.ONE_TIME,
        duration_period=None,
        lookback_period=None,
        resources=(ConsentResource("ACCOUNT", "acc-1", ("ACCOUNT_BASIC",)),),
        purpose="Budgeting",
    )


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (ConsentStatus.ACTIVE, "ACTIVE"),
        (ConsentStatus.REVOKED, "REVOKED"),
        (ConsentStatus.EXPIRED, "EXPIRED"),
        (ConsentStatus.DENIED, "REVOKED"),
    ],
)
def test_a_refused_consent_is_shown_as_revoked(fdx_validate, status, shown):
    """FDX ConsentGrantStatus has no DENIED: a consent the consumer refused never granted
    anything, and is shown as REVOKED; the optional dates are left out when unset."""
    body = _consent(status).to_fdx()

    fdx_validate(body, "ConsentGrantentity")
    assert {
        "id": "c-1",
        "status": shown,
        "parties": [],
        "createdTime": "2026-03-15T12:00:00Z",
        "updatedTime": "2026-03-15T12:01:01Z",
        "durationType": "ONE_TIME",
        "resources": [
            {"resourceType": "ACCOUNT", "resourceId": "acc-1", "dataClusters": ["ACCOUNT_BASIC"]}
        ],
    } == body


def test_a_consent_survives_its_dict_form_whole():
    """to_dict / from_dict (how a consent travels through a store) keep every field, the
    optional ones too."""
    from dataclasses import replace

    consent = replace(
        _consent(ConsentStatus.ACTIVE),
        expires_at=1_781_352_000.0,
        duration_type=DurationType.TIME_BOUND,
        duration_period=90,
        lookback_period=365,
        version=3,
        scope=("fdx:accountbasic:read", "offline_access"),
    )

    assert consent == Consent.from_dict(consent.to_dict())

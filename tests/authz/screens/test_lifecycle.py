"""authz.consent.lifecycle: expiry, grant and deny, to the second.

(Kept beside the screens' tests, which are the only caller so far.)
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from authz.consent import lifecycle
from authz.consent.model import ConsentResource, ConsentStatus, DurationType
from authz.pushed import ConsentRequest
from config.policy import load_policy
from config.settings import Settings

NOW = 1_767_225_600.0
SETTINGS = Settings()
POLICY = load_policy()
ASKED = ConsentRequest(
    duration_type=DurationType.TIME_BOUND,
    duration_period=90,
    lookback_period=30,
    clusters=("TRANSACTIONS", "ACCOUNT_BASIC"),
    optional_clusters=("ACCOUNT_DETAILED", "STATEMENTS"),
)


def test_a_one_time_consent_lasts_one_data_session() -> None:
    """ONE_TIME: the code's lifetime plus one access token's (60 + 300 s)."""
    asked = replace(ASKED, duration_type=DurationType.ONE_TIME, duration_period=None)

    assert lifecycle.expiry(asked, NOW, SETTINGS) == NOW + 360


def test_a_time_bound_consent_lasts_its_duration_period_in_days() -> None:
    """TIME_BOUND: durationPeriod days from the grant."""
    assert lifecycle.expiry(ASKED, NOW, SETTINGS) == NOW + 90 * 86400


def test_a_time_bound_consent_never_outlives_the_yearly_cap() -> None:
    """TIME_BOUND is capped at max_consent_days (CFPB §1033.421(b))."""
    asked = replace(ASKED, duration_period=400)

    assert lifecycle.expiry(asked, NOW, SETTINGS) == NOW + 365 * 86400
    assert lifecycle.expiry(asked, NOW, Settings(max_consent_days=30)) == NOW + 30 * 86400


def test_a_persistent_consent_needs_reauthorization_within_a_year() -> None:
    """PERSISTENT: max_consent_days after the latest authorization."""
    asked = replace(ASKED, duration_type=DurationType.PERSISTENT, duration_period=None)

    assert lifecycle.expiry(asked, NOW, SETTINGS) == NOW + 365 * 86400


def grant(**overrides: object):
    arguments: dict[str, object] = {
        "consent_id": "c-1",
        "request": ASKED,
        "requested_scope": ("openid", "fdx:transactions:read"),
        "client_id": "app",
        "customer_id": "cust",
        "account_ids": ["a-1", "a-2"],
        "optional_clusters": ["STATEMENTS"],
        "purpose": "Budgeting",
        "now": NOW,
        "settings": SETTINGS,
        "policy": POLICY,
    }
    arguments.update(overrides)
    return lifecycle.grant(**arguments)  # type: ignore[arg-type]


def test_a_grant_covers_exactly_the_chosen_accounts_and_clusters() -> None:
    """One resource per ticked account, with required + ticked optional clusters in policy order."""
    consent, event = grant()

    assert consent.status is ConsentStatus.ACTIVE
    assert consent.resources == (
        ConsentResource("ACCOUNT", "a-1", ("ACCOUNT_BASIC", "TRANSACTIONS", "STATEMENTS")),
        ConsentResource("ACCOUNT", "a-2", ("ACCOUNT_BASIC", "TRANSACTIONS", "STATEMENTS")),
    )
    assert (consent.created_at, consent.updated_at, consent.expires_at) == (
        NOW,
        NOW,
        NOW + 90 * 86400,
    )
    assert (consent.version, consent.purpose, consent.lookback_period) == (1, "Budgeting", 30)
    assert (event.consent_id, event.time, event.event, event.actor) == (
        "c-1",
        NOW,
        "granted",
        "INDIVIDUAL",
    )


def test_a_grant_ignores_optional_clusters_that_were_not_offered() -> None:
    """Only offered optional clusters can be added, whatever the caller passes."""
    consent, _ = grant(optional_clusters=["CUSTOMER_PERSONAL"])

    assert consent.clusters == frozenset({"ACCOUNT_BASIC", "TRANSACTIONS"})


@pytest.mark.parametrize(
    ("duration", "requested", "expected"),
    [
        (
            DurationType.TIME_BOUND,
            ("openid",),
            ("fdx:accountbasic:read", "fdx:transactions:read", "offline_access", "openid"),
        ),
        (
            DurationType.PERSISTENT,
            (),
            ("fdx:accountbasic:read", "fdx:transactions:read", "offline_access"),
        ),
        (DurationType.ONE_TIME, (), ("fdx:accountbasic:read", "fdx:transactions:read")),
    ],
)
def test_the_granted_scope_follows_clusters_duration_and_openid(
    duration: DurationType, requested: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    """Cluster scopes, offline_access unless ONE_TIME, openid only if asked for."""
    asked = replace(ASKED, duration_type=duration)

    consent, _ = grant(request=asked, requested_scope=requested, optional_clusters=[])

    assert consent.scope == expected


def test_a_denial_is_recorded_without_any_data() -> None:
    """deny: status DENIED, no resources, no scope, event "denied" by the consumer."""
    consent, event = lifecycle.deny(
        consent_id="c-2", request=ASKED, client_id="app", customer_id="cust", purpose="p", now=NOW
    )

    assert consent.status is ConsentStatus.DENIED
    assert consent.resources == ()
    assert consent.scope == ()
    assert not consent.is_active(NOW)
    assert (event.event, event.actor, event.time) == ("denied", "INDIVIDUAL", NOW)

"""RFC 9396 authorization_details of type fdx_v1.0, checked against policy and registration."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from authz.authorization_details import from_details
from authz.consent.model import DurationType
from authz.errors import InvalidAuthorizationDetailsError
from authz.pushed import ConsentRequest
from authz.store.base import ClientRecord
from config.policy import load_policy
from config.settings import Settings
from tests.authz.oauth.conftest import CLIENT_ID, client_record, new_key

POLICY = load_policy()
SETTINGS = Settings()
CLIENT = client_record(CLIENT_ID, new_key("k"))


def _request(**overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "durationType": "TIME_BOUND",
        "durationPeriod": 30,
        "resources": [{"resourceType": "ACCOUNT", "dataClusters": ["ACCOUNT_BASIC"]}],
    }
    request.update(overrides)
    return {k: v for k, v in request.items() if v is not None}


def _details(value: Any = None, client: ClientRecord = CLIENT, **overrides: Any) -> ConsentRequest:
    if value is None:
        value = [{"type": "fdx_v1.0", "consentRequest": _request(**overrides)}]
    raw = value if isinstance(value, str) else json.dumps(value)
    return from_details(raw, client, POLICY, SETTINGS)


def _refused(value: Any = None, client: ClientRecord = CLIENT, **overrides: Any) -> str:
    with pytest.raises(InvalidAuthorizationDetailsError) as info:
        _details(value, client, **overrides)
    return str(info.value.description)


def test_a_valid_request_becomes_a_consent_request() -> None:
    """The happy path yields the typed ConsentRequest."""
    consent = _details(lookbackPeriod=90, purpose="  Budgeting  ")

    assert consent == ConsentRequest(
        duration_type=DurationType.TIME_BOUND,
        duration_period=30,
        lookback_period=90,
        clusters=("ACCOUNT_BASIC",),
        purpose="Budgeting",
    )


def test_an_omitted_lookback_is_the_clients_registered_limit() -> None:
    """Leaving lookbackPeriod out never means unlimited history for a client with a limit."""
    assert 365 == _details().lookback_period
    assert _details(client=replace(CLIENT, max_lookback_period=None)).lookback_period is None


def test_clusters_of_all_resources_are_merged_in_policy_order() -> None:
    """Several resources merge; a cluster both required and optional counts as required."""
    resources = [
        {
            "resourceType": "ACCOUNT",
            "dataClusters": ["TRANSACTIONS"],
            "optionalDataClusters": ["STATEMENTS", "ACCOUNT_BASIC"],
        },
        {"resourceType": "ACCOUNT", "dataClusters": ["ACCOUNT_BASIC"]},
    ]

    consent = _details(resources=resources)

    assert consent.clusters == ("ACCOUNT_BASIC", "TRANSACTIONS")
    assert consent.optional_clusters == ("STATEMENTS",)


@pytest.mark.parametrize("kind", ["ONE_TIME", "PERSISTENT"])
def test_durations_without_a_period_are_accepted(kind: str) -> None:
    """ONE_TIME and PERSISTENT take no durationPeriod."""
    assert _details(durationType=kind, durationPeriod=None).duration_period is None


def test_a_wrong_type_is_refused() -> None:
    """Only fdx_v1.0 is understood."""
    _refused([{"type": "payment_initiation", "consentRequest": _request()}])


def test_two_entries_are_refused() -> None:
    """Exactly one entry."""
    entry = {"type": "fdx_v1.0", "consentRequest": _request()}

    _refused([entry, entry])


@pytest.mark.parametrize("raw", ["{not json", "[", "null", "{}", "[]", '"x"', "[1]", "[[]]"])
def test_malformed_json_is_refused(raw: str) -> None:
    """Bad JSON or the wrong shape is invalid_authorization_details, never a 500."""
    _refused(raw)


def test_deeply_nested_json_is_refused() -> None:
    """Pathological nesting is refused like any other malformed value."""
    _refused("[" * 2000 + "]" * 2000)


def test_details_over_8kb_are_refused() -> None:
    """The value is bounded before parsing."""
    description = _refused(purpose="p" * 9000)

    assert "8192" in description


def test_a_duration_beyond_the_clients_limit_is_refused() -> None:
    """durationPeriod is capped by the client's registered maximum."""
    _refused(durationPeriod=91)


def test_a_duration_beyond_the_gateway_limit_is_refused() -> None:
    """Without a client limit the gateway's max_consent_days caps it."""
    unlimited = client_record(CLIENT_ID, new_key("k"), max_duration_period=None)

    assert _details(client=unlimited, durationPeriod=365).duration_period == 365
    _refused(client=unlimited, durationPeriod=366)


def test_a_client_limit_above_the_gateway_limit_is_capped() -> None:
    """A generous client registration cannot exceed max_consent_days."""
    generous = client_record(CLIENT_ID, new_key("k"), max_duration_period=1000)

    _refused(client=generous, durationPeriod=400)


@pytest.mark.parametrize("period", [0, -1, "30", 30.5, True, False, None])
def test_a_bad_time_bound_duration_is_refused(period: Any) -> None:
    """TIME_BOUND needs a whole positive number of days; booleans are not numbers."""
    _refused(durationPeriod=period)


def test_time_bound_without_duration_period_is_refused() -> None:
    """durationPeriod is required for TIME_BOUND."""
    description = _refused(durationPeriod=None)

    assert "required" in description


def test_a_duration_period_on_a_persistent_consent_is_refused() -> None:
    """durationPeriod means nothing outside TIME_BOUND and is refused."""
    _refused(durationType="PERSISTENT", durationPeriod=30)


def test_a_duration_type_the_client_did_not_register_is_refused() -> None:
    """duration_types limits what the client may ask."""
    one_time_only = client_record(CLIENT_ID, new_key("k"), duration_types=("ONE_TIME",))

    _refused(client=one_time_only)


@pytest.mark.parametrize("kind", ["FOREVER", "", None, 1])
def test_an_unknown_duration_type_is_refused(kind: Any) -> None:
    """durationType is an FDX enum value."""
    _refused(durationType=kind)


@pytest.mark.parametrize("lookback", [366, -1, True, "90"])
def test_a_bad_lookback_period_is_refused(lookback: Any) -> None:
    """lookbackPeriod is 0..client max, a whole number."""
    _refused(lookbackPeriod=lookback)


def test_an_unknown_cluster_is_refused() -> None:
    """Clusters come from the policy file."""
    _refused(resources=[{"resourceType": "ACCOUNT", "dataClusters": ["SECRETS"]}])


def test_a_cluster_not_registered_for_the_client_is_refused() -> None:
    """INVESTMENTS is in the policy but not in the client's registration."""
    description = _refused(resources=[{"resourceType": "ACCOUNT", "dataClusters": ["INVESTMENTS"]}])

    assert "INVESTMENTS" in description


def test_an_unregistered_optional_cluster_is_refused() -> None:
    """Optional clusters follow the same rules."""
    resources = [
        {
            "resourceType": "ACCOUNT",
            "dataClusters": ["ACCOUNT_BASIC"],
            "optionalDataClusters": ["INVESTMENTS"],
        }
    ]

    _refused(resources=resources)


def test_a_resource_id_is_refused() -> None:
    """The consumer picks accounts; a request naming one is refused."""
    resources = [{"resourceType": "ACCOUNT", "resourceId": "a1", "dataClusters": ["ACCOUNT_BASIC"]}]

    assert "resourceId" in _refused(resources=resources)


@pytest.mark.parametrize(
    "resources",
    [
        [],
        None,
        "ACCOUNT",
        [{"resourceType": "CUSTOMER", "dataClusters": ["ACCOUNT_BASIC"]}],
        [{"resourceType": "ACCOUNT", "dataClusters": []}],
        [{"resourceType": "ACCOUNT"}],
        [{"resourceType": "ACCOUNT", "dataClusters": "ACCOUNT_BASIC"}],
        [{"resourceType": "ACCOUNT", "dataClusters": [1]}],
        ["ACCOUNT"],
    ],
)
def test_malformed_resources_are_refused(resources: Any) -> None:
    """resources is a non-empty array of ACCOUNT resources with non-empty cluster lists."""
    _refused(resources=resources)


@pytest.mark.parametrize("purpose", ["", "   ", "x" * 501, 42, "line\nbreak"])
def test_a_bad_purpose_is_refused(purpose: Any) -> None:
    """purpose is 1-500 characters of text."""
    _refused(purpose=purpose)


def test_unknown_members_are_refused() -> None:
    """What we do not understand is refused, not silently dropped."""
    _refused(scheduledPayments=True)
    _refused([{"type": "fdx_v1.0", "consentRequest": _request(), "locations": ["x"]}])

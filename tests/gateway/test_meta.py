"""FDX Meta API: GET /fdx/v6/availability and GET /fdx/v6/capability (public)."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.errors import BankUnavailable, ScheduledMaintenance
from adapters.sandbox import SandboxBank
from gateway.fdx.meta import load_windows
from gateway.openapi.document import fdx_operations, load_document
from tests.gateway.conftest import assert_fdx_error
from tests.gateway.fakes import NOW, TODAY
from tests.gateway.operator_app import FullHarness
from tests.gateway.test_health import ProbedBank

HOUR = 3600


def windows_file(tmp_path: Path, body: str) -> str:
    path = tmp_path / "windows.toml"
    path.write_text(body, encoding="utf-8")
    return str(path)


def test_availability_is_public_and_fdx_shaped(fdx_validate):
    """No token needed; the body is an FDX AvailabilityList."""
    response = FullHarness(ProbedBank()).client.get("/fdx/v6/availability")

    fdx_validate(response.json(), "AvailabilityListentity")
    assert 200 == response.status_code
    assert "ALIVE" == response.json()["availability"][0]["status"]
    assert response.headers["x-fapi-interaction-id"]


@pytest.mark.parametrize(
    ("error", "status"),
    [(BankUnavailable("x"), "DOWN"), (ScheduledMaintenance(), "MAINTENANCE")],
    ids=["down", "maintenance"],
)
def test_availability_follows_the_adapters_health(error, status, fdx_validate):
    """The bank's state is the data operations' state."""
    response = FullHarness(ProbedBank(error)).client.get("/fdx/v6/availability")

    fdx_validate(response.json(), "AvailabilityListentity")
    assert status == response.json()["availability"][0]["status"]


def test_a_planned_window_in_force_sets_the_status_and_later_ones_are_listed(
    tmp_path, fdx_validate
):
    """The window now in force wins; every window not yet over is in plannedAvailability."""
    path = windows_file(
        tmp_path,
        """
[[window]]
start = 2026-03-15T11:00:00Z
end = 2026-03-15T13:00:00Z
description = "Core banking upgrade"

[[window]]
start = 2026-04-01T01:00:00Z
end = 2026-04-01T02:00:00Z
status = "PARTIAL"
description = "Card system patch"

[[window]]
start = 2026-01-01T01:00:00Z
end = 2026-01-01T02:00:00Z
""",
    )
    full = FullHarness(ProbedBank(), maintenance_file=path)

    body = full.client.get("/fdx/v6/availability").json()

    fdx_validate(body, "AvailabilityListentity")
    entry = body["availability"][0]
    assert ("MAINTENANCE", "Core banking upgrade") == (entry["status"], entry["description"])
    assert [
        ("MAINTENANCE", "2026-03-15T11:00:00Z", "2026-03-15T13:00:00Z"),
        ("PARTIAL", "2026-04-01T01:00:00Z", "2026-04-01T02:00:00Z"),
    ] == [(p["status"], p["startTime"], p["endTime"]) for p in entry["plannedAvailability"]]


def test_after_a_window_the_status_is_the_adapters_again(tmp_path):
    """Once the window is over, the probe decides."""
    path = windows_file(
        tmp_path,
        "[[window]]\nstart = 2026-03-15T11:00:00Z\nend = 2026-03-15T13:00:00Z\n",
    )
    full = FullHarness(ProbedBank(), maintenance_file=path)
    full.clock.advance(2 * HOUR)

    entry = full.client.get("/fdx/v6/availability").json()["availability"][0]

    assert ("ALIVE", None) == (entry["status"], entry.get("plannedAvailability"))


def test_operations_that_do_not_need_the_bank_stay_alive():
    """The Consent API answers from the gateway alone, even with the core down."""
    full = FullHarness(ProbedBank(BankUnavailable("x")))

    consent_api = full.client.get("/fdx/v6/availability?operationId=getConsentGrant").json()
    data_api = full.client.get("/fdx/v6/availability?operationId=searchForAccounts").json()

    assert {"status": "ALIVE", "operationId": "getConsentGrant"} == {
        k: consent_api["availability"][0][k] for k in ("status", "operationId")
    }
    assert "DOWN" == data_api["availability"][0]["status"]


def test_an_operation_we_do_not_serve_has_no_availability():
    """Zero entries for an FDX operation outside this gateway."""
    body = FullHarness().client.get("/fdx/v6/availability?operationId=getPayroll").json()

    assert {"availability": []} == body


def test_a_malformed_operation_id_is_an_fdx_400(fdx_validate):
    """Bad input gets the FDX error shape."""
    response = FullHarness().client.get("/fdx/v6/availability?operationId=" + "x" * 101)

    assert_fdx_error(response, 400, "401", fdx_validate)


def test_meta_endpoints_take_get_only(fdx_validate):
    """Another method gets FDX 405/1206, not Starlette's plain text."""
    response = FullHarness().client.post("/fdx/v6/capability")

    assert_fdx_error(response, 405, "1206", fdx_validate)


def test_capability_lists_what_we_serve_and_where_the_keys_are(fdx_validate):
    """FDX versions, one operation per documented operation (the sandbox serves every
    category), JWKS URL from the issuer."""
    full = FullHarness(SandboxBank(today=TODAY))

    body = full.client.get("/fdx/v6/capability").json()

    fdx_validate(body, "Capabilityentity")
    assert ["V6.2.0"] == body["fdxVersions"]
    assert "JSON" == body["messageFormat"]
    assert f"{full.settings.issuer}/jwks" == body["jwksUrl"]["href"]
    fdx = fdx_operations(load_document())
    assert {o["operationId"] for _, _, o in fdx} == {o["id"] for o in body["operations"]}
    assert len(fdx) == len(body["operations"])
    statement = next(o for o in body["operations"] if o["id"] == "getAccountStatement")
    assert ["application/pdf"] == statement["link"]["types"]


NEEDING_CATEGORIES = {
    "getAccountTransactionImages",
    "getAccountAssetTransferNetworks",
    "searchForPayments",
    "searchForRecurringPayments",
    "getPaymentsForRecurringPayment",
    "searchRewardPrograms",
    "getRewardProgram",
    "getRewardProgramCategories",
    "searchForTaxForms",
    "getTaxForm",
}


def test_capability_leaves_out_what_the_adapter_cannot_serve(fdx_validate):
    """An adapter with none of the optional categories: their operations are not listed."""
    body = FullHarness().client.get("/fdx/v6/capability").json()

    listed = {o["id"] for o in body["operations"]}
    documented = {o["operationId"] for _, _, o in fdx_operations(load_document())}
    assert documented - NEEDING_CATEGORIES == listed


def test_capability_details_carry_each_operations_availability(fdx_validate):
    """resultType=details adds availability: the bank's for data, ALIVE for the rest."""
    full = FullHarness(ProbedBank(BankUnavailable("x")))

    body = full.client.get("/fdx/v6/capability?resultType=details").json()

    fdx_validate(body, "Capabilityentity")
    by_id = {o["id"]: o["availability"]["status"] for o in body["operations"]}
    assert ("DOWN", "ALIVE") == (by_id["getAccount"], by_id["getCapability"])


def test_capability_for_another_fdx_version_lists_no_operations():
    """We serve V6.2.0 only."""
    body = FullHarness().client.get("/fdx/v6/capability?fdxVersion=V5.0").json()

    assert [] == body["operations"]


def test_capability_filters_by_operation_id():
    """operationId narrows the list to that operation."""
    body = FullHarness().client.get("/fdx/v6/capability?operationId=getAccount").json()

    assert ["getAccount"] == [o["id"] for o in body["operations"]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[[window]]\nstart = 2026-01-01T01:00:00\nend = 2026-01-01T02:00:00\n", "time zone"),
        ("[[window]]\nstart = 2026-01-01T02:00:00Z\nend = 2026-01-01T01:00:00Z\n", "after start"),
        (
            "[[window]]\nstart = 2026-01-01T01:00:00Z\nend = 2026-01-01T02:00:00Z\n"
            'status = "ALIVE"\n',
            "status",
        ),
        ('[[window]]\nstart = "tomorrow"\nend = 2026-01-01T02:00:00Z\n', "date-times"),
        ("[[windows]]\n", "unknown key"),
        ("not toml at all [", "cannot read"),
    ],
    ids=["naive", "backwards", "alive-status", "text-date", "misspelt", "garbage"],
)
def test_a_bad_windows_file_stops_start_up(tmp_path, body, message):
    """The file is checked when the app is built; the error names what is wrong."""
    with pytest.raises(ValueError, match=message):
        load_windows(windows_file(tmp_path, body))


def test_no_windows_file_means_no_windows():
    """The default: nothing planned."""
    assert () == load_windows("")


def test_windows_are_read_in_start_order(tmp_path):
    """Sorted by start whatever the file's order."""
    windows = load_windows(
        windows_file(
            tmp_path,
            "[[window]]\nstart = 2026-05-01T00:00:00Z\nend = 2026-05-01T01:00:00Z\n"
            "[[window]]\nstart = 2026-04-01T00:00:00Z\nend = 2026-04-01T01:00:00Z\n",
        )
    )

    assert [w.start for w in windows] == sorted(w.start for w in windows)
    assert windows[0].start < NOW + 30 * 86400


def test_certification_metrics_are_public_fdx_shaped_and_from_the_audit_trail(fdx_validate):
    """Thirteen months, the current one last, whose averageUpTime is the percentage of proper
    responses recorded in the audit trail: the same figure /metrics reports."""
    harness = FullHarness(ProbedBank())
    _, token = harness.grant()
    harness.get("/fdx/v6/accounts", token)
    harness.get("/fdx/v6/accounts/unknown", token)
    harness.bank.fail = BankUnavailable("down")
    harness.get("/fdx/v6/accounts", token)

    response = harness.client.get("/fdx/v6/certification-metrics")
    scraped = harness.client.get("/metrics").text

    fdx_validate(response.json(), "CertificationMetricsentity")
    metrics = response.json()["metrics"]
    assert (200, 13) == (response.status_code, len(metrics))
    current = metrics[-1]
    assert pytest.approx(100 * 2 / 3, abs=1e-3) == current["averageUpTime"]
    assert "searchForAccounts" in current["operationIds"]
    assert 'fdxgw_cfpb_1033_response_rate{month="2026-03"} 0.666' in scraped
    assert current["reportStartTimestamp"].startswith("2026-03-01T00:00:00")


def test_certification_metrics_of_one_operation_count_its_accesses_only(fdx_validate):
    """searchForAccounts failed once in two; getAccount answered its one query properly; any
    operation that is not a data operation has no metrics."""
    harness = FullHarness(ProbedBank())
    _, token = harness.grant()
    harness.get("/fdx/v6/accounts", token)
    harness.get("/fdx/v6/accounts/unknown", token)
    harness.bank.fail = BankUnavailable("down")
    harness.get("/fdx/v6/accounts", token)
    client = harness.client

    search = client.get("/fdx/v6/certification-metrics?operationId=searchForAccounts").json()
    one = client.get("/fdx/v6/certification-metrics?operationId=getAccount").json()
    meta = client.get("/fdx/v6/certification-metrics?operationId=getCapability").json()

    fdx_validate(search, "CertificationMetricsentity")
    assert ["searchForAccounts"] == search["metrics"][-1]["operationIds"]
    assert 50 == search["metrics"][-1]["averageUpTime"]
    assert (["getAccount"], 100) == (
        one["metrics"][-1]["operationIds"],
        one["metrics"][-1]["averageUpTime"],
    )
    assert {"metrics": []} == meta

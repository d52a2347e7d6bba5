"""/metrics: per-route requests and latency, adapter calls, consents, tokens, CFPB rate."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from adapters.errors import BankUnavailable, CustomerNotFound, ScheduledMaintenance
from gateway.admin.token import write_token_hash
from gateway.app import create_app
from gateway.metrics import (
    MeasuredBank,
    Metrics,
    MetricsMiddleware,
    measure,
)
from gateway.response_rate import ResponseRates
from tests.gateway.fakes import CUSTOMER, FakeBank
from tests.gateway.operator_app import FullHarness

MAY_2026 = 1_778_000_000.0  # 2026-05-05T16:53:20Z
JUNE_2026 = 1_780_300_800.0  # 2026-06-01T08:00:00Z


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in a Prometheus text page, or None when absent."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def full() -> FullHarness:
    return FullHarness()


def test_requests_are_labelled_by_route_template_not_raw_path(full):
    """An account id in the path becomes {accountId}; the id never reaches a label."""
    _, token = full.grant()

    full.get("/fdx/v6/accounts/acc-chk", token)
    full.get("/fdx/v6/accounts/acc-secret-id", token)
    page = full.client.get("/metrics").text

    ok = sample(
        page,
        "fdxgw_http_requests_total",
        route="/fdx/v6/accounts/{accountId}",
        method="GET",
        status="200",
    )
    missing = sample(
        page,
        "fdxgw_http_requests_total",
        route="/fdx/v6/accounts/{accountId}",
        method="GET",
        status="404",
    )
    assert (1.0, 1.0) == (ok, missing)
    assert "acc-chk" not in page
    assert "acc-secret-id" not in page


def test_latency_is_a_histogram_per_route_method_and_status(full):
    """Buckets, sum and count exist for the route that was called."""
    _, token = full.grant()

    full.get("/fdx/v6/accounts", token)
    page = full.client.get("/metrics").text

    count = sample(
        page,
        "fdxgw_http_request_duration_seconds_count",
        route="/fdx/v6/accounts",
        method="GET",
        status="200",
    )
    inf = sample(
        page,
        "fdxgw_http_request_duration_seconds_bucket",
        route="/fdx/v6/accounts",
        le="+Inf",
    )
    assert (1.0, 1.0) == (count, inf)


def test_unknown_paths_and_methods_do_not_grow_the_label_sets(full):
    """A path no route matches is "unmatched"; a made-up method is OTHER."""
    full.client.get("/nothing/here/12345")
    full.client.request("BREW", "/fdx/v6/accounts")
    page = full.client.get("/metrics").text

    assert sample(page, "fdxgw_http_requests_total", route="unmatched", status="404") == 1.0
    assert sample(page, "fdxgw_http_requests_total", method="OTHER") == 1.0
    assert "12345" not in page
    assert "BREW" not in page


def test_adapter_calls_are_timed_and_errors_counted_per_adapter(full):
    """The fake bank's calls appear under its name; a failure is counted by its class."""
    _, token = full.grant()

    full.get("/fdx/v6/accounts", token)
    full.bank.fail = BankUnavailable("core down")
    full.get("/fdx/v6/accounts", token)
    page = full.client.get("/metrics").text

    calls = sample(
        page,
        "fdxgw_adapter_call_duration_seconds_count",
        adapter="fake",
        operation="list_accounts",
    )
    errors = sample(
        page,
        "fdxgw_adapter_errors_total",
        adapter="fake",
        operation="list_accounts",
        error="BankUnavailable",
    )
    assert (2.0, 1.0) == (calls, errors)


def test_active_consents_are_counted_when_scraped(full):
    """Two granted, one revoked: the gauge says one."""
    first, _ = full.grant()
    full.grant()
    full.revoke(first)

    page = full.client.get("/metrics").text

    assert 1.0 == sample(page, "fdxgw_active_consents")


def test_the_response_rate_counts_data_endpoints_per_month(full):
    """A 200 and a 404 are proper, an outage (503/501) is not: 2 of 3 in the clock's month."""
    _, token = full.grant()

    full.get("/fdx/v6/accounts", token)
    full.get("/fdx/v6/accounts/unknown", token)
    full.bank.fail = BankUnavailable("core down")
    full.get("/fdx/v6/accounts", token)
    full.client.get("/fdx/v6/capability")  # meta: not a query for covered data
    page = full.client.get("/metrics").text

    assert 3.0 == sample(page, "fdxgw_cfpb_1033_requests_total", month="2026-03")
    assert 2.0 == sample(page, "fdxgw_cfpb_1033_proper_responses_total", month="2026-03")
    rate = sample(page, "fdxgw_cfpb_1033_response_rate", month="2026-03")
    assert rate == pytest.approx(2 / 3)


def test_the_figures_come_from_the_audit_trail_not_the_process(full):
    """A second app on the same records (another instance, or this one restarted) reports the
    same month: nothing is kept in process memory."""
    _, token = full.grant()
    full.get("/fdx/v6/accounts", token)
    full.bank.fail = BankUnavailable("core down")
    full.get("/fdx/v6/accounts", token)

    other = TestClient(create_app(full.settings, services=full.services))
    page = other.get("/metrics").text

    assert 2.0 == sample(page, "fdxgw_cfpb_1033_requests_total", month="2026-03")
    assert 1.0 == sample(page, "fdxgw_cfpb_1033_proper_responses_total", month="2026-03")


def test_scheduled_maintenance_is_left_out_of_the_rate(tmp_path: Path):
    """503s answered inside an announced maintenance window are in neither count (§1033.311)."""
    windows = tmp_path / "maintenance.toml"
    windows.write_text(
        "[[window]]\nstart = 2026-03-01T00:00:00Z\nend = 2026-04-01T00:00:00Z\n",
        encoding="utf-8",
    )
    full = FullHarness(maintenance_file=str(windows))
    _, token = full.grant()

    full.get("/fdx/v6/accounts", token)
    full.bank.fail = ScheduledMaintenance(retry_after=60)
    response = full.get("/fdx/v6/accounts", token)
    page = full.client.get("/metrics").text

    assert "60" == response.headers["retry-after"]
    assert 1.0 == sample(page, "fdxgw_cfpb_1033_requests_total", month="2026-03")
    assert 1.0 == sample(page, "fdxgw_cfpb_1033_response_rate", month="2026-03")


class Counts:
    """An audit store holding only what the rate asks: (time, status) of each access."""

    def __init__(self, events: list[tuple[float, int]]) -> None:
        self.events = events
        self.asked = 0

    async def count_audit_statuses(
        self, start: float, end: float, endpoint: str | None = None
    ) -> dict[int, int]:
        self.asked += 1
        out: dict[int, int] = {}
        for time, status in self.events:
            if start <= time < end:
                out[status] = out.get(status, 0) + 1
        return out


@pytest.mark.parametrize(
    ("status", "proper"),
    [(200, 1), (206, 1), (404, 1), (429, 1), (500, 0), (503, 0)],
    ids=["ok", "partial", "explained-404", "explained-429", "server-error", "outage"],
)
def test_a_proper_response_fulfils_the_query_or_explains_why_not(status, proper):
    """2xx or 4xx is proper; 5xx outside scheduled downtime is not."""
    rates = ResponseRates(Counts([(MAY_2026, status)]), clock=lambda: MAY_2026)

    may = anyio.run(rates.months)[-1]

    assert ("2026-05", 1, proper) == (may.month, may.requests, may.proper)


def test_each_utc_month_has_its_own_figures_and_thirteen_are_published():
    """Months split at midnight UTC; the last 13 are reported, the current one last."""
    rates = ResponseRates(Counts([(MAY_2026, 200), (JUNE_2026, 500)]), clock=lambda: JUNE_2026)

    months = anyio.run(rates.months)

    assert 13 == len(months)
    assert ("2025-06", "2026-06") == (months[0].month, months[-1].month)
    assert {"2026-05": (1, 1), "2026-06": (1, 0)} == {
        m.month: (m.requests, m.proper) for m in months if m.requests
    }


def test_a_month_that_ended_is_counted_once():
    """Past months are final and kept; only the current one is counted again."""
    store = Counts([(MAY_2026, 200)])
    rates = ResponseRates(store, clock=lambda: JUNE_2026, ttl=0)

    anyio.run(rates.months)
    first = store.asked
    anyio.run(rates.months)

    assert 13 == first
    assert first + 1 == store.asked


def _token_app(metrics: Metrics) -> Starlette:
    async def token(request: Request) -> Response:
        body = (await request.body()).decode()
        return JSONResponse({}, status_code=400 if "bad" in body else 200)

    return Starlette(routes=[Route("/oauth/token", token, methods=["POST"])])


@pytest.mark.parametrize(
    ("body", "grant"),
    [
        ("grant_type=authorization_code&code=x", "authorization_code"),
        ("client_id=a&grant_type=refresh_token", "refresh_token"),
        ("grant_type=client_credentials", "client_credentials"),
        ("grant_type=urn%3Aunknown", "other"),
    ],
    ids=["code", "refresh", "client-credentials", "unknown"],
)
def test_issued_tokens_are_counted_by_grant_type(body, grant):
    """A 200 from POST /oauth/token counts once under its form's grant_type."""
    metrics = Metrics()
    client = TestClient(MetricsMiddleware(_token_app(metrics), metrics))

    client.post("/oauth/token", content=body, headers={"content-type": "x-www-form-urlencoded"})

    assert {grant: 1} == metrics.tokens


def test_refused_token_requests_are_not_counted_as_issued():
    """An error answer issues nothing."""
    metrics = Metrics()
    client = TestClient(MetricsMiddleware(_token_app(metrics), metrics))

    client.post("/oauth/token", content="grant_type=refresh_token&bad=1")

    assert {} == metrics.tokens


def test_metrics_can_require_the_admin_token(tmp_path: Path):
    """With metrics_require_admin, a scrape without the admin token is refused."""
    write_token_hash(tmp_path / "admin.sha256", "the-admin-token")
    full = FullHarness(admin_token_file=str(tmp_path / "admin.sha256"), metrics_require_admin=True)

    refused = full.client.get("/metrics")
    allowed = full.client.get("/metrics", headers={"Authorization": "Bearer the-admin-token"})

    assert (401, 200) == (refused.status_code, allowed.status_code)
    assert allowed.headers["content-type"].startswith("text/plain; version=0.0.4")


def test_a_composite_adapter_is_measured_member_by_member():
    """Each member is wrapped under its own label, so one slow core shows on its own."""

    class Composite(FakeBank):
        name = "composite"

        def __init__(self) -> None:
            super().__init__()
            self.members: dict[str, Any] = {"deposits": FakeBank(), "cards": FakeBank()}

        async def get_customer(self, customer_id: str) -> Any:
            return await self.members["cards"].get_customer(customer_id)

    metrics = Metrics()
    bank = measure(Composite(), metrics)

    anyio.run(bank.get_customer, CUSTOMER)

    assert isinstance(bank, MeasuredBank)
    assert {("composite", "get_customer"), ("cards", "get_customer")} == set(metrics.adapter_calls)


def test_expected_adapter_answers_are_counted_by_class():
    """A not-found is counted under its own class, apart from outages."""
    bank = FakeBank()
    bank.fail = CustomerNotFound("x")
    metrics = Metrics()

    with pytest.raises(CustomerNotFound):
        anyio.run(measure(bank, metrics).list_accounts, CUSTOMER)

    assert {("fake", "list_accounts", "CustomerNotFound"): 1} == metrics.adapter_errors


def test_the_adapter_status_and_the_signing_keys_age_are_scraped():
    """One status is 1 (DOWN while the bank's probe fails), the others 0; the key's age ≥ 0."""
    from tests.gateway.test_health import ProbedBank

    page = FullHarness(ProbedBank(BankUnavailable("core down"))).client.get("/metrics").text

    assert 1.0 == sample(page, "fdxgw_adapter_status", status="DOWN")
    assert 0.0 == sample(page, "fdxgw_adapter_status", status="ALIVE")
    age = sample(page, "fdxgw_signing_key_age_seconds")
    assert age is not None
    assert age >= 0


def test_process_metrics_are_exported(full):
    """process_* from prometheus-client's process collector (one process)."""
    page = full.client.get("/metrics").text

    cpu = sample(page, "process_cpu_seconds_total")
    assert cpu is not None
    assert cpu > 0

"""FDX data operations served by ``FdxDispatcher`` answer as through Starlette's stack."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient
from starlette.types import Receive, Scope, Send

from gateway.audit import AuditLog
from gateway.fdx.dispatch import FdxDispatcher
from gateway.fdx.endpoint import Call, FdxEndpoint, Served
from gateway.metrics import Metrics
from tests.gateway.operator_app import FullHarness

IID = {"x-fapi-interaction-id": "fixed-id-1"}
TX = "/fdx/v6/accounts/acc-chk/transactions?startTime=2026-01-01&endTime=2026-01-31&limit=2"


def through_starlette(app: Starlette) -> Any:
    """The same app with the dispatcher bypassed: Starlette's stack answers everything."""

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        await Starlette.__call__(app, scope, receive, send)

    return slow


def answer(client: TestClient, method: str, path: str, token: str | None) -> tuple[Any, ...]:
    headers = {**IID, **({"Authorization": f"Bearer {token}"} if token else {})}
    response = client.request(method, path, headers=headers)
    return response.status_code, sorted(response.headers.items()), response.content


@pytest.mark.parametrize(
    ("method", "path", "with_token"),
    [
        ("GET", TX, True),
        ("GET", "/fdx/v6/accounts", True),
        ("GET", "/fdx/v6/accounts/acc-chk", True),
        ("GET", "/fdx/v6/accounts/nope/transactions", True),
        ("GET", "/fdx/v6/accounts/acc-chk/statements?limit=1", True),
        ("GET", "/fdx/v6/customers/current", True),
        ("GET", TX, False),
        ("POST", "/fdx/v6/accounts", True),
        ("DELETE", TX, True),
        ("HEAD", "/fdx/v6/accounts", True),
        ("GET", "/fdx/v6/accounts/", True),
        ("GET", "/fdx/v6/accounts//transactions", True),
        ("GET", "/fdx/v6/accounts/acc-chk/transactions/extra", True),
        ("GET", "/fdx/v6/nothing-here", True),
        ("GET", "/fdx/v6", True),
        ("GET", "/fdx/v5/accounts", True),
    ],
    ids=[
        "transactions",
        "accounts",
        "account",
        "account-not-consented",
        "statements",
        "customer",
        "no-token",
        "post-405",
        "delete-405",
        "head-405",
        "trailing-slash",
        "empty-segment",
        "too-long",
        "unknown-path",
        "mount-root",
        "other-version",
    ],
)
def test_every_answer_is_the_one_starlettes_stack_gives(method: str, path: str, with_token: bool):
    """Status, headers and body are byte for byte those of the Mount and its middleware."""
    h = FullHarness()
    _, token = h.grant()
    fast = TestClient(h.app, raise_server_exceptions=False)
    slow = TestClient(through_starlette(h.app), raise_server_exceptions=False)

    expected = answer(slow, method, path, token if with_token else None)
    actual = answer(fast, method, path, token if with_token else None)

    assert expected == actual


def test_data_operations_are_dispatched_and_nothing_else():
    """Exact templates only; the Consent API, the catch-all and a root_path go to Starlette."""
    h = FullHarness()
    dispatcher = h.app.fdx_dispatcher

    def matched(path: str, root_path: str = "") -> Any:
        hit = dispatcher.match({"type": "http", "path": path, "root_path": root_path})
        return None if hit is None else (hit[0].template, hit[1])

    assert ("/fdx/v6/accounts", {}) == matched("/fdx/v6/accounts")
    assert ("/fdx/v6/accounts/{accountId}/transactions", {"accountId": "a b"}) == matched(
        "/fdx/v6/accounts/a b/transactions"
    )
    assert ("/fdx/v6/customers/current", {}) == matched("/fdx/v6/customers/current")
    assert None is matched("/fdx/v6/consents/c-1")
    assert None is matched("/fdx/v6/accounts/")
    assert None is matched("/fdx/v6/accounts/a/transactions\n")
    assert None is matched("/fdx/v6accounts")
    assert None is matched("/fdx/v6/accounts", root_path="/behind-a-proxy")


def test_dispatched_answers_carry_the_id_hsts_and_are_counted():
    """With an https issuer every answer has HSTS and the interaction id, and /metrics counts
    it under its route template."""
    h = FullHarness(issuer="https://bank.example")
    _, token = h.grant()

    response = h.get(TX, token)
    refused = h.client.post("/fdx/v6/accounts")
    page = h.client.get("/metrics").text

    for r in (response, refused):
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert 36 == len(r.headers["x-fapi-interaction-id"])
    assert 'route="/fdx/v6/accounts/{accountId}/transactions",status="200"' in page
    assert 'method="POST",route="/fdx/v6/accounts",status="405"' in page


def test_the_mount_middleware_wraps_dispatched_operations():
    """When DPoP nonces are required, a data answer carries a fresh DPoP-Nonce, as under the
    Mount (RFC 9449 §9)."""
    h = FullHarness(profile="fapi2", dpop_nonce_required=True)

    response = h.client.get("/fdx/v6/accounts")

    assert 401 == response.status_code
    assert response.headers["dpop-nonce"]


class _Broken(FdxEndpoint):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a bug")


async def _never(call: Call) -> Served:
    raise AssertionError("not reached")


def test_an_escaping_exception_is_a_500_in_fdx_shape_and_is_raised():
    """The last-resort answer: FDX 500 with the interaction id, then the server sees the error."""
    h = FullHarness()
    endpoint = _Broken("GET /accounts", _never, h.services, AuditLog(h.records.audit, h.clock))
    metrics = Metrics()
    dispatcher = FdxDispatcher([Route("/accounts", endpoint)], metrics=metrics, hsts=False)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    async def call() -> None:
        scope = {"type": "http", "method": "GET", "path": "/fdx/v6/accounts", "headers": []}
        hit = dispatcher.match(scope)
        assert hit is not None
        await dispatcher.serve(*hit, scope, receive, send)

    with pytest.raises(RuntimeError):
        anyio.run(call)

    assert 500 == sent[0]["status"]
    assert b'"code":"500"' in sent[1]["body"]
    assert any(k == b"x-fapi-interaction-id" for k, _ in sent[0]["headers"])
    assert [("/fdx/v6/accounts", "GET", "500")] == list(metrics.requests)

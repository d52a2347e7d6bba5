"""management_port: the operators' paths on that port only, everything else off it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from gateway.management import is_management_path, served_here
from tests.gateway.operator_app import FullHarness

MANAGEMENT = 9100


@pytest.mark.parametrize(
    ("path", "management"),
    [
        ("/metrics", True),
        ("/healthz", True),
        ("/readyz", True),
        ("/admin", True),
        ("/admin/keys", True),
        ("/administrator", False),
        ("/fdx/v6/accounts", False),
        ("/metricsx", False),
        ("/", False),
    ],
)
def test_which_paths_are_the_operators(path: str, management: bool):
    """Exact paths and what is under /admin/; nothing that merely starts alike."""
    assert management == is_management_path(path)


@pytest.mark.parametrize(
    ("port", "path", "here"),
    [
        (MANAGEMENT, "/metrics", True),
        (MANAGEMENT, "/fdx/v6/accounts", False),
        (8000, "/metrics", False),
        (8000, "/fdx/v6/accounts", True),
    ],
)
def test_a_path_is_served_on_its_own_port_only(port: int, path: str, here: bool):
    """The listening socket's port (ASGI server) decides."""
    scope = {"type": "http", "path": path, "server": ("127.0.0.1", port)}

    assert here == served_here(scope, MANAGEMENT)


def test_the_app_answers_404_for_the_operators_paths_on_the_public_port():
    """TestClient talks to port 80, the public one here: /metrics is not found, the API is."""
    client = FullHarness(management_port=MANAGEMENT).client

    assert 404 == client.get("/metrics").status_code
    assert 404 == client.get("/healthz").status_code
    assert 200 == client.get("/fdx/v6/capability").status_code


def test_without_a_management_port_everything_shares_one_port():
    """The default: today's behaviour."""
    client: TestClient = FullHarness().client

    assert 200 == client.get("/metrics").status_code
    assert 200 == client.get("/healthz").status_code

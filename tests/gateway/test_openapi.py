"""The OpenAPI document of our FDX surface: in sync with the routes, served, rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Mount, Route

from config.policy import load_policy
from gateway.fdx.consents import ConsentEndpoint
from gateway.fdx.endpoint import FdxEndpoint
from gateway.fdx.subscriptions import SubscriptionEndpoint
from gateway.openapi.build import DEFAULT_SPEC, build
from gateway.openapi.document import load_document, operations
from gateway.openapi.page import render_page
from tests.conftest import SPEC_CANDIDATES
from tests.gateway.operator_app import FullHarness

NOT_FDX_OPERATIONS = {"/{path:path}", "/openapi.json"}  # the 404 catch-all and this document


def served_operations(full: FullHarness) -> set[tuple[str, str]]:
    """(METHOD, path) of every FDX operation the app actually routes under /fdx/v6."""
    mount = next(r for r in full.app.routes if isinstance(r, Mount) and r.path == "/fdx/v6")
    found: set[tuple[str, str]] = set()
    for route in mount.routes:
        assert isinstance(route, Route)
        if route.path in NOT_FDX_OPERATIONS:
            continue
        endpoint: Any = route.endpoint
        if isinstance(endpoint, FdxEndpoint):
            methods = {"GET"}
        elif isinstance(endpoint, ConsentEndpoint | SubscriptionEndpoint):
            methods = set(endpoint.operations)
        elif route.methods:
            methods = set(route.methods) - {"HEAD"}
        elif type(endpoint).__name__ == "_MetaEndpoint":
            methods = {"GET"}
        else:
            raise AssertionError(f"cannot tell the methods of {route.path}: document it here")
        found |= {(m, route.path) for m in methods}
    return found


def test_every_fdx_route_is_documented_and_every_documented_one_is_served():
    """The committed document and the app agree on paths and methods, both ways."""
    served = served_operations(FullHarness())
    documented = operations(load_document())

    assert set() == served - documented, "served but not in the OpenAPI document"
    assert set() == documented - served, "documented but not served"


def test_the_committed_document_is_what_the_build_script_makes():
    """Regenerate with `python -m gateway.openapi.build` after changing it or the policy."""
    found = [Path(p) for p in (*SPEC_CANDIDATES, str(DEFAULT_SPEC)) if p and Path(p).is_file()]
    if not found:
        pytest.skip("FDX 6.2 OpenAPI document not found (set FDX_OPENAPI or provide ../shared)")
    spec = json.loads(found[0].read_text(encoding="utf-8"))

    assert build(spec, load_policy()) == load_document()


def test_every_reference_in_the_document_resolves_inside_it():
    """The trimmed document carries every component its operations reference."""
    document = load_document()
    refs = set(re.findall(r'"\$ref": "#/components/(\w+)/([^"]+)"', json.dumps(document)))

    missing = {(k, n) for k, n in refs if n not in document["components"].get(k, {})}

    assert refs
    assert set() == missing


def test_meta_operations_are_public_and_data_operations_name_their_clusters():
    """Security per operation says what a recipient needs."""
    paths = load_document()["paths"]

    assert [] == paths["/availability"]["get"]["security"]
    assert ["TRANSACTIONS"] == paths["/accounts/{accountId}/transactions"]["get"][
        "x-fdx-data-clusters"
    ]
    assert "fdx:consents:manage" in paths["/consents/{consentId}"]["get"]["description"]


def test_the_document_is_served_with_this_gateways_url():
    """GET /fdx/v6/openapi.json: public JSON whose server is our FDX base URL."""
    full = FullHarness()

    response = full.client.get("/fdx/v6/openapi.json")

    assert 200 == response.status_code
    assert [{"url": f"{full.settings.issuer}/fdx/v6"}] == response.json()["servers"]
    assert load_document()["paths"] == response.json()["paths"]


def test_the_docs_page_renders_every_operation_without_scripts():
    """GET /docs: server-rendered HTML, nothing fetched from elsewhere, no script allowed."""
    full = FullHarness()

    response = full.client.get("/docs")

    assert 200 == response.status_code
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert "<script" not in page.lower()
    assert not re.search(r'(src|href)="https?://', page)
    for _, path in operations(load_document()):
        assert path in page
    assert 'id="schema-Transactionsentity"' in page


def test_the_page_escapes_what_the_document_says():
    """A description cannot inject markup."""
    document = {
        "info": {"version": "1", "description": "<script>alert(1)</script>"},
        "servers": [{"url": "https://x.example"}],
        "paths": {"/a": {"get": {"operationId": "a", "description": "<b>x</b>", "responses": {}}}},
    }

    page = render_page(document, title="<i>t</i>")

    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "<b>x</b>" not in page

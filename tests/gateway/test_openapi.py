"""The OpenAPI document of our FDX surface: in sync with the routes, served, rendered."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from starlette.routing import Mount, Route

from config.policy import load_policy
from config.settings import Settings
from gateway.fdx.consents import ConsentEndpoint
from gateway.fdx.endpoint import FdxEndpoint
from gateway.fdx.subscriptions import SubscriptionEndpoint
from gateway.openapi.build import DEFAULT_SPEC, build
from gateway.openapi.document import (
    FDX_PREFIX,
    fdx_operations,
    load_document,
    operations,
    served_document,
)
from gateway.openapi.page import render_page
from tests.conftest import SPEC_CANDIDATES
from tests.gateway.operator_app import FullHarness

NOT_FDX_OPERATIONS = {"/{path:path}", "/openapi.json"}  # the 404 catch-all and this document
# Routes under the documented prefixes that are not API operations: the consumer's browser
# screens (RFC 9126 §4: the client only sends the browser to /oauth/authorize).
NOT_API_OPERATIONS = {
    "/oauth/authorize",
    "/oauth/error/{reason}",
    "/oauth/interaction/{interaction_id}",
    "/oauth/interaction/{interaction_id}/login",
    "/oauth/interaction/{interaction_id}/consent",
    "/oauth/interaction/{interaction_id}/otp",
    "/oauth/interaction/{interaction_id}/cancel",
    "/oauth/login/callback",  # where the bank's OpenID Provider sends the browser back
}
DOCUMENTED_PREFIXES = ("/oauth/", "/register")


def served_operations(full: FullHarness) -> set[tuple[str, str]]:
    """(METHOD, path) of every API operation the app actually routes: the FDX ones under
    /fdx/v6, and the OAuth and registration ones."""
    found: set[tuple[str, str]] = set()
    for route in full.app.routes:
        if isinstance(route, Mount) and route.path == FDX_PREFIX:
            found |= {(m, FDX_PREFIX + p) for m, p in _fdx_operations(route)}
        elif (
            isinstance(route, Route)
            and route.path.startswith(DOCUMENTED_PREFIXES)
            and route.path not in NOT_API_OPERATIONS
        ):
            assert route.methods, f"cannot tell the methods of {route.path}: document it here"
            found |= {(m, route.path) for m in route.methods - {"HEAD"}}
    return found


def _fdx_operations(mount: Mount) -> set[tuple[str, str]]:
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


def test_every_api_route_is_documented_and_every_documented_one_is_served():
    """The committed document and the app agree on paths and methods, both ways: every FDX
    operation, the OAuth endpoints a recipient's code calls, and registration."""
    served = served_operations(FullHarness())
    documented = operations(load_document())

    assert set() == served - documented, "served but not in the OpenAPI document"
    assert set() == documented - served, "documented but not served"
    assert {("POST", "/oauth/par"), ("POST", "/oauth/token"), ("POST", "/register")} <= served


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

    assert [] == paths["/fdx/v6/availability"]["get"]["security"]
    assert ["TRANSACTIONS"] == paths["/fdx/v6/accounts/{accountId}/transactions"]["get"][
        "x-fdx-data-clusters"
    ]
    assert "fdx:consents:manage" in paths["/fdx/v6/consents/{consentId}"]["get"]["description"]


def test_the_document_is_served_with_this_gateways_url():
    """GET /fdx/v6/openapi.json: public JSON whose server is our issuer, so the FDX and the
    OAuth operations share one base URL."""
    full = FullHarness()

    response = full.client.get("/fdx/v6/openapi.json")

    assert 200 == response.status_code
    assert [{"url": full.settings.issuer}] == response.json()["servers"]
    assert operations(load_document()) == operations(response.json())


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
    # How to call each operation, and every code it may answer.
    assert 'id="scheme-dpop"' in page
    assert '<a href="#scheme-dpop"><code>dpop</code></a> + <a href="#scheme-dpopProof">' in page
    for code in ("<code>1207</code>", "<code>use_dpop_nonce</code>", "<code>invalid_client</code>"):
        assert code in page


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


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"profile": "fapi2"},
        {"mtls_client_cert_header": "x-client-cert", "trusted_proxies": ("127.0.0.1",)},
    ],
    ids=["sandbox", "fapi2", "mtls"],
)
def test_the_document_is_valid_openapi_3_as_committed_and_as_served(settings):
    """openapi-spec-validator finds nothing wrong, before and after a deployment narrows it."""
    full = FullHarness(**settings)

    served = full.client.get("/fdx/v6/openapi.json").json()

    validate(load_document())
    validate(served)


@pytest.mark.parametrize(
    ("settings", "alternatives"),
    [
        ({"profile": "fapi2"}, [["dpop", "dpopProof"]]),
        ({"profile": "sandbox"}, [["dpop", "dpopProof"], ["bearer"]]),
        (
            {"mtls_client_cert_header": "x-client-cert", "trusted_proxies": ("127.0.0.1",)},
            [["dpop", "dpopProof"], ["mtlsBearer"]],
        ),
    ],
    ids=["fapi2", "sandbox", "mtls-proxy"],
)
def test_every_token_operation_lists_the_schemes_this_deployment_accepts(settings, alternatives):
    """DPoP (token + proof) everywhere; certificate-bound Bearer only behind an mTLS proxy;
    unbound Bearer only under the sandbox profile."""
    document = served_document(Settings(**settings))

    found = {
        (method, path): [sorted(r) for r in op["security"]]
        for method, path, op in fdx_operations(document)
        if op["security"]
    }

    assert 11 <= len(found)
    assert {alternatives == v for v in found.values()} == {True}
    schemes = set(document["components"]["securitySchemes"]) - {"registrationToken"}
    assert {n for a in alternatives for n in a} == schemes


def test_registration_is_documented_only_where_it_is_served():
    """Without a trusted registry /register is not routed, so not documented either."""
    document = served_document(Settings(registry_jwks=""))

    assert not [p for p in document["paths"] if p.startswith("/register")]
    assert "/oauth/token" in document["paths"]


@pytest.mark.parametrize(
    ("method", "path"),
    sorted(
        (m.upper(), FDX_PREFIX + p)
        for m, p, op in fdx_operations(load_document())
        if op["security"]
    ),
)
def test_every_data_and_consent_operation_lists_401_403_and_503(method, path):
    """The gate's refusals are on every operation behind a token; 429 on every data one."""
    op = load_document()["paths"][path][method.lower()]

    assert {"401", "403", "503"} <= set(op["responses"])
    assert ("429" in op["responses"]) == ("x-fdx-data-clusters" in op)
    assert "DPoP-Nonce" in op["responses"]["401"]["headers"]
    assert "Retry-After" in op["responses"]["503"]["headers"]


def test_the_revocation_list_documents_its_404():
    """GET /consents/{id}/revocation answers 404/1107 for a consent that is not the caller's."""
    op = load_document()["paths"]["/fdx/v6/consents/{consentId}/revocation"]["get"]

    example = op["responses"]["404"]["content"]["application/json"]["examples"]["NotFound"]

    assert {"code": "1107", "message": "Data not found for request parameters"}.items() <= example[
        "value"
    ].items()


@pytest.mark.parametrize(
    ("path", "status", "example"),
    [
        ("/fdx/v6/accounts", 401, "MissingToken"),
        ("/fdx/v6/consents/c-1", 401, "MissingToken"),
    ],
)
def test_a_documented_example_is_the_body_the_gateway_sends(path, status, example):
    """Examples come from the error classes, so a real refusal matches its example."""
    full = FullHarness()
    documented = next(
        op
        for p, item in load_document()["paths"].items()
        for op in item.values()
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", p), path)
    )

    response = full.client.get(path)

    shown = documented["responses"][str(status)]["content"]["application/json"]["examples"]
    expected = shown[example]["value"]
    assert status == response.status_code
    assert (expected["code"], expected["message"]) == (
        response.json()["code"],
        response.json()["message"],
    )


def test_every_oauth_operation_lists_its_errors_in_the_oauth_shape():
    """invalid_request and invalid_client (401) on every client-authenticated endpoint, each
    response an RFC 6749 §5.2 body."""
    paths = load_document()["paths"]

    for path in ("/oauth/par", "/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        responses = paths[path]["post"]["responses"]
        assert {"400", "401", "413", "503"} <= set(responses), path
        for status in ("400", "401"):
            schema = responses[status]["content"]["application/json"]["schema"]
            assert {"$ref": "#/components/schemas/OAuthError"} == schema
    token_errors = paths["/oauth/token"]["post"]["responses"]["400"]["content"]
    assert {"invalid_grant", "invalid_dpop_proof", "use_dpop_nonce"} <= set(
        token_errors["application/json"]["examples"]
    )


def test_a_parameter_the_gateway_refuses_is_not_published():
    """updatedSince is refused on every BILLS list (no nextUpdateId is ever issued), so the
    document does not offer it."""
    document = load_document()

    offered = {
        param.get("name")
        for item in document["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        for param in op.get("parameters", [])
    }

    assert "updatedSince" not in offered
    assert "offset" in offered

"""POST /register (RFC 7591): software statements, metadata rules, the answer, storage."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from authz.registration.endpoint import registration_routes
from authz.services import Services
from authz.store.sqlite import sqlite_records
from config.settings import Settings
from gateway.cli import main
from tests.authz.oauth.conftest import new_key, run
from tests.authz.registration.conftest import Registry, make_registry


def _error(response: Any) -> str:
    assert response.status_code == 400, response.text
    assert response.headers["cache-control"] == "no-store"
    error: str = response.json()["error"]
    return error


def test_a_registration_answers_201_with_the_fdx_recipient_fields(dcr: Registry, fdx_validate):
    """201 with client_id, issue time, a registration token and URI, status pending (FDX
    RecipientProvider), never cached."""
    response = dcr.register()
    body = response.json()

    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    fdx_validate(body, "RecipientProvider")
    assert body["status"] == "pending"
    assert body["client_id_issued_at"] == int(dcr.clock())
    assert body["registration_client_uri"] == f"https://as.example.com/register/{body['client_id']}"
    assert len(body["registration_access_token"]) >= 40
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["grant_types"] == ["authorization_code", "refresh_token"]


def test_the_statement_is_returned_unmodified(dcr: Registry):
    """RFC 7591 §3.2.1: the software statement comes back exactly as sent."""
    statement = dcr.statement()

    body = dcr.registered(software_statement=statement)

    assert body["software_statement"] == statement


def test_client_ids_are_random_and_distinct(dcr: Registry):
    """Two registrations of one app get two unguessable client ids."""
    a, b = dcr.registered(), dcr.registered()

    assert a["client_id"] != b["client_id"]
    assert len(a["client_id"]) >= 22


def test_a_registration_without_a_software_statement_is_refused(dcr: Registry):
    """RFC 7591 §2.3: this gateway requires the registry's statement."""
    assert _error(dcr.register(software_statement=None)) == "invalid_software_statement"
    assert run(dcr.records.clients.all) == []


def test_a_statement_signed_by_an_unknown_key_is_unapproved(dcr: Registry):
    """A statement no trusted registry key signed is not approved for this bank."""
    forged = dcr.statement(key=new_key("someone-else"))

    assert _error(dcr.register(software_statement=forged)) == "unapproved_software_statement"


def test_a_statement_with_the_registry_kid_but_another_signature_is_invalid(dcr: Registry):
    """Claiming the registry's kid without its key is a tampered statement."""
    impostor = new_key(str(dcr.registry_key.kid))
    forged = dcr.statement(key=impostor)

    assert _error(dcr.register(software_statement=forged)) == "invalid_software_statement"


@pytest.mark.parametrize(
    "claims",
    [{"exp": 1_000}, {"iat": 4_000_000_000}, {"nbf": 4_000_000_000}, {"iss": None}],
    ids=["expired", "issued-in-the-future", "not-yet-valid", "no-iss"],
)
def test_a_statement_with_bad_times_or_no_issuer_is_invalid(dcr: Registry, claims):
    """exp, iat and nbf are checked (with the clock skew); iss is required."""
    statement = dcr.statement(**claims)

    assert _error(dcr.register(software_statement=statement)) == "invalid_software_statement"


@pytest.mark.parametrize(
    "statement",
    ["not-a-jwt", "a.b.c", 42, "x" * 20_000],
    ids=["no-dots", "garbage", "number", "huge"],
)
def test_a_malformed_statement_is_invalid(dcr: Registry, statement):
    """Anything but a compact signed JWT is refused, never a 500."""
    assert _error(dcr.register(software_statement=statement)) == "invalid_software_statement"


def test_the_statement_claims_override_the_request(dcr: Registry):
    """RFC 7591 §2.3: the registry's name, redirect URIs, logo and scope win."""
    statement = dcr.statement(
        client_name="Budget App Inc.",
        redirect_uris=["https://registry-known.example/cb"],
        logo_uri="https://registry-known.example/logo.png",
        scope="ACCOUNT_BASIC",
        lookback_period=90,
        registry_references=[
            {"registered_entity_name": "Budget App Inc.", "registered_entity_id": "LEI-1",
             "registry": "GLEIF"}
        ],
    )  # fmt: skip

    body = dcr.registered(
        software_statement=statement,
        client_name="Totally Legit Bank Helper",
        redirect_uris=["https://evil.example/cb"],
        logo_uri="https://evil.example/logo.png",
        scope="ACCOUNT_BASIC TRANSACTIONS STATEMENTS",
        lookback_period=3650,
    )
    stored = dcr.client(body["client_id"])

    assert body["client_name"] == stored.client_name == "Budget App Inc."
    assert stored.redirect_uris == ("https://registry-known.example/cb",)
    assert stored.logo_uri == "https://registry-known.example/logo.png"
    assert stored.clusters == ("ACCOUNT_BASIC",)
    assert stored.max_lookback_period == 90
    assert body["registry_references"][0]["registry"] == "GLEIF"


def test_scope_accepts_cluster_names_and_fdx_scopes(dcr: Registry):
    """docs/fdx.md §5: v6.2 cluster names and v6.3 fdx scopes both register clusters."""
    statement = dcr.statement(scope="fdx:accountbasic:read TRANSACTIONS openid offline_access")

    body = dcr.registered(software_statement=statement)

    assert dcr.client(body["client_id"]).clusters == ("ACCOUNT_BASIC", "TRANSACTIONS")
    assert body["scope"] == "fdx:accountbasic:read TRANSACTIONS openid offline_access"


def test_the_answer_gives_the_scope_values_as_registered(dcr: Registry):
    """RFC 7591 §3.2.1: the registered metadata comes back as registered, not as the cluster
    names the gateway files them under; a repeated value once."""
    scope = "fdx:accountbasic:read fdx:transactions:read fdx:accountbasic:read"

    body = dcr.registered(software_statement=dcr.statement(scope=scope))
    again = dcr.http.get(
        body["registration_client_uri"],
        headers={"Authorization": f"Bearer {body['registration_access_token']}"},
    ).json()

    assert body["scope"] == "fdx:accountbasic:read fdx:transactions:read"
    assert again["scope"] == body["scope"]


def test_fdx_fields_are_stored(dcr: Registry):
    """duration_type/period, lookback, contacts, description, notification URI, intermediaries."""
    body = dcr.registered(
        software_statement=dcr.statement(client_name=None, scope=None),
        scope="ACCOUNT_BASIC",
        duration_type=["TIME_BOUND"],
        duration_period=180,
        lookback_period=400,
        contacts=["ops@budget.example"],
        description="Budgets",
        client_uri="https://budget.example",
        notification_uri="https://budget.example/fdx/notifications",
        intermediaries=[{"name": "Aggregator Co", "uri": "https://agg.example"}],
    )
    stored = dcr.client(body["client_id"])

    assert stored.duration_types == ("TIME_BOUND",)
    assert (stored.max_duration_period, stored.max_lookback_period) == (180, 400)
    assert stored.contacts == ("ops@budget.example",)
    assert stored.notification_uri == "https://budget.example/fdx/notifications"
    assert body["intermediaries"] == [{"name": "Aggregator Co", "uri": "https://agg.example"}]
    assert stored.status == "pending"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"token_endpoint_auth_method": "client_secret_basic"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_signing_alg": "RS256"}, "invalid_client_metadata"),
        ({"grant_types": ["password"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"jwks_uri": "https://app.example.com/jwks"}, "invalid_client_metadata"),
        ({"jwks": None}, "invalid_client_metadata"),
        ({"jwks": {"keys": []}}, "invalid_client_metadata"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "invalid_client_metadata"),
        ({"jwks": None, "jwks_uri": "http://app.example.com/jwks"}, "invalid_client_metadata"),
        ({"duration_type": ["FOREVER"]}, "invalid_client_metadata"),
        ({"duration_period": 366}, "invalid_client_metadata"),
        ({"lookback_period": True}, "invalid_client_metadata"),
        ({"notification_uri": "http://app.example.com/n"}, "invalid_client_metadata"),
        ({"logo_uri": "javascript:alert(1)"}, "invalid_client_metadata"),
        ({"contacts": "ops@example.com"}, "invalid_client_metadata"),
        ({"registry_references": [{"registry": "MADE_UP"}]}, "invalid_client_metadata"),
        ({"intermediaries": [{"uri": "https://x.example"}]}, "invalid_client_metadata"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://127.0.0.1:8765/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["/relative"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://user:pw@app.example.com/cb"]}, "invalid_redirect_uri"),
    ],
    ids=[
        "secret-auth", "rs256", "password-grant", "implicit", "jwks-and-jwks_uri", "no-keys",
        "empty-jwks", "symmetric-key", "http-jwks_uri", "unknown-duration", "duration-too-long",
        "bool-lookback", "http-notification", "script-logo", "contacts-not-a-list",
        "unknown-registry", "nameless-intermediary", "no-redirect", "fragment", "http-redirect",
        "loopback-under-https-issuer", "relative-redirect", "credentials-in-redirect",
    ],
)  # fmt: skip
def test_metadata_we_cannot_honour_is_refused(dcr: Registry, fields, error):
    """RFC 7591 §3.2.2: refused with the matching error, nothing stored."""
    statement = dcr.statement(client_name=None)

    assert _error(dcr.register(software_statement=statement, **fields)) == error
    assert run(dcr.records.clients.all) == []


def test_a_private_key_in_jwks_is_refused(dcr: Registry):
    """Only public keys are registered: a JWK with its private part is refused."""
    private = dcr.client_key.as_dict(private=True)

    assert _error(dcr.register(jwks={"keys": [private]})) == "invalid_client_metadata"


def test_unknown_fields_are_ignored(dcr: Registry):
    """RFC 7591 §2: unknown metadata is ignored, not stored."""
    body = dcr.registered(favourite_colour="green")

    assert "favourite_colour" not in body
    assert "favourite_colour" not in dcr.client(body["client_id"]).extra


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error"),
    [
        (b"{}", "text/plain", 400, "invalid_request"),
        (b"{not json", "application/json", 400, "invalid_client_metadata"),
        (b"[1, 2]", "application/json", 400, "invalid_client_metadata"),
        (b'{"a": "' + b"x" * 70_000 + b'"}', "application/json", 413, "invalid_request"),
    ],
    ids=["not-json-type", "broken-json", "array", "too-large"],
)
def test_a_malformed_body_is_refused(dcr: Registry, content, content_type, status, error):
    """Bad bodies get an OAuth error, never a 500."""
    response = dcr.http.post("/register", content=content, headers={"Content-Type": content_type})

    assert (response.status_code, response.json()["error"]) == (status, error)


@pytest.mark.parametrize(
    "uri",
    [
        "http://localhost:8765/notify",
        "https://127.0.0.1/notify",
        "https://10.1.2.3/notify",
        "https://2130706433/notify",
        "https://localhost./notify",
        "https://[64:ff9b::a00:1]/notify",
    ],
    ids=[
        "http-loopback",
        "loopback",
        "private-address",
        "ipv4-shorthand",
        "localhost-fqdn",
        "nat64",
    ],
)
def test_a_notification_uri_that_would_never_be_delivered_to_is_refused(tmp_path: Path, uri: str):
    """Without allow_insecure_notification_urls the sender refuses plain http and loopback or
    private addresses at every attempt, so registration says so instead of keeping it."""
    for registry in make_registry(tmp_path, issuer="http://127.0.0.1:8000"):
        response = registry.register(notification_uri=uri)

        assert _error(response) == "invalid_client_metadata"
        assert "notification_uri would never be delivered" in response.json()["error_description"]


def test_loopback_http_uris_are_allowed_when_the_gateway_runs_on_loopback(tmp_path: Path):
    """The sandbox (an http://127.0.0.1 issuer) registers loopback http redirect URIs, and
    loopback http notification URIs where it delivers to them."""
    for registry in make_registry(
        tmp_path, issuer="http://127.0.0.1:8000", allow_insecure_notification_urls=True
    ):
        body = registry.registered(
            redirect_uris=["http://127.0.0.1:8765/callback"],
            notification_uri="http://localhost:8765/notify",
        )

        assert body["redirect_uris"] == ["http://127.0.0.1:8765/callback"]
        assert body["notification_uri"] == "http://localhost:8765/notify"


def test_the_registration_token_is_stored_only_as_its_hash(tmp_path: Path):
    """RFC 6819 §5.1.4.1.3: the stored row holds the SHA-256, never the token."""
    store = sqlite_records(str(tmp_path / "gw.db"))
    run(store.schema.migrate)
    for registry in make_registry(tmp_path, records=store):
        body = registry.registered()
    token = body["registration_access_token"]
    run(store.aclose)

    with sqlite3.connect(tmp_path / "gw.db") as db:
        rows = [r[0] for r in db.execute("SELECT data FROM clients")]

    assert len(rows) == 1
    assert token not in rows[0]
    assert hashlib.sha256(token.encode()).hexdigest() in rows[0]


def test_registration_switched_off_is_said_at_start_up(caplog: pytest.LogCaptureFixture):
    """With any adapter but ``sandbox`` (a composite with a sandbox member too) the demo
    registry is not trusted and DCR is off: the start-up log says so and why."""
    settings = Settings(adapter="main:sandbox,spare:sandbox")

    with caplog.at_level(logging.INFO, logger="authz.registration"):
        routes = registration_routes(cast(Services, SimpleNamespace(settings=settings)))

    assert routes == []
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "registration.off" in caplog.text
    assert "main:sandbox,spare:sandbox" in caplog.text


def test_no_demo_recipient_is_seeded_without_a_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """``fdxgw init`` with another adapter says the demo recipient was not seeded."""
    monkeypatch.setenv("FDX_ADAPTER", "main:sandbox,spare:sandbox")
    monkeypatch.setenv("FDX_DATABASE_URL", f"sqlite:///{tmp_path}/gw.db")
    monkeypatch.setenv("FDX_VAR_DIR", str(tmp_path / "var"))

    assert main(["init"]) == 0
    assert "no demo recipient: seeded only with adapter = sandbox" in capsys.readouterr().out

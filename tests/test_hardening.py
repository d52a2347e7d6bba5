"""Browser-facing hardening (docs/security.md) over the assembled gateway: security headers on
every HTML response, CSRF on every
form, the sign-in throttle per address, secrets hashed at rest, body limits on every endpoint
that reads one, and no token, secret or personal data in any log line."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route

from authz.screens.login import client_address
from config.settings import Settings
from examples.budget_app import _forms
from tests.hardening_world import CONSUMERS, ISSUER, World, open_world

pytestmark = pytest.mark.anyio

HTML_ROUTES = {
    "/oauth/authorize",
    "/oauth/error/{reason}",
    "/oauth/interaction/{interaction_id}",
    "/consumer",
    "/consumer/history",
    "/consumer/consents/{consent_id}",
    "/consumer/consents/{consent_id}/revoke",
    "/consumer/consents/{consent_id}/renew",
    "/consumer/consents/{consent_id}/receipts/{n:int}",
    "/docs",
}
ALICE, BOB = CONSUMERS[0], CONSUMERS[1]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    w = await open_world(tmp_path)
    try:
        yield w
    finally:
        await w.http.aclose()
        await w.services.bank.aclose()
        await w.services.state.aclose()
        await w.services.records.aclose()


def assert_hardened(response: httpx.Response) -> None:
    """The headers docs/security.md promises on every HTML response, over an https issuer."""
    h = response.headers
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    csp = h.get("content-security-policy", "")
    directives = {d.split()[0]: d for d in (p.strip() for p in csp.split(";")) if d}
    script = directives.get("script-src", directives.get("default-src", ""))
    assert "frame-ancestors 'none'" in csp, where
    assert "'unsafe-inline'" not in script, where
    assert "'unsafe-eval'" not in script, where
    assert "max-age=63072000; includeSubDomains" == h.get("strict-transport-security"), where
    assert h.get("referrer-policy") in ("no-referrer", "same-origin"), where
    assert "nosniff" == h.get("x-content-type-options"), where


async def walk_html_routes(world: World, consent_id: str) -> dict[str, httpx.Response]:
    """GET every route of the app that takes GET, with its path parameters filled in."""
    par = await world.http.post("/oauth/par", data={
        "response_type": "code", "redirect_uri": world.recipient.redirect_uri,
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256", "scope": "fdx:accountbasic:read",
        **world.assertion(),
    })  # fmt: skip
    authorize = await world.http.get(
        "/oauth/authorize",
        params={"client_id": world.recipient.client_id, "request_uri": par.json()["request_uri"]},
    )
    interaction = authorize.headers["location"].rsplit("/", 1)[1]
    values = {
        "interaction_id": interaction,
        "reason": "link_expired",
        "consent_id": consent_id,
        "n:int": "1",
    }
    seen: dict[str, httpx.Response] = {}
    for path in get_paths(world.http._transport.inner.app.routes):  # type: ignore[attr-defined]
        url = re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "x"), path)
        response = await world.http.get(url)
        if response.headers.get("content-type", "").startswith("text/html"):
            seen[path] = response
    return seen


def get_paths(routes: list[BaseRoute], prefix: str = "") -> list[str]:
    out: list[str] = []
    for route in routes:
        if isinstance(route, Mount):
            out += get_paths(list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and (route.methods is None or "GET" in route.methods):
            out.append(prefix + route.path)
    return out


async def test_every_html_response_carries_the_security_headers(world):
    """Consent screens, portal pages, error pages and /docs: CSP without inline script,
    frame-ancestors 'none', HSTS (https issuer), Referrer-Policy, nosniff."""
    await world.consent(ALICE["username"], ALICE["password"])
    tokens = await world.consent(BOB["username"], BOB["password"])
    await world.portal_sign_in(BOB["username"], BOB["password"])

    walked = await walk_html_routes(world, tokens["grant_id"])
    world.http.cookies.clear()
    signed_out = await walk_html_routes(world, tokens["grant_id"])
    for response in world.recorder.html():
        assert_hardened(response)

    assert HTML_ROUTES <= set(walked) | set(signed_out)


async def test_every_form_the_gateway_renders_carries_a_csrf_value(world):
    """Each POST form on every page seen (sign-in, consent, portal) has a non-empty csrf field."""
    tokens = await world.consent(ALICE["username"], ALICE["password"])
    await world.portal_sign_in(ALICE["username"], ALICE["password"])
    await walk_html_routes(world, tokens["grant_id"])
    await world.http.post("/consumer/login", data={"username": "x", "password": "y"})

    forms = [f for r in world.recorder.html() for f in _post_forms(r.text)]

    assert len(forms) >= 5
    for form in forms:
        csrf = [i for i in form["inputs"] if i.get("name") == "csrf"]
        assert csrf, form["action"]
        assert csrf[0].get("value"), form["action"]


def _post_forms(html: str) -> list[dict[str, Any]]:
    methods = re.findall(r"<form\b[^>]*>", html, flags=re.I)
    forms = _forms(html)
    return [f for f, tag in zip(forms, methods, strict=True) if 'method="get"' not in tag.lower()]


async def test_one_address_is_refused_after_twenty_failures_whatever_the_user_id(world):
    """Twenty wrong passwords over twenty user IDs lock the address, not only each account:
    then even a right password from it gets the generic 429 page, while another address may."""
    for n in range(20):
        failed = await world.portal_sign_in(f"nobody-{n}", "wrong-password")
        assert failed.status_code == 401
    refused = await world.portal_sign_in(ALICE["username"], ALICE["password"])
    elsewhere = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.recorder.inner.app, client=("192.0.2.44", 40000)),
        base_url=ISSUER,
    )
    async with elsewhere:
        page = await elsewhere.get("/consumer")
        form = _forms(page.text)[0]
        from examples.budget_app import _fill

        allowed = await elsewhere.post(
            "/consumer/login",
            data=_fill(form, username=ALICE["username"], password=ALICE["password"]),
        )

    assert 429 == refused.status_code
    assert "wrong-password" not in refused.text
    assert 303 == allowed.status_code


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "client": (peer, 1), "headers": headers, "method": "GET",
                    "path": "/", "query_string": b""})  # fmt: skip


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy():
    """A client cannot choose its own address; behind a trusted proxy, the nearest untrusted
    hop is the address."""
    plain = Settings()
    proxied = Settings(trusted_proxies=("10.0.0.0/8",))

    assert "203.0.113.5" == client_address(_request("203.0.113.5", "1.2.3.4"), plain)
    assert "203.0.113.5" == client_address(_request("203.0.113.5", "1.2.3.4"), proxied)
    assert "198.51.100.9" == client_address(
        _request("10.0.0.2", "1.2.3.4, 198.51.100.9, 10.0.0.3"), proxied
    )
    assert "10.0.0.2" == client_address(_request("10.0.0.2"), proxied)


async def test_refresh_and_registration_tokens_are_hashed_at_rest(world):
    """After a flow, the SQLite files hold neither raw refresh token nor the registration
    access token (only their hashes), though they do hold the consent they belong to."""
    tokens = await world.consent(ALICE["username"], ALICE["password"])
    refreshed = await world.http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        **world.assertion(),
    })  # fmt: skip
    registered = await world.register()
    await world.services.records.aclose()  # flush; the fixture's second close is harmless

    stored = b"".join(p.read_bytes() for p in world.var.glob("gateway.db*"))

    assert tokens["grant_id"].encode() in stored
    assert registered["client_id"].encode() in stored
    for raw in (
        tokens["refresh_token"],
        refreshed.json()["refresh_token"],
        registered["registration_access_token"],
    ):
        assert raw.encode() not in stored


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/oauth/par", "application/x-www-form-urlencoded"),
        ("POST", "/oauth/token", "application/x-www-form-urlencoded"),
        ("POST", "/oauth/revoke", "application/x-www-form-urlencoded"),
        ("POST", "/oauth/introspect", "application/x-www-form-urlencoded"),
        ("POST", "/register", "application/json"),
        ("PUT", "/register/some-client", "application/json"),
        ("POST", "/consumer/login", "application/x-www-form-urlencoded"),
        ("POST", "/oauth/interaction/x/login", "application/x-www-form-urlencoded"),
        ("PUT", "/fdx/v6/consents/c-1/revocation", "application/json"),
        ("POST", "/oauth/userinfo", "application/x-www-form-urlencoded"),
        ("POST", "/admin/recipients/some-client/approve", "application/json"),
    ],
)
async def test_an_oversized_body_is_refused_before_it_is_parsed(world, method, path, content_type):
    """One byte over max_body_bytes: a 4xx (413 where the endpoint reads the body first), never
    a 2xx or a 500."""
    body = b"a=" + b"x" * world.settings.max_body_bytes

    response = await world.http.request(
        method, path, content=body, headers={"content-type": content_type}
    )

    assert 400 <= response.status_code < 500, response.text
    assert response.status_code in (400, 401, 403, 404, 413), response.text


async def test_no_token_secret_or_personal_data_reaches_any_log_line(world, caplog):
    """Full flows at DEBUG with every logger captured: the example app's flow, a second consent,
    FDX calls, refresh, introspection, portal sign-in and revocation, registration, and errors.
    No JWT, refresh token, code, password, assertion, customer name or bank customer id."""
    for logger in [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]:
        if not logger.propagate:
            logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    from examples.budget_app import Recipient, run_flow

    await run_flow(world.http, ISSUER, Recipient.demo(), ALICE["username"], ALICE["password"],
                   say=lambda _: None)  # fmt: skip
    tokens = await world.consent(BOB["username"], BOB["password"])
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    await world.http.get("/fdx/v6/accounts", headers=bearer)
    await world.http.get("/fdx/v6/accounts/no-such-account/transactions", headers=bearer)
    await world.http.get("/oauth/userinfo", headers=bearer)
    await world.http.post(
        "/oauth/introspect", data={"token": tokens["access_token"], **world.assertion()}
    )
    await world.http.post("/oauth/token", data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], **world.assertion()
    })  # fmt: skip
    await world.http.post("/oauth/token", data={  # the code again: a replay
        "grant_type": "authorization_code", "code": tokens["code"],
        "redirect_uri": world.recipient.redirect_uri, "code_verifier": "x" * 43,
        **world.assertion(),
    })  # fmt: skip
    await world.http.get("/fdx/v6/accounts", headers={"Authorization": "Bearer eyJhbGciOi.bad.sig"})
    await world.portal_sign_in(BOB["username"], "not-bobs-password-123")
    signed_in = await world.portal_sign_in(BOB["username"], BOB["password"])
    revoke_page = await world.http.get(f"/consumer/consents/{tokens['grant_id']}/revoke")
    form = _forms(revoke_page.text)[-1]
    from examples.budget_app import _fill

    await world.http.post(f"/consumer/consents/{tokens['grant_id']}/revoke", data=_fill(form))
    registered = await world.register()
    await world.http.get("/fdx/v6/accounts", headers=bearer)  # revoked: 401
    await world.admin("GET", "/consents", params={"customer": ALICE["customer_id"]})
    await world.admin("GET", "/recipients")
    await world.admin("POST", f"/recipients/{registered['client_id']}/approve", json={})
    await world.admin("GET", "/keys")
    alice = await world.admin("GET", "/consents", params={"customer": ALICE["customer_id"]})
    for consent in alice.json()["consents"]:
        await world.admin("POST", f"/consents/{consent['id']}/revoke", json={})

    secrets = world.recorder.secrets() | {"not-bobs-password-123"}
    people = {p[k] for p in (ALICE, BOB) for k in ("name", "customer_id", "password")}
    # httpx's "HTTP Request: GET https://bank.example/…" lines are this test's own client
    # talking to the gateway (an operator's query may name a customer); the gateway's own httpx
    # calls (jwks_uri, notifications) go elsewhere and are kept.
    lines = [_everything(r) for r in caplog.records if not _own_client(r)]

    assert signed_in.status_code == 200
    assert len(secrets) > 10, "the flows handled tokens, codes and assertions"
    assert "gateway.admin" in {r.name for r in caplog.records}, "the gateway's lines were seen"
    for line in lines:
        assert "eyJ" not in line, line
        for value in secrets | people:
            assert value not in line, (value[:12], line)


def _own_client(record: logging.LogRecord) -> bool:
    own = re.match(rf"HTTP Request: [A-Z]+ {re.escape(ISSUER)}/", record.getMessage())
    return record.name == "httpx" and own is not None


def _everything(record: logging.LogRecord) -> str:
    """All a handler could write: the message, its arguments, extras and exception text."""
    parts = [record.getMessage(), repr(record.args), record.exc_text or ""]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    parts += [repr(v) for k, v in vars(record).items() if k not in ("msg", "args", "exc_info")]
    return " ".join(parts)


async def test_hsts_is_sent_only_when_the_issuer_is_https(tmp_path):
    """Over a plain-http issuer (local development) no HSTS; the HTML defaults still apply."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/gateway.db", var_dir=str(tmp_path / "var")
    )
    from authz.store import open_records
    from gateway.app import create_app

    records = open_records(settings.database_url)
    await records.schema.migrate()  # as fdxgw init would: the keys are read from the store
    await records.aclose()
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=settings.issuer
    ) as http:
        docs = await http.get("/docs")
        api = await http.get("/fdx/v6/accounts")

    assert "strict-transport-security" not in docs.headers
    assert "strict-transport-security" not in api.headers
    assert "nosniff" == docs.headers["x-content-type-options"]
    assert "no-referrer" == docs.headers["referrer-policy"]

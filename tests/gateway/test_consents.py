"""The FDX Consent API for recipients, with the client-credentials tokens that open it, over the
real token endpoint and FDX routes: read, revoke (204/409), the revocation list, ownership,
scope, and revocation taking effect on the recipient's very next data call."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.testclient import TestClient

from authz.consent import lifecycle
from authz.consent.model import (
    Consent,
    ConsentEvent,
    ConsentResource,
    ConsentStatus,
    DurationType,
)
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.requests import AuthorizationCode
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from authz.tokens import CONSENTS_SCOPE
from config.policy import load_policy
from config.settings import Settings
from gateway.errors import fdx_exception_handlers
from gateway.fdx import routes, version_routes
from gateway.middleware import InteractionIdMiddleware
from tests.authz.oauth.conftest import ASSERTION_TYPE, REDIRECT, client_record, new_key
from tests.gateway.conftest import FakeClock, assert_fdx_error
from tests.gateway.fakes import CUSTOMER, FakeBank

ISSUER = "https://bank.example"
APP, OTHER = "app-1", "app-2"
CLUSTERS = ("ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS")
DAY = 86400


class Gateway:
    """Token endpoint + FDX API over memory stores, a fake clock and two recipients."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.records = memory_records(clock=self.clock)
        self.services = Services.build(
            Settings(issuer=ISSUER, profile="sandbox"),
            policy=load_policy(),
            records=self.records,
            state=MemoryStateStore(clock=self.clock),
            bank=FakeBank(),
            keys=SigningKeys.generate(),
            secret=b"k" * 32,
            clock=self.clock,
        )
        self.keys = {APP: new_key("app-key"), OTHER: new_key("other-key")}
        for client_id, key in self.keys.items():
            extra: dict[str, Any] = {}
            if client_id == APP:
                extra["extra"] = {
                    "registry_references": [
                        {
                            "registry": "GLEIF",
                            "registered_entity_name": "Budget Co, Inc",
                            "registered_entity_id": "5493001052I34KDC1O18",
                        }
                    ]
                }
            record = client_record(
                client_id,
                key,
                client_uri=f"https://{client_id}.example",
                logo_uri=f"https://{client_id}.example/logo.png",
                **extra,
            )
            anyio.run(self.records.clients.put, record)
        app = Starlette(
            routes=[
                Mount("/fdx/v6", routes=routes(self.services)),
                *version_routes(),
                *oauth_routes(self.services),
            ],
            middleware=[Middleware(InteractionIdMiddleware)],
            exception_handlers={**fdx_exception_handlers, OAuth2Error: handle_oauth_error},
        )
        self.http = TestClient(app, base_url=ISSUER, raise_server_exceptions=False)
        self._n = 0

    # -- OAuth

    def assertion(self, client_id: str) -> dict[str, str]:
        from joserfc import jwt

        now = int(self.clock())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": ISSUER,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(12),
        }
        key = self.keys[client_id]
        signed = jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])
        return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}

    def manage_token(self, client_id: str = APP) -> str:
        """A client-credentials token with the consent-management scope, from /oauth/token."""
        form = {"grant_type": "client_credentials", **self.assertion(client_id)}
        response = self.http.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def consent(
        self,
        *,
        client_id: str = APP,
        status: ConsentStatus = ConsentStatus.ACTIVE,
        expires_in: float = 90 * DAY,
    ) -> Consent:
        self._n += 1
        now = self.clock()
        consent = Consent(
            id=f"consent-{self._n}",
            status=status,
            client_id=client_id,
            customer_id=CUSTOMER,
            created_at=now,
            updated_at=now,
            expires_at=now + expires_in,
            duration_type=DurationType.TIME_BOUND,
            duration_period=90,
            lookback_period=30,
            resources=(ConsentResource("ACCOUNT", "acc-chk", CLUSTERS),),
            purpose="Budgeting",
            scope=(*self.services.policy.scopes_for(CLUSTERS), "offline_access"),
        )
        event = ConsentEvent(consent.id, now, "granted", "INDIVIDUAL")
        anyio.run(self.records.consents.create, consent, event)
        return consent

    def data_tokens(self, consent: Consent) -> dict[str, Any]:
        """Access + refresh token for ``consent`` through a real code exchange."""
        verifier = secrets.token_urlsafe(48)
        code = AuthorizationCode(
            client_id=consent.client_id,
            redirect_uri=REDIRECT,
            code_challenge=create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
            consent_id=consent.id,
            customer_id=consent.customer_id,
            scope=consent.scope,
            issued_at=self.clock(),
        )
        raw = secrets.token_urlsafe(32)
        anyio.run(lambda: self.services.state.put(Kind.CODE, raw, code.to_dict(), ttl=60))
        form = {
            "grant_type": "authorization_code",
            "code": raw,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            **self.assertion(consent.client_id),
        }
        response = self.http.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def refresh(self, token: str, client_id: str = APP) -> Any:
        form = {"grant_type": "refresh_token", "refresh_token": token, **self.assertion(client_id)}
        return self.http.post("/oauth/token", data=form)

    # -- FDX

    def get(self, path: str, token: str, **kwargs: Any) -> Any:
        return self.http.get(path, headers={"Authorization": f"Bearer {token}"}, **kwargs)

    def put(self, path: str, token: str, body: Any = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["json"] = body
        return self.http.put(path, headers=headers, **kwargs)

    def stored(self, consent: Consent) -> Consent:
        found = anyio.run(self.records.consents.get, consent.id)
        assert found is not None
        return found

    def audit(self, consent: Consent) -> list[Any]:
        return anyio.run(lambda: self.records.audit.of_consent(consent.id))


@pytest.fixture
def gw() -> Iterator[Gateway]:
    gateway = Gateway()
    with gateway.http:
        yield gateway


def _consent_path(consent: Consent, tail: str = "") -> str:
    return f"/fdx/v6/consents/{consent.id}{tail}"


REVOKE_BODY = {"reason": "USER_ACTION", "initiator": "DATA_ACCESS_PLATFORM"}

# ---------------------------------------------------------------------------- GET /consents/{id}


def test_a_recipient_reads_its_consent_as_an_fdx_consent_grant(gw, fdx_validate):
    """200 ConsentGrant with both parties, the resources and the dates, never cached."""
    consent = gw.consent()

    response = gw.get(_consent_path(consent), gw.manage_token())
    body = response.json()

    assert response.status_code == 200, response.text
    fdx_validate(body, "ConsentGrantentity")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-fapi-interaction-id"]
    assert body == {
        "id": consent.id,
        "status": "ACTIVE",
        "parties": PARTIES,
        "createdTime": "2026-03-15T12:00:00Z",
        "updatedTime": "2026-03-15T12:00:00Z",
        "expirationTime": "2026-06-13T12:00:00Z",
        "durationType": "TIME_BOUND",
        "durationPeriod": 90,
        "lookbackPeriod": 30,
        "resources": [
            {"resourceType": "ACCOUNT", "resourceId": "acc-chk", "dataClusters": list(CLUSTERS)}
        ],
    }


PARTIES = [
    {
        "name": f"App {APP}",
        "type": "DATA_RECIPIENT",
        "homeUri": f"https://{APP}.example",
        "logoUri": f"https://{APP}.example/logo.png",
        "registry": "GLEIF",
        "registeredEntityName": "Budget Co, Inc",
        "registeredEntityId": "5493001052I34KDC1O18",
    },
    {
        "name": "Sandbox Bank",
        "type": "DATA_PROVIDER",
        "homeUri": ISSUER,
        "registry": "PRIVATE",
        "registeredEntityName": "Sandbox Bank",
        "registeredEntityId": ISSUER,
    },
]


def test_a_recipient_without_a_registry_entry_is_vouched_for_privately(gw, fdx_validate):
    """No registry_references: PRIVATE, its client name and client_id."""
    consent = gw.consent(client_id=OTHER)

    body = gw.get(_consent_path(consent), gw.manage_token(OTHER)).json()

    fdx_validate(body, "ConsentGrantentity")
    assert body["parties"][0]["registry"] == "PRIVATE"
    assert body["parties"][0]["registeredEntityName"] == f"App {OTHER}"
    assert body["parties"][0]["registeredEntityId"] == OTHER


def test_reading_a_consent_past_its_expiry_shows_it_expired_and_records_it(gw, fdx_validate):
    """Expiry is checked on use: the API answers EXPIRED and stores the transition."""
    consent = gw.consent(expires_in=60)
    token = gw.manage_token()
    gw.clock.advance(60)

    body = gw.get(_consent_path(consent), token).json()

    fdx_validate(body, "ConsentGrantentity")
    assert body["status"] == "EXPIRED"
    assert gw.stored(consent).status is ConsentStatus.EXPIRED


@pytest.mark.parametrize("whose", ["other", "unknown", "denied", "too-long"])
def test_consents_not_the_recipients_own_are_not_found(gw, fdx_validate, whose):
    """Another recipient's, an unknown, a refused consent: the same 404/1107."""
    if whose == "other":
        consent_id = gw.consent(client_id=OTHER).id
    elif whose == "denied":
        consent_id = gw.consent(status=ConsentStatus.DENIED).id
    else:
        consent_id = "no-such-consent" if whose == "unknown" else "x" * 300
    token = gw.manage_token()

    for path in (f"/fdx/v6/consents/{consent_id}", f"/fdx/v6/consents/{consent_id}/revocation"):
        assert_fdx_error(gw.get(path, token), 404, "1107", fdx_validate)
    response = gw.put(f"/fdx/v6/consents/{consent_id}/revocation", token, REVOKE_BODY)
    assert_fdx_error(response, 404, "1107", fdx_validate)


# ---------------------------------------------------------------------------- the gate


def test_a_data_access_token_is_refused_with_insufficient_scope(gw, fdx_validate):
    """A token bound to a consent cannot manage consents, not even its own: 403."""
    consent = gw.consent()
    data = gw.data_tokens(consent)["access_token"]

    for response in (
        gw.get(_consent_path(consent), data),
        gw.put(_consent_path(consent, "/revocation"), data, REVOKE_BODY),
        gw.get(_consent_path(consent, "/revocation"), data),
    ):
        assert_fdx_error(response, 403, "403", fdx_validate)
        assert response.headers["www-authenticate"] == (
            f'Bearer error="insufficient_scope", scope="{CONSENTS_SCOPE}"'
        )
    assert gw.stored(consent).status is ConsentStatus.ACTIVE


@pytest.mark.parametrize(
    ("consent_bound", "scope"),
    [(False, "fdx:accountbasic:read"), (True, CONSENTS_SCOPE)],
    ids=["client-credentials-without-the-scope", "consent-bound-with-the-scope"],
)
def test_the_scope_check_needs_both_no_consent_and_the_scope(
    gw, fdx_validate, consent_bound, scope
):
    """Each condition on its own refuses: a token bound to no consent but without the
    management scope, and one carrying the scope but bound to a consent, are both 403."""
    consent = gw.consent()
    token, _ = gw.services.tokens.issue(
        consent_id=consent.id if consent_bound else None,
        client_id=APP,
        sub=APP,
        scope=scope,
    )

    response = gw.get(_consent_path(consent), token)

    body = assert_fdx_error(response, 403, "403", fdx_validate)
    assert response.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", scope="{CONSENTS_SCOPE}"'
    )
    assert body["debugMessage"] == f"this operation needs a {CONSENTS_SCOPE} token"


def test_a_valid_management_token_under_the_basic_scheme_is_refused(gw, fdx_validate):
    """RFC 6750 §2.1: ``Basic <valid token>`` is not a bearer credential."""
    consent = gw.consent()
    token = gw.manage_token()

    response = gw.http.get(_consent_path(consent), headers={"Authorization": f"Basic {token}"})

    assert_fdx_error(response, 401, "603", fdx_validate)


@pytest.mark.parametrize(
    "header", [None, "Bearer not-a-jwt", "Basic eDp5"], ids=["none", "garbage", "basic"]
)
def test_the_consent_api_needs_a_valid_bearer_token(gw, fdx_validate, header):
    """401/603 without a valid token."""
    consent = gw.consent()
    headers = {} if header is None else {"Authorization": header}

    response = gw.http.get(_consent_path(consent), headers=headers)

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_a_revoked_management_token_is_refused(gw, fdx_validate):
    """RFC 7009 works for these tokens too: revoked before its exp, 401/603."""
    consent = gw.consent()
    token = gw.manage_token()
    gw.http.post("/oauth/revoke", data={"token": token, **gw.assertion(APP)})

    assert_fdx_error(gw.get(_consent_path(consent), token), 401, "603", fdx_validate)


def test_the_data_gate_refuses_a_consent_management_token(gw, fdx_validate):
    """A client-credentials token has no consent: the FDX data API answers 401/603."""
    gw.consent()
    token = gw.manage_token()

    for path in ("/fdx/v6/accounts", "/fdx/v6/accounts/acc-chk/transactions"):
        response = gw.get(path, token)
        assert_fdx_error(response, 401, "603", fdx_validate)
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize(
    ("method", "path"), [("POST", ""), ("DELETE", ""), ("POST", "/revocation")]
)
def test_other_methods_are_not_allowed(gw, fdx_validate, method, path):
    """405/1206 with the methods the path does allow."""
    consent = gw.consent()

    response = gw.http.request(
        method,
        _consent_path(consent, path),
        headers={"Authorization": f"Bearer {gw.manage_token()}"},
    )

    assert_fdx_error(response, 405, "1206", fdx_validate)
    assert response.headers["allow"] == ("GET, PUT" if path else "GET")


# ---------------------------------------------------------------------------- revocation


def test_a_recipient_revokes_its_consent_with_204(gw, fdx_validate):
    """204, no body; REVOKED by the recipient, the initiator it named kept."""
    consent = gw.consent()
    token = gw.manage_token()
    gw.clock.advance(5)

    response = gw.put(_consent_path(consent, "/revocation"), token, REVOKE_BODY)
    listed = gw.get(_consent_path(consent, "/revocation"), token).json()
    events = anyio.run(gw.records.consents.events, consent.id)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert gw.stored(consent).status is ConsentStatus.REVOKED
    assert (events[-1].actor, events[-1].reason) == ("DATA_RECIPIENT", "USER_ACTION")
    fdx_validate(listed, "ConsentRevocationListentity")
    assert listed == {
        "revocations": [
            {
                "status": "REVOKED",
                "reason": "USER_ACTION",
                "initiator": "DATA_ACCESS_PLATFORM",
                "updatedTime": "2026-03-15T12:00:05Z",
            }
        ]
    }
    assert gw.get(_consent_path(consent), token).json()["status"] == "REVOKED"


def test_the_initiator_defaults_to_the_recipient(gw, fdx_validate):
    """A body with only a reason: the recipient itself initiated it."""
    consent = gw.consent()
    token = gw.manage_token()

    gw.put(_consent_path(consent, "/revocation"), token, {"reason": "BUSINESS_RULE"})
    listed = gw.get(_consent_path(consent, "/revocation"), token).json()

    fdx_validate(listed, "ConsentRevocationListentity")
    assert listed["revocations"][0]["initiator"] == "DATA_RECIPIENT"
    assert listed["revocations"][0]["reason"] == "BUSINESS_RULE"


@pytest.mark.parametrize("body", [{}, {"initiator": "DATA_RECIPIENT"}], ids=["empty", "initiator"])
def test_a_revocation_without_a_reason_is_served_and_listed_without_one(gw, fdx_validate, body):
    """FDX ConsentRevocationRequest makes ``reason`` optional: 204, and none is made up."""
    consent = gw.consent()
    token = gw.manage_token()

    response = gw.put(_consent_path(consent, "/revocation"), token, body)
    listed = gw.get(_consent_path(consent, "/revocation"), token).json()
    events = anyio.run(gw.records.consents.events, consent.id)

    assert response.status_code == 204, response.text
    fdx_validate(listed, "ConsentRevocationListentity")
    assert [{k: v for k, v in r.items() if k != "updatedTime"} for r in listed["revocations"]] == [
        {"status": "REVOKED", "initiator": "DATA_RECIPIENT"}
    ]
    assert (events[-1].event, events[-1].reason) == ("revoked", None)


def test_an_unrevoked_consent_has_an_empty_revocation_list(gw, fdx_validate):
    """200 with no revocations."""
    consent = gw.consent()

    listed = gw.get(_consent_path(consent, "/revocation"), gw.manage_token()).json()

    fdx_validate(listed, "ConsentRevocationListentity")
    assert listed == {"revocations": []}


def test_a_consumer_revocation_is_listed_with_the_consumer_as_initiator(gw, fdx_validate):
    """A revocation from the portal shows INDIVIDUAL / USER_ACTION to the recipient."""
    consent = gw.consent()
    anyio.run(
        lambda: lifecycle.revoke(gw.services, consent.id, actor="INDIVIDUAL", reason="USER_ACTION")
    )

    listed = gw.get(_consent_path(consent, "/revocation"), gw.manage_token()).json()

    fdx_validate(listed, "ConsentRevocationListentity")
    assert [(r["initiator"], r["reason"]) for r in listed["revocations"]] == [
        ("INDIVIDUAL", "USER_ACTION")
    ]


@pytest.mark.parametrize("ended", ["revoked", "expired", "expiry-due"])
def test_revoking_an_ended_consent_is_a_conflict(gw, fdx_validate, ended):
    """409/409 when already revoked or expired; nothing more is recorded."""
    consent = gw.consent(expires_in=60)
    token = gw.manage_token()
    if ended == "revoked":
        gw.put(_consent_path(consent, "/revocation"), token, REVOKE_BODY)
    elif ended == "expired":
        gw.clock.advance(60)
        anyio.run(lifecycle.expire_if_due, gw.services, consent)
    else:
        gw.clock.advance(60)  # expired by the clock, not yet recorded
    before = [e.event for e in anyio.run(gw.records.consents.events, consent.id)]

    response = gw.put(_consent_path(consent, "/revocation"), token, REVOKE_BODY)
    after = [e.event for e in anyio.run(gw.records.consents.events, consent.id)]

    assert_fdx_error(response, 409, "409", fdx_validate)
    expected = before + (["expired"] if ended == "expiry-due" else [])
    assert after == expected


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"reason": "BORED"}',
        b'{"reason": "USER_ACTION", "initiator": "ROBOT"}',
        b'{"reason": 1}',
        b'{"reason": ["USER_ACTION"]}',
        b'{"reason": {"USER_ACTION": 1}}',
        b'{"reason": "USER_ACTION", "initiator": ["DATA_RECIPIENT"]}',
        b'{"reason": "USER_ACTION", "initiator": {}}',
        b'{"reason": "USER_ACTION", "initiator": null}',
        b'{"reason": "USER_ACTION", "initiator": "INDIVIDUAL"}',
    ],
    ids=[
        "empty",
        "not-json",
        "array",
        "bad-reason",
        "bad-initiator",
        "number",
        "reason-a-list",
        "reason-an-object",
        "initiator-a-list",
        "initiator-an-object",
        "initiator-null",
        "initiator-the-consumer",
    ],
)
def test_a_malformed_revocation_request_is_invalid_input(gw, fdx_validate, body):
    """400/401 and the consent stays ACTIVE."""
    consent = gw.consent()

    response = gw.put(
        _consent_path(consent, "/revocation"),
        gw.manage_token(),
        content=body,
        headers={"content-type": "application/json"},
    )

    assert_fdx_error(response, 400, "401", fdx_validate)
    assert gw.stored(consent).status is ConsentStatus.ACTIVE


def test_an_oversized_revocation_request_is_invalid_input(gw, fdx_validate):
    """A body past max_body_bytes is refused without being read in full."""
    consent = gw.consent()
    body = b'{"reason": "USER_ACTION", "pad": "' + b"x" * 70_000 + b'"}'

    response = gw.put(_consent_path(consent, "/revocation"), gw.manage_token(), content=body)

    assert_fdx_error(response, 400, "401", fdx_validate)


def test_a_revocation_through_the_api_stops_the_very_next_data_call(gw, fdx_validate):
    """The gate reads the consent live: the next FDX call is 401/602, and the refresh token
    is dead, though the access token has not expired."""
    consent = gw.consent()
    tokens = gw.data_tokens(consent)
    assert gw.get("/fdx/v6/accounts", tokens["access_token"]).status_code == 200

    response = gw.put(_consent_path(consent, "/revocation"), gw.manage_token(), REVOKE_BODY)
    data_call = gw.get("/fdx/v6/accounts", tokens["access_token"])
    refresh = gw.refresh(tokens["refresh_token"])

    assert response.status_code == 204
    assert_fdx_error(data_call, 401, "602", fdx_validate)
    assert (refresh.status_code, refresh.json()["error"]) == (400, "invalid_grant")


def test_a_consumer_revocation_stops_the_recipients_next_data_call(gw, fdx_validate):
    """Revocation from any side: the portal's lifecycle.revoke works the same way."""
    consent = gw.consent()
    tokens = gw.data_tokens(consent)

    anyio.run(
        lambda: lifecycle.revoke(gw.services, consent.id, actor="INDIVIDUAL", reason="USER_ACTION")
    )

    assert_fdx_error(gw.get("/fdx/v6/accounts", tokens["access_token"]), 401, "602", fdx_validate)
    assert gw.refresh(tokens["refresh_token"]).status_code == 400


def test_the_data_gate_records_an_expiry_at_the_exact_second(gw, fdx_validate):
    """Served at expires_at - 1; at expires_at 401/602 and EXPIRED stored, no job needed."""
    consent = gw.consent(expires_in=120)
    token = gw.data_tokens(consent)["access_token"]
    gw.clock.advance(119)

    assert gw.get("/fdx/v6/accounts", token).status_code == 200
    gw.clock.advance(1)
    assert_fdx_error(gw.get("/fdx/v6/accounts", token), 401, "602", fdx_validate)
    assert gw.stored(consent).status is ConsentStatus.EXPIRED


def test_consent_api_calls_are_not_data_accesses(gw):
    """Reading and revoking a consent writes nothing to the data-access audit."""
    consent = gw.consent()
    token = gw.manage_token()

    gw.get(_consent_path(consent), token)
    gw.get(_consent_path(consent, "/revocation"), token)
    gw.put(_consent_path(consent, "/revocation"), token, REVOKE_BODY)

    assert gw.audit(consent) == []


def test_discovery_advertises_the_grant_and_its_scope(gw):
    """client_credentials and fdx:consents:manage are in the metadata."""
    from authz.discovery import metadata

    doc = metadata(gw.services.settings, gw.services.policy)

    assert "client_credentials" in doc["grant_types_supported"]
    assert CONSENTS_SCOPE in doc["scopes_supported"]

"""The authorization server under the default ``fapi2`` profile, with its screens, for the
negative tests modelled on the OpenID FAPI 2.0 Security Profile test plan (tests/fapi/README.md).

The harness is the OAuth one (tests/authz/oauth/conftest.py) with the profile left at its
default, so tokens must be sender-constrained, and with ``/oauth/authorize`` mounted.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any, cast

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.base import BankAdapter
from authz import screens
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.requests import AuthorizationCode
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.oauth.conftest import (
    CLIENT_ID,
    GRANTED_SCOPE,
    ISSUER,
    OTHER_ID,
    REDIRECT,
    FakeBank,
    FakeClock,
    Harness,
    client_record,
    new_key,
    run,
)

TOKEN_URL = ISSUER + "/oauth/token"


def dpop_key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"alg": "ES256"}, private=True)


def proof(key: ECKey, url: str, now: float, *, method: str = "POST", **claims: Any) -> str:
    """A DPoP proof (RFC 9449 §4.2) for ``method url`` signed by ``key``."""
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    body = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url, "iat": int(now), **claims}
    return jwt.encode(header, body, key, algorithms=["ES256"])


class Fapi(Harness):
    def bound_code(self, jkt: str | None) -> tuple[str, str]:
        """A code as the consent screen stores it after a PAR that bound ``jkt`` (dpop_jkt)."""
        consent = self.consent(f"consent-{secrets.token_hex(4)}")
        verifier = secrets.token_urlsafe(48)
        code = AuthorizationCode(
            client_id=CLIENT_ID,
            redirect_uri=REDIRECT,
            code_challenge=create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
            consent_id=consent.id,
            customer_id=consent.customer_id,
            scope=GRANTED_SCOPE,
            issued_at=self.clock(),
            dpop_jkt=jkt,
        )
        raw = secrets.token_urlsafe(32)
        run(self.services.state.put, Kind.CODE, raw, code.to_dict(), ttl=60)
        return raw, verifier

    def redeem(self, code: str, verifier: str, key: ECKey | None) -> Any:
        headers = {} if key is None else {"DPoP": proof(key, TOKEN_URL, self.clock())}
        form = self.auth(
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=verifier,
        )
        return self.http.post("/oauth/token", data=form, headers=headers)


@pytest.fixture
def fapi() -> Iterator[Fapi]:
    clock = FakeClock()
    services = Services.build(
        Settings(issuer=ISSUER),  # profile fapi2, the default
        policy=load_policy(),
        records=memory_records(clock=clock),
        state=MemoryStateStore(clock=clock),
        bank=cast(BankAdapter, FakeBank()),
        keys=SigningKeys.generate(),
        secret=b"k" * 32,
        clock=clock,
    )
    assert services.settings.profile == "fapi2"
    key, other = new_key("client-key-1"), new_key("other-key-1")
    run(services.records.clients.put, client_record(CLIENT_ID, key))
    run(services.records.clients.put, client_record(OTHER_ID, other))
    app = Starlette(
        routes=[*oauth_routes(services), *screens.routes(services)],
        exception_handlers={OAuth2Error: handle_oauth_error},
    )
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as http:
        yield Fapi(services, clock, http, key, other)

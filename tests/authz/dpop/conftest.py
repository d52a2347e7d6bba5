"""The authorization server and the FDX API together, under the fapi2 profile by default, with a
client that holds a DPoP key (and, for mTLS, a certificate its proxy forwards)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount
from starlette.testclient import TestClient

from adapters.base import BankAdapter
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.requests import REQUEST_URI_PREFIX, PushedRequest
from authz.services import Services
from authz.store.base import Kind
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from gateway.errors import fdx_exception_handlers
from gateway.fdx import routes, version_routes
from gateway.middleware import InteractionIdMiddleware
from tests.authz.dpop.proofs import Prover
from tests.authz.oauth.conftest import (
    CLIENT_ID,
    ISSUER,
    OTHER_ID,
    REDIRECT,
    FakeClock,
    Harness,
    client_record,
    new_key,
    run,
)
from tests.gateway.fakes import FakeBank

TOKEN_URL = f"{ISSUER}/oauth/token"
PAR_URL = f"{ISSUER}/oauth/par"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@dataclass
class World(Harness):
    """The oauth Harness (assertions, consents, codes) plus a DPoP key and the FDX API."""

    prover: Prover = field(default_factory=Prover)

    def proof(self, url: str = TOKEN_URL, method: str = "POST", **kwargs: Any) -> str:
        return self.prover.proof(method, url, now=self.clock(), **kwargs)

    def token_request(
        self, form: dict[str, str], *, proof: str | None = None, **headers: str
    ) -> Any:
        sent = dict(headers)
        if proof is not None:
            sent["DPoP"] = proof
        return self.http.post("/oauth/token", data=form, headers=sent)

    def exchange_with(self, code: str, verifier: str, proof: str | None) -> Any:
        form = self.auth(
            grant_type="authorization_code",
            code=code,
            redirect_uri=REDIRECT,
            code_verifier=verifier,
        )
        return self.token_request(form, proof=proof)

    def refresh_with(self, refresh_token: str, proof: str | None) -> Any:
        form = self.auth(grant_type="refresh_token", refresh_token=refresh_token)
        return self.token_request(form, proof=proof)

    def bound_code(self, jkt: str | None) -> tuple[str, str]:
        """A code for a fresh consent, bound at PAR to ``jkt`` (what the screens carry over)."""
        consent = self.consent(f"consent-{secrets.token_hex(4)}")
        code, verifier = self.code(consent)
        payload = run(self.services.state.get, Kind.CODE, code)
        assert payload is not None
        run(self.services.state.put, Kind.CODE, code, {**payload, "dpop_jkt": jkt}, ttl=60)
        return code, verifier

    def par(self, *, proof: str | None = None, **params: str) -> Any:
        form = self.auth(
            client_id=CLIENT_ID,
            response_type="code",
            redirect_uri=REDIRECT,
            code_challenge=CHALLENGE,
            code_challenge_method="S256",
            scope="fdx:accountbasic:read",
            **params,
        )
        headers = {} if proof is None else {"DPoP": proof}
        return self.http.post("/oauth/par", data=form, headers=headers)

    def pushed(self, response: Any) -> PushedRequest:
        key = response.json()["request_uri"].removeprefix(REQUEST_URI_PREFIX)
        payload = run(self.services.state.get, Kind.PAR, key)
        assert payload is not None
        return PushedRequest.from_dict(payload)


def make_world(
    settings: Settings, *, client: tuple[str, int] = ("testclient", 50000)
) -> Iterator[World]:
    clock = FakeClock()
    services = Services.build(
        settings,
        policy=load_policy(),
        records=memory_records(clock=clock),
        state=MemoryStateStore(clock=clock),
        bank=cast(BankAdapter, FakeBank()),
        keys=SigningKeys.generate(),
        secret=b"k" * 32,
        clock=clock,
    )
    key, other = new_key("client-key-1"), new_key("other-key-1")
    run(services.records.clients.put, client_record(CLIENT_ID, key))
    run(services.records.clients.put, client_record(OTHER_ID, other))
    app = Starlette(
        routes=[
            Mount(
                "/fdx/v6",
                routes=routes(services),
                middleware=services.senders.resource_middleware(),
            ),
            *version_routes(),
            *oauth_routes(services),
        ],
        middleware=[Middleware(InteractionIdMiddleware)],
        exception_handlers={**fdx_exception_handlers, OAuth2Error: handle_oauth_error},
    )
    with TestClient(app, base_url=ISSUER, client=client, raise_server_exceptions=False) as http:
        yield World(services, clock, http, key, other)


WorldFactory = Callable[..., World]


@pytest.fixture
def world() -> Iterator[World]:
    yield from make_world(Settings(issuer=ISSUER))


@pytest.fixture
def worlds() -> Iterator[WorldFactory]:
    """Build worlds with other settings (profile, nonces, mTLS) or another client address."""
    opened: list[Iterator[World]] = []

    def build(client: tuple[str, int] = ("testclient", 50000), **settings: Any) -> World:
        it = make_world(Settings(issuer=ISSUER, **settings), client=client)
        opened.append(it)
        return next(it)

    yield build
    for it in opened:
        for _ in it:  # runs the rest of each generator: closes its TestClient
            pass

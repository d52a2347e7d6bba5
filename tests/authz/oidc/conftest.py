"""The authorization server with a bank that knows the consumer (for userinfo)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings
from tests.authz.oauth.conftest import (
    CLIENT_ID,
    ISSUER,
    OTHER_ID,
    FakeClock,
    Harness,
    client_record,
    new_key,
    run,
)
from tests.gateway.fakes import FakeBank


@pytest.fixture
def oidc() -> Iterator[Harness]:
    clock = FakeClock()
    services = Services.build(
        Settings(issuer=ISSUER, profile="sandbox"),
        policy=load_policy(),
        records=memory_records(clock=clock),
        state=MemoryStateStore(clock=clock),
        bank=FakeBank(),
        keys=SigningKeys.generate(),
        secret=b"k" * 32,
        clock=clock,
    )
    key, other = new_key("client-key-1"), new_key("other-key-1")
    run(services.records.clients.put, client_record(CLIENT_ID, key))
    run(services.records.clients.put, client_record(OTHER_ID, other))
    app = Starlette(
        routes=oauth_routes(services), exception_handlers={OAuth2Error: handle_oauth_error}
    )
    with TestClient(app, base_url=ISSUER) as http:
        yield Harness(services, clock, http, key, other)

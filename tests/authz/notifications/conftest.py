"""A notification receiver on loopback, and a services bundle whose clock the test moves."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from adapters.base import BankAdapter
from authz.consent.model import Consent, ConsentEvent, ConsentResource, ConsentStatus, DurationType
from authz.keys import SigningKeys
from authz.notifications import Notifier
from authz.services import Services
from authz.store.base import ClientRecord, Records
from authz.store.memory import MemoryStateStore, memory_records
from config.policy import load_policy
from config.settings import Settings

NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
DAY = 86400


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Received:
    headers: dict[str, str]
    claims: dict[str, Any]
    header: dict[str, Any]


@dataclass
class Receiver:
    """A recipient's notification endpoint: a real HTTP server on 127.0.0.1.

    It verifies each JWS against ``jwks`` (the gateway's published keys) and records what it got.
    ``answers`` are the statuses of the next requests (then 204); ``hold`` makes it wait before
    answering until the test releases it."""

    url: str
    jwks: dict[str, Any] = field(default_factory=dict)
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    hold: threading.Event | None = None
    requests: int = 0

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        self.requests += 1
        if self.hold is not None:
            self.hold.wait(timeout=10)
        try:
            token = jwt.decode(
                body.decode(), KeySet.import_key_set(cast(Any, self.jwks)), algorithms=["ES256"]
            )
        except Exception as exc:  # recorded; the test asserts on it
            self.rejected.append(type(exc).__name__)
            return 400
        self.received.append(Received(headers, dict(token.claims), dict(token.header)))
        return self.answers.pop(0) if self.answers else 204


@pytest.fixture
def receiver() -> Iterator[Callable[[str], Receiver]]:
    """``receiver("/path")`` starts one server; all are stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(path: str = "/fdx/notifications") -> Receiver:
        state = Receiver(url="")

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                status = state.handle({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        return state

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {
        "allow_insecure_notification_urls": True,
        "notification_connect_timeout": 2.0,
        "notification_read_timeout": 5.0,  # generous: a loaded CI machine is not a slow receiver
        "notification_max_attempts": 5,
        "notification_backoff_base": 30,
        "notification_sweep_interval": 0,
    }
    values.update(changes)
    return Settings(**values)


@dataclass
class World:
    services: Services
    clock: FakeClock
    notifier: Notifier

    @property
    def records(self) -> Records:
        return self.services.records

    async def client(self, client_id: str = "client-1", uri: str | None = None) -> ClientRecord:
        client = ClientRecord(
            client_id=client_id,
            client_name="Budget App",
            redirect_uris=("https://app.example/cb",),
            jwks={"keys": []},
            client_uri="https://app.example",
            notification_uri=uri,
        )
        await self.records.clients.put(client)
        return client

    async def consent(
        self,
        consent_id: str = "c-1",
        *,
        client_id: str = "client-1",
        duration: DurationType = DurationType.PERSISTENT,
        expires_in: float = 365 * DAY,
    ) -> Consent:
        now = self.clock()
        consent = Consent(
            id=consent_id,
            status=ConsentStatus.ACTIVE,
            client_id=client_id,
            customer_id="cust-1",
            created_at=now,
            updated_at=now,
            expires_at=now + expires_in,
            duration_type=duration,
            duration_period=90 if duration is DurationType.TIME_BOUND else None,
            lookback_period=90,
            resources=(ConsentResource("ACCOUNT", "acc-1", ("ACCOUNT_BASIC",)),),
            purpose="Budgeting",
        )
        await self.records.consents.create(
            consent, ConsentEvent(consent_id, now, "granted", "INDIVIDUAL")
        )
        return consent


def build_world(
    records: Records | None = None,
    *,
    clock: FakeClock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **changes: Any,
) -> World:
    clock = clock or FakeClock()
    services = Services.build(
        settings(**changes),
        policy=load_policy(),
        records=records or memory_records(),
        state=MemoryStateStore(clock=clock),
        bank=cast(BankAdapter, object()),
        keys=SigningKeys.generate(),
        clock=clock,
    )
    notifier = Notifier(services, transport=transport, rand=lambda: 0.5)  # jitter factor exactly 1
    services.observers.append(notifier)
    return World(services, clock, notifier)


@pytest.fixture
async def world() -> Any:
    w = build_world()
    yield w
    await w.notifier.sender.aclose()

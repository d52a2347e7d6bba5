"""The whole gateway (``create_app``, SQLite records, the sandbox bank, the demo recipient) and
DPoP-bound tokens got the way a recipient gets them: the example app's full flow (discovery,
PAR, the consumer's sign-in and consent screens, the token endpoint) for a data token, and the
client-credentials grant for a Consent API token. Used by the tests that drive the gateway from
its OpenAPI document."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from authz.store import open_records
from config.settings import Settings
from examples.budget_app import DpopClient, Recipient, obtain_tokens
from gateway.app import Gateway, build_services, create_app
from gateway.cli import _seed_demo

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "demo"
CONSENTS_SCOPE = "fdx:consents:manage"


@dataclass
class Session:
    app: Gateway
    settings: Settings
    recipient: Recipient
    dpop: DpopClient  # the recipient's DPoP key; both tokens are bound to it
    data_token: str
    consent_id: str
    consents_token: str
    account_ids: list[str]

    def proof(self, method: str, url: str, token: str | None = None) -> str:
        return self.dpop.proof(method, url, token)


async def open_session(tmp_path: Path, **settings: Any) -> Session:
    """A fresh gateway under ``tmp_path`` (fapi2 profile unless ``settings`` say otherwise) and
    one consumer's consent to the demo recipient."""
    config = Settings(
        database_url=f"sqlite:///{tmp_path}/gw.db",
        var_dir=str(tmp_path / "var"),
        **settings,
    )
    records = open_records(config.database_url)
    await records.schema.migrate()
    await _seed_demo(records, DEMO)
    await records.aclose()
    app = create_app(config, services=build_services(config))
    recipient = Recipient.demo()
    issuer = config.issuer
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=issuer) as http:
        dpop = DpopClient(http)
        _, tokens = await obtain_tokens(
            http, issuer, recipient, "alice", "sandbox-alice", dpop, say=lambda _: None
        )
        data_token = tokens["access_token"]
        accounts = await dpop.request("GET", f"{issuer}/fdx/v6/accounts", access_token=data_token)
        granted = await dpop.request(
            "POST",
            f"{issuer}/oauth/token",
            form=lambda: {
                "grant_type": "client_credentials",
                "scope": CONSENTS_SCOPE,
                **recipient.assertion(issuer),
            },
        )
    assert 200 == accounts.status_code, accounts.text
    assert 200 == granted.status_code, granted.text
    return Session(
        app=app,
        settings=config,
        recipient=recipient,
        dpop=dpop,
        data_token=data_token,
        consent_id=tokens["grant_id"],
        consents_token=granted.json()["access_token"],
        account_ids=[a["accountId"] for a in accounts.json()["accounts"]],
    )

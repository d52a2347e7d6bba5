"""A client generated from our OpenAPI document by openapi-python-client calls the gateway as a
recipient's developer would: DPoP-bound tokens, a proof added to every request by an httpx
event hook (the generator knows nothing of DPoP), the token endpoint and the FDX API through
the generated functions and models.

The client is generated afresh into a temporary folder by every run rather than committed:
it is derived from the document in this tree, so a change to the document (or to the
generator) is tested at once, and no thousands of generated lines have to be kept in step,
linted and excluded from type checks. Generating takes about a second.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from config.settings import Settings
from gateway.openapi.document import served_document
from tests.interop.gateway_session import CONSENTS_SCOPE, Session, open_session

pytestmark = pytest.mark.anyio
PACKAGE = "fdx_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The generated package, importable for this module's tests."""
    out = tmp_path_factory.mktemp("generated")
    document = out / "openapi.json"
    document.write_text(json.dumps(served_document(Settings())), encoding="utf-8")
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(document), "--meta", "none",
         "--output-path", str(out / PACKAGE)],
        capture_output=True,
        text=True,
        cwd=out,
        timeout=120,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert 0 == done.returncode, said
    # Every operation and schema made it: the generator drops what it cannot read, loudly.
    assert "will not be generated" not in said, said
    assert "Unable to process schema" not in said, said
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(out))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def dpop_hook(session: Session) -> Any:
    """What a recipient adds to a generated client: a fresh DPoP proof on every request, for
    its method and URL (without the query, RFC 9449 §4.2) and, with a token, its hash."""

    async def add_proof(request: httpx.Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        url = str(request.url.copy_with(query=None))
        token_hash = token if scheme.lower() == "dpop" else None
        request.headers["DPoP"] = session.proof(request.method, url, token_hash)

    return add_proof


def httpx_args(session: Session) -> dict[str, Any]:
    return {
        "transport": httpx.ASGITransport(app=session.app),
        "event_hooks": {"request": [dpop_hook(session)]},
    }


async def test_the_generated_client_reads_transactions_with_a_dpop_token(
    generated: ModuleType, tmp_path: Path
) -> None:
    """The generated transactions function, a DPoP token from the full flow, the hook's proof:
    200 and a parsed FDX Transactions entity."""
    session = await open_session(tmp_path)
    api = importlib.import_module(f"{PACKAGE}.api.account_transactions")
    search = importlib.import_module(f"{api.__name__}.search_for_account_transactions")
    client = generated.AuthenticatedClient(
        base_url=session.settings.issuer,
        token=session.data_token,
        prefix="DPoP",
        httpx_args=httpx_args(session),
    )
    today = datetime.now(UTC).date()

    async with client:
        response = await search.asyncio_detailed(
            session.account_ids[0],
            client=client,
            start_time=today - timedelta(days=30),
            end_time=today,
            limit=5,
        )

    assert 200 == response.status_code, response.content
    assert type(response.parsed).__name__ == "Transactionsentity"
    assert response.parsed.transactions


async def test_without_the_proof_the_generated_client_gets_the_documented_401(
    generated: ModuleType, tmp_path: Path
) -> None:
    """The hook is what makes the call work: without a proof the gateway answers the
    documented 401 (FDX 603, a DPoP challenge), parsed by the generated model."""
    session = await open_session(tmp_path)
    search = importlib.import_module(f"{PACKAGE}.api.account_information.search_for_accounts")
    client = generated.AuthenticatedClient(
        base_url=session.settings.issuer,
        token=session.data_token,
        prefix="DPoP",
        httpx_args={"transport": httpx.ASGITransport(app=session.app)},
    )

    async with client:
        response = await search.asyncio_detailed(client=client)

    assert (401, "603") == (response.status_code, response.parsed.code)
    assert response.headers["www-authenticate"].startswith('DPoP error="invalid_dpop_proof"')


async def test_the_generated_client_gets_a_consent_api_token_and_reads_the_consent(
    generated: ModuleType, tmp_path: Path
) -> None:
    """The generated token function (client credentials, private_key_jwt, DPoP by the hook)
    and the generated Consent API function, with its models."""
    session = await open_session(tmp_path)
    issuer = session.settings.issuer
    request_token = importlib.import_module(f"{PACKAGE}.api.o_auth.request_token")
    get_consent = importlib.import_module(f"{PACKAGE}.api.user_consent.get_consent_grant")
    models = importlib.import_module(f"{PACKAGE}.models")
    assertion = session.recipient.assertion(issuer)
    body = models.TokenRequest(
        client_assertion_type=models.TokenRequestClientAssertionType(
            assertion["client_assertion_type"]
        ),
        client_assertion=assertion["client_assertion"],
        grant_type=models.TokenRequestGrantType.CLIENT_CREDENTIALS,
        scope=CONSENTS_SCOPE,
    )

    async with generated.Client(base_url=issuer, httpx_args=httpx_args(session)) as oauth:
        tokens = await request_token.asyncio(client=oauth, body=body)
    assert isinstance(tokens, models.TokenResponse), tokens
    client = generated.AuthenticatedClient(
        base_url=issuer,
        token=tokens.access_token,
        prefix=tokens.token_type.value,
        httpx_args=httpx_args(session),
    )
    async with client:
        consent = await get_consent.asyncio(session.consent_id, client=client)
        missing = await get_consent.asyncio_detailed("no-such-consent", client=client)

    assert "DPoP" == tokens.token_type.value
    assert isinstance(consent, models.ConsentGrantentity), consent
    assert session.consent_id == consent.id
    assert (404, "1107") == (missing.status_code, missing.parsed.code)

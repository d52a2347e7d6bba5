"""DPoP across the pieces: the PAR binding survives the consent screens into the code, userinfo
takes DPoP tokens, and the example client completes the whole flow with nonces required."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from authz.requests import REQUEST_URI_PREFIX, AuthorizationCode, PushedRequest
from authz.store import open_records
from authz.store.base import Kind
from config.settings import Settings
from examples.budget_app import Recipient, run_flow
from gateway.app import build_services, create_app
from gateway.cli import _seed_demo
from tests.authz.dpop.conftest import World, WorldFactory
from tests.authz.dpop.proofs import Prover
from tests.authz.oauth.conftest import CLIENT_ID, ISSUER
from tests.authz.screens.conftest import CHALLENGE, CONSENT_REQUEST, REDIRECT_URI, make_world
from tests.authz.screens.conftest import CLIENT_ID as SCREENS_CLIENT
from tests.authz.screens.conftest import World as Screens

# RFC 9449 §7.1 challenges, listing the default dpop_algorithms
CHALLENGE_INVALID_DPOP_PROOF = 'DPoP error="invalid_dpop_proof", algs="ES256 PS256"'
CHALLENGE_INVALID_TOKEN = 'DPoP error="invalid_token", algs="ES256 PS256"'

DEMO = Path(__file__).resolve().parents[3] / "config" / "demo"


@pytest.fixture
def screens() -> Iterator[Screens]:
    yield from make_world(Settings(), "http://127.0.0.1:8000")


def test_the_key_bound_at_par_is_carried_into_the_code(screens: Screens) -> None:
    """RFC 9449 §10: the consent screens copy the pushed request's dpop_jkt onto the code."""
    jkt = Prover().jkt
    pushed = PushedRequest(
        client_id=SCREENS_CLIENT,
        redirect_uri=REDIRECT_URI,
        state="s",
        scope=("fdx:accountbasic:read", "fdx:transactions:read"),
        code_challenge=CHALLENGE,
        consent=CONSENT_REQUEST,
        created_at=screens.clock(),
        dpop_jkt=jkt,
    )
    key = secrets.token_urlsafe(32)
    screens.run(screens._put, key, pushed.to_dict(), 60)
    start = screens.client.get(
        "/oauth/authorize",
        params={"client_id": SCREENS_CLIENT, "request_uri": REQUEST_URI_PREFIX + key},
    )
    path = start.headers["location"]
    assert 303 == screens.sign_in(path).status_code
    html = screens.client.get(path).text

    answer = screens.decide(path, html, decision="approve", **{"account:acc-checking": "yes"})

    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    payload = screens.run(screens.services.state.get, Kind.CODE, code)
    assert jkt == AuthorizationCode.from_dict(payload).dpop_jkt


def test_userinfo_takes_a_dpop_token_with_its_proof(world: World) -> None:
    """OIDC userinfo is a resource like the FDX API: DPoP token + proof, never as Bearer."""
    consent = world.consent()
    token, _ = world.services.tokens.issue(
        consent_id=consent.id,
        client_id=CLIENT_ID,
        sub="pairwise",
        scope="openid fdx:accountbasic:read",
        jkt=world.prover.jkt,
    )
    url = f"{ISSUER}/oauth/userinfo"
    proof = world.prover.proof("GET", url, now=world.clock(), token=token)

    good = world.http.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    bearer = world.http.get(url, headers={"Authorization": f"Bearer {token}"})
    replay = world.http.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})

    assert (200, "pairwise") == (good.status_code, good.json()["sub"])
    assert CHALLENGE_INVALID_TOKEN == bearer.headers["www-authenticate"]
    assert CHALLENGE_INVALID_DPOP_PROOF == replay.headers["www-authenticate"]


@pytest.mark.anyio
@pytest.mark.parametrize("nonces", [True, False], ids=["nonces-required", "no-nonces"])
async def test_the_example_client_completes_the_flow_under_fapi2(
    tmp_path: Path, nonces: bool
) -> None:
    """PAR → consent → token → FDX → refresh → revoke with DPoP, with and without server nonces
    (the example retries on use_dpop_nonce at the AS and at the FDX API)."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/gw.db",
        var_dir=str(tmp_path / "var"),
        dpop_nonce_required=nonces,
    )
    records = open_records(settings.database_url)
    await records.schema.migrate()
    await _seed_demo(records, DEMO)
    await records.aclose()
    app = create_app(settings, services=build_services(settings))
    seen: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        seen.append(response)

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=settings.issuer,
        event_hooks={"response": [keep]},
    ) as http:
        result = await run_flow(
            http, settings.issuer, Recipient.demo(), "alice", "sandbox-alice", say=lambda _: None
        )

    asked = [r for r in seen if "use_dpop_nonce" in r.headers.get("www-authenticate", "")]
    asked += [r for r in seen if r.status_code == 400 and b"use_dpop_nonce" in r.content]
    assert ("DPoP", True, 401) == (
        result.token_type,
        result.refreshed,
        result.status_after_revoke,
    )
    assert result.transactions
    assert bool(asked) is nonces


@pytest.mark.parametrize("claim", ["ath", "nonce"])
def test_userinfo_refuses_a_non_ascii_ath_or_nonce_with_a_challenge(
    worlds: WorldFactory, claim: str
) -> None:
    """Any characters in ath or (nonces required) nonce: 401 with the DPoP challenge that
    fits, never a 500."""
    world = worlds(dpop_nonce_required=True)
    consent = world.consent()
    token, _ = world.services.tokens.issue(
        consent_id=consent.id,
        client_id=CLIENT_ID,
        sub="pairwise",
        scope="openid fdx:accountbasic:read",
        jkt=world.prover.jkt,
    )
    url = f"{ISSUER}/oauth/userinfo"
    odd = "é" * 43
    if claim == "ath":
        proof = world.prover.proof("GET", url, now=world.clock(), token=token, claims={"ath": odd})
    else:
        proof = world.prover.proof("GET", url, now=world.clock(), token=token, nonce=odd)

    response = world.http.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})

    expected = "invalid_dpop_proof" if claim == "ath" else "use_dpop_nonce"
    assert 401 == response.status_code
    assert f'DPoP error="{expected}"' == response.headers["www-authenticate"].split(",")[0]


@pytest.mark.parametrize("path", ["/oauth/userinfo", "/fdx/v6/accounts", "/fdx/v6/consents/c-1"])
def test_every_dpop_challenge_lists_the_advertised_algs(worlds: WorldFactory, path: str) -> None:
    """RFC 9449 §7.1: a DPoP challenge carries ``algs``, the algorithms the metadata lists in
    ``dpop_signing_alg_values_supported``, on every resource server."""
    world = worlds(dpop_algorithms=("ES256",))
    advertised = world.http.get("/.well-known/oauth-authorization-server").json()

    response = world.http.get(path)

    assert ["ES256"] == advertised["dpop_signing_alg_values_supported"]
    assert (401, 'DPoP algs="ES256"') == (
        response.status_code,
        response.headers["www-authenticate"],
    )

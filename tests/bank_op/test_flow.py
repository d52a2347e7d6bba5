"""Sign-in through the bank's OpenID Provider (``login = "oidc"``), against node-oidc-provider.

The whole consent flow (PAR → the OP's login → callback → consent → token with the gateway's own
ID token), the portal, private_key_jwt, max_age / acr_values, key rotation and algorithms, and
every bad input or fault: each ends on a plain page (en/ja) or an error the app receives, with a
``signin.*`` audit line and no session, never a 500.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import anyio
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from authz.screens.session import SESSION_COOKIE
from authz.store.base import Kind
from gateway.logging import JsonFormatter, Redactor
from tests.bank_op.conftest import (
    ALICE,
    OP_PASSWORD,
    BankOP,
    Gateway,
    app_params,
    free_port,
    gateway,
    parse,
)

pytestmark = pytest.mark.anyio

FAILED_EN = "We could not sign you in at Sandbox Bank."
FAILED_JA = "Sandbox Bankでのログインを完了できませんでした。"


@pytest.fixture(autouse=True)
def _no_fault(bank_op: BankOP):
    bank_op.fault(None)
    yield
    bank_op.fault(None)


def signin_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "authz.signin"]


def signed_in(gw: Gateway) -> bool:
    return any(c.name == SESSION_COOKIE for c in gw.http.cookies.jar)


def gateway_id_token(gw: Gateway, raw: str) -> dict[str, object]:
    keys = gw.services.keys
    token = jwt.decode(raw, keys.current, algorithms=["ES256"])
    return dict(token.claims)


@pytest.mark.parametrize("state", ["memory", "redis"])
async def test_the_consent_flow_signs_in_at_the_bank_op(bank_op: BankOP, state: str) -> None:
    """authorize → 302 to the OP (code, PKCE S256, state, nonce, the one callback URI) → the
    OP's login → callback → consent → code → the gateway's ID token with acr, amr, auth_time;
    the pending sign-in in process or in Redis."""
    async with gateway(bank_op, state=state) as gw:
        at_op = await gw.authorize()
        assert 302 == at_op.status_code
        asked = parse_qs(urlsplit(at_op.headers["location"]).query)
        assert at_op.headers["location"].startswith(bank_op.issuer + "/auth?")
        assert ["code"] == asked["response_type"]
        assert ["S256"] == asked["code_challenge_method"]
        assert [gw.issuer + "/oauth/login/callback"] == asked["redirect_uri"]
        assert {"openid", "bank"} == set(asked["scope"][0].split())
        assert all(asked[k][0] for k in ("state", "nonce", "code_challenge"))
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        consent = await gw.follow(await gw.http.get(back))
        assert "Demo Budget App" in consent.text
        assert signed_in(gw)
        params = await gw.approve(consent)
        assert (gw.state, gw.issuer) == (params["state"], params["iss"])
        tokens = await gw.token(params["code"])
    claims = gateway_id_token(gw, tokens["id_token"])
    assert gw.nonce == claims["nonce"]
    assert "urn:bank:loa:2" == claims["acr"]
    assert ["pwd", "otp"] == claims["amr"]
    assert isinstance(claims["auth_time"], int)
    assert ALICE["customer_id"] != claims["sub"], "the app sees a pairwise subject"


async def test_the_portal_signs_in_at_the_bank_op(bank_op: BankOP) -> None:
    async with gateway(bank_op) as gw:
        home = await gw.http.get(gw.issuer + "/consumer")
        assert 200 == home.status_code
        link = parse(home.text).links["sign-in-at-bank"]
        at_op = await gw.http.get(urljoin(gw.issuer, link))
        assert 302 == at_op.status_code
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        landed = await gw.follow(await gw.http.get(back))
        assert 200 == landed.status_code
        assert str(landed.url) == gw.issuer + "/consumer"
        assert signed_in(gw)
        refused = await gw.http.post(gw.issuer + "/consumer/login", data={"username": "alice"})
        assert refused.status_code in (303, 403)  # the built-in form signs no one in


async def test_the_default_customer_claim_is_sub(bank_op: BankOP) -> None:
    async with gateway(bank_op, login_oidc_customer_claim="sub", login_oidc_scope="openid") as gw:
        assert "sub" == gw.settings.login_oidc_customer_claim
        at_op = await gw.authorize()
        assert ["openid"] == parse_qs(urlsplit(at_op.headers["location"]).query)["scope"]
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op, ALICE["customer_id"]))
        consent = await gw.follow(await gw.http.get(back))
        assert 200 == consent.status_code, consent.text
        assert signed_in(gw)


async def test_malformed_callbacks_get_a_page_never_a_500(bank_op: BankOP) -> None:
    async with gateway(bank_op) as gw:
        at_op = await gw.authorize()
        state = parse_qs(urlsplit(at_op.headers["location"]).query)["state"][0]
        callback = gw.issuer + "/oauth/login/callback"
        for query in (
            "state=" + "x" * 5000,
            "state=%00%ff&code=%ff",
            "code=abc",
            "error=" + "e" * 3000 + "&state=abc",
            "state=&code=",
            "state=%E2%98%83&code=%E2%98%83&iss=%E2%98%83",
            f"state={state}&code=not-a-code-the-op-issued&iss={bank_op.issuer}",
        ):
            page = await gw.http.get(callback + "?" + query)
            assert page.status_code in (400, 403), (query[:40], page.status_code)
            assert "Traceback" not in page.text
        assert not signed_in(gw)


async def test_private_key_jwt_at_the_token_endpoint(bank_op: BankOP, tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", private=True, parameters={"kid": "gw-1", "alg": "ES256"})
    path = tmp_path / "gateway-op-key.json"
    path.write_text(json.dumps(key.as_dict(private=True)), encoding="utf-8")
    register = {
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "ES256",
        "jwks": {"keys": [key.as_dict(private=False)]},
    }
    async with gateway(bank_op, register=register, login_oidc_private_key=str(path)) as gw:
        assert gw.settings.login_oidc_client_secret == ""
        back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
        consent = await gw.follow(await gw.http.get(back))
        assert 200 == consent.status_code, consent.text
        assert signed_in(gw)


@pytest.mark.parametrize("mode", ["ps256", "es256", "rotate"])
async def test_asymmetric_algorithms_and_rotated_keys_are_accepted(
    bank_op: BankOP, mode: str
) -> None:
    """RS256 is the OP's default (above); PS256 and ES256 too; a key the OP publishes after
    the gateway cached its key set is found by one refetch, twice in a row."""
    async with gateway(bank_op) as gw:
        bank_op.fault(mode)
        for _ in range(2 if mode == "rotate" else 1):
            gw.http.cookies.clear()
            back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
            consent = await gw.follow(await gw.http.get(back))
            assert 200 == consent.status_code, consent.text
            assert signed_in(gw)


@pytest.mark.parametrize(
    ("mode", "reason", "lang"),
    [
        ("wrong_iss", "claim_iss", "en"),
        ("wrong_aud", "claim_aud", "en"),
        ("wrong_azp", "claim_azp", "en"),
        ("wrong_nonce", "claim_nonce", "ja"),
        ("expired", "claim_exp", "en"),
        ("alg_none", "algorithm", "en"),
        ("hs256", "algorithm", "ja"),
        ("unknown_kid", "unknown_kid", "en"),
        ("no_customer", "unknown_customer", "en"),
    ],
)
async def test_a_bad_id_token_signs_no_one_in(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture, mode: str, reason: str, lang: str
) -> None:
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op) as gw:
        bank_op.fault(mode, secret=gw.settings.login_oidc_client_secret)
        back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
        page = await gw.http.get(back, headers={"Accept-Language": lang})
        assert 400 == page.status_code
        assert (FAILED_JA if lang == "ja" else FAILED_EN) in page.text
        assert not signed_in(gw)
        assert "eyJ" not in page.text
    records = signin_log(caplog)
    assert [reason] == [getattr(r, "reason", None) for r in records]


async def test_keys_are_cached_and_an_unknown_kid_refetches_them_once(bank_op: BankOP) -> None:
    """The first sign-in fetches the OP's keys, the next ones use the cache; each ID token
    with a kid the OP does not publish costs one refetch, and is still refused."""
    async with gateway(bank_op) as gw:

        async def one_sign_in() -> int:
            gw.http.cookies.clear()
            back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
            return (await gw.http.get(back)).status_code

        before = bank_op.jwks_fetches()
        assert 303 == await one_sign_in()
        assert 303 == await one_sign_in()
        assert before + 1 == bank_op.jwks_fetches()
        bank_op.fault("unknown_kid")
        assert 400 == await one_sign_in()
        assert 400 == await one_sign_in()
        assert before + 3 == bank_op.jwks_fetches()


async def test_an_auth_time_older_than_max_age_is_refused(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op) as gw:
        bank_op.fault("old_auth_time")
        at_op = await gw.authorize(max_age="600")
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        page = await gw.http.get(back)
        assert (400, False) == (page.status_code, signed_in(gw))
    assert ["claim_auth_time"] == [getattr(r, "reason", None) for r in signin_log(caplog)]


async def test_a_claim_naming_no_customer_of_the_bank(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture
) -> None:
    """mallory can sign in at the OP, but the bank adapter has no such customer."""
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op) as gw:
        back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize(), "mallory"))
        page = await gw.http.get(back)
        assert (400, True) == (page.status_code, FAILED_EN in page.text)
        assert not signed_in(gw)
    assert ["unknown_customer"] == [getattr(r, "reason", None) for r in signin_log(caplog)]


@pytest.mark.parametrize("state", ["memory", "redis"])
async def test_a_replayed_or_tampered_state_or_no_pending_sign_in(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture, state: str
) -> None:
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op, state=state) as gw:
        back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
        query = parse_qs(urlsplit(back).query)
        tampered = back.replace(query["state"][0], query["state"][0][:-2] + "xx")
        first = await gw.http.get(tampered)
        assert (400, False) == (first.status_code, signed_in(gw))
        ok = await gw.http.get(back)
        assert 303 == ok.status_code
        gw.http.cookies.clear()
        again = await gw.http.get(back)
        assert (400, False) == (again.status_code, signed_in(gw))
        nothing = await gw.http.get(gw.issuer + "/oauth/login/callback")
        assert 400 == nothing.status_code
        forged = await gw.http.get(
            gw.issuer + "/oauth/login/callback", params={"code": "x", "state": "y" * 43}
        )
        assert 400 == forged.status_code
        repeated = await gw.http.get(back + "&state=second")
        assert 400 == repeated.status_code
    reasons = [getattr(r, "reason", None) for r in signin_log(caplog)]
    assert [
        "unknown_state",
        "replayed_state",
        "unknown_state",
        "unknown_state",
        "bad_parameters",
    ] == reasons


async def test_a_callback_carried_to_another_browser(bank_op: BankOP) -> None:
    """The pending sign-in is bound to the browser that started it (RFC 6749 §10.12)."""
    async with gateway(bank_op) as gw:
        back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
        other = httpx.AsyncClient(mounts={gw.issuer: gw.transport})  # no cookies
        async with other:
            page = await other.get(back)
        assert 400 == page.status_code
        assert not any(c.name == SESSION_COOKIE for c in other.cookies.jar)


async def test_cancel_at_the_op_tells_the_app_access_denied(bank_op: BankOP) -> None:
    async with gateway(bank_op) as gw:
        login = await gw.follow(await gw.authorize())
        cancel = parse(login.text).links["cancel"]
        aborted = await gw.http.get(urljoin(str(login.url), cancel))
        back = await gw.to_callback(aborted)
        assert "error=access_denied" in back
        answer = await gw.http.get(back)
        assert 303 == answer.status_code
        params = app_params(answer)
        assert {"error": "access_denied", "state": gw.state, "iss": gw.issuer} == params
        assert not signed_in(gw)


async def test_login_required_from_the_op_tells_the_app_access_denied(bank_op: BankOP) -> None:
    """What the OP answers to prompt=none without a session (OIDC Core §3.1.2.6)."""
    async with gateway(bank_op) as gw:
        at_op = await gw.authorize()
        state = parse_qs(urlsplit(at_op.headers["location"]).query)["state"][0]
        answer = await gw.http.get(
            gw.issuer + "/oauth/login/callback",
            params={"error": "login_required", "state": state, "iss": bank_op.issuer},
        )
        assert 303 == answer.status_code
        assert {"error": "access_denied", "state": gw.state, "iss": gw.issuer} == app_params(answer)


async def test_a_callback_without_the_ops_iss_or_with_another(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture
) -> None:
    """node-oidc-provider announces RFC 9207 ``iss`` in authorization responses: a callback
    without it, or naming another issuer, is a mix-up and signs no one in."""
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op) as gw:
        for change in ("drop", "other"):
            gw.http.cookies.clear()
            back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
            parts = urlsplit(back)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if change == "drop":
                del query["iss"]
            else:
                query["iss"] = "https://op.attacker.example"
            page = await gw.http.get(gw.issuer + parts.path, params=query)
            assert (400, False) == (page.status_code, signed_in(gw))
    assert ["callback_iss", "callback_iss"] == [
        getattr(r, "reason", None) for r in signin_log(caplog)
    ]


async def test_temporarily_unavailable_from_the_op_is_a_503(bank_op: BankOP) -> None:
    async with gateway(bank_op) as gw:
        at_op = await gw.authorize()
        state = parse_qs(urlsplit(at_op.headers["location"]).query)["state"][0]
        page = await gw.http.get(
            gw.issuer + "/oauth/login/callback",
            params={"error": "temporarily_unavailable", "state": state, "iss": bank_op.issuer},
        )
        assert 503 == page.status_code
        assert "error=temporarily_unavailable" in parse(page.text).links["return-to-app"]


async def test_an_op_error_in_the_portal_goes_back_to_its_sign_in_page(bank_op: BankOP) -> None:
    async with gateway(bank_op) as gw:
        at_op = await gw.http.get(gw.issuer + "/consumer/signin")
        state = parse_qs(urlsplit(at_op.headers["location"]).query)["state"][0]
        page = await gw.http.get(
            gw.issuer + "/oauth/login/callback",
            params={"error": "access_denied", "state": state, "iss": bank_op.issuer},
        )
        assert (303, "/consumer") == (page.status_code, page.headers["location"])
        assert not signed_in(gw)


async def test_an_unreachable_op_is_a_503_and_the_app_hears_temporarily_unavailable(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(
        bank_op, op_timeout=1.0, login_oidc_issuer=f"http://127.0.0.1:{free_port()}"
    ) as gw:
        page = await gw.authorize()
        assert 503 == page.status_code
        assert "Sign-in at Sandbox Bank is unavailable right now." in page.text
        link = parse(page.text).links["return-to-app"].replace("&amp;", "&")
        assert link.startswith(gw.recipient.redirect_uri)
        params = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        assert {"error": "temporarily_unavailable", "state": gw.state, "iss": gw.issuer} == params
    assert ["signin.provider_unavailable"] == [r.getMessage() for r in signin_log(caplog)]


async def test_a_slow_op_is_a_503_within_the_timeout(bank_op: BankOP) -> None:
    async with gateway(bank_op, op_timeout=0.5) as gw:
        bank_op.fault("slow", delay_ms=3000)
        back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
        page = await gw.http.get(back)
        assert 503 == page.status_code
        link = parse(page.text).links["return-to-app"]
        assert "error=temporarily_unavailable" in link
        assert not signed_in(gw)


async def test_max_age_and_acr_values_are_forwarded_and_enforced(bank_op: BankOP) -> None:
    async with gateway(bank_op) as gw:
        at_op = await gw.authorize(max_age="600", acr_values="urn:bank:loa:2")
        asked = parse_qs(urlsplit(at_op.headers["location"]).query)
        assert (["600"], ["urn:bank:loa:2"]) == (asked["max_age"], asked["acr_values"])
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        consent = await gw.follow(await gw.http.get(back))
        tokens = await gw.token((await gw.approve(consent))["code"])
    assert "urn:bank:loa:2" == gateway_id_token(gw, tokens["id_token"])["acr"]


async def test_an_acr_other_than_the_one_asked_for_is_refused(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture
) -> None:
    """The app is told access_denied (with state and iss), never left waiting."""
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op, login_oidc_acr_values="urn:bank:loa:1") as gw:
        at_op = await gw.authorize()
        assert ["urn:bank:loa:1"] == parse_qs(urlsplit(at_op.headers["location"]).query)[
            "acr_values"
        ]
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))  # the OP says loa:2
        answer = await gw.http.get(back)
        assert (303, False) == (answer.status_code, signed_in(gw))
        params = app_params(answer)
        assert (params["error"], params["state"], params["iss"]) == (
            "access_denied",
            gw.state,
            gw.issuer,
        )
    assert ["claim_acr"] == [getattr(r, "reason", None) for r in signin_log(caplog)]


async def test_an_app_cannot_lower_the_banks_acr(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture
) -> None:
    """The bank requires loa:2; an app asking loa:1 still has loa:2 sent and required, so an
    OP answering loa:1 signs no one in."""
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op, login_oidc_acr_values="urn:bank:loa:2") as gw:
        bank_op.fault(None, acr="urn:bank:loa:1")
        at_op = await gw.authorize(acr_values="urn:bank:loa:1")
        asked = parse_qs(urlsplit(at_op.headers["location"]).query)["acr_values"]
        assert ["urn:bank:loa:2"] == asked
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        answer = await gw.http.get(back)
        assert (303, "access_denied") == (answer.status_code, app_params(answer)["error"])
        assert not signed_in(gw)
    assert ["claim_acr"] == [getattr(r, "reason", None) for r in signin_log(caplog)]


async def test_a_stronger_sign_in_than_the_app_asked_is_accepted(bank_op: BankOP) -> None:
    """The bank accepts loa:1 and loa:2, the app asks loa:1 first; the OP answers loa:2, one
    of the bank's levels: the consumer goes on to consent and the app's ID token says loa:2."""
    async with gateway(bank_op, login_oidc_acr_values="urn:bank:loa:2 urn:bank:loa:1") as gw:
        at_op = await gw.authorize(acr_values="urn:bank:loa:1")
        asked = parse_qs(urlsplit(at_op.headers["location"]).query)["acr_values"]
        assert ["urn:bank:loa:1 urn:bank:loa:2"] == asked
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        consent = await gw.follow(await gw.http.get(back))
        tokens = await gw.token((await gw.approve(consent))["code"])
    assert "urn:bank:loa:2" == gateway_id_token(gw, tokens["id_token"])["acr"]


async def test_a_session_below_the_banks_acr_is_not_reused(bank_op: BankOP) -> None:
    """A session signed in at loa:1 (the app asked loa:1, the bank configured nothing then)
    is not reused by a gateway whose bank now requires loa:2."""
    async with gateway(bank_op) as gw:
        bank_op.fault(None, acr="urn:bank:loa:1")
        back = await gw.to_callback(
            await gw.sign_in_at_bank(await gw.authorize(acr_values="urn:bank:loa:1"))
        )
        assert 200 == (await gw.follow(await gw.http.get(back))).status_code
        assert signed_in(gw)
        object.__setattr__(gw.settings, "login_oidc_acr_values", "urn:bank:loa:2")
        again = await gw.authorize(acr_values="urn:bank:loa:1")
        assert again.headers["location"].startswith(bank_op.issuer), again.headers


async def test_a_wrong_password_at_the_op_stays_at_the_op(bank_op: BankOP) -> None:
    async with gateway(bank_op) as gw:
        posted = await gw.sign_in_at_bank(await gw.authorize(), password=OP_PASSWORD + "x")
        assert 401 == posted.status_code
        assert not signed_in(gw)


@pytest.mark.parametrize(
    "acr_values",
    ['urn:bank:"loa"', "urn:bank:loa:1\turn:bank:loa:2", "é", "x" * 129, " ".join("abcdefghi")],
)
async def test_a_malformed_acr_values_is_refused_at_par(bank_op: BankOP, acr_values: str) -> None:
    async with gateway(bank_op) as gw:
        answer = await gw.par(acr_values=acr_values)
    assert (400, "invalid_request") == (answer.status_code, answer.json()["error"])


async def test_metadata_publishes_the_banks_acr_values(bank_op: BankOP) -> None:
    async with gateway(bank_op, login_oidc_acr_values="urn:bank:loa:2 urn:bank:loa:3") as gw:
        doc = (await gw.http.get(gw.issuer + "/.well-known/openid-configuration")).json()
    assert ["urn:bank:loa:2", "urn:bank:loa:3"] == doc["acr_values_supported"]


@asynccontextmanager
async def misbehaving_op(
    body: Callable[[asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """An "OP" on 127.0.0.1 that reads a request and answers 200 with ``body``; its URL."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            await body(writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


async def test_an_op_dripping_its_answer_is_a_503_within_the_timeout(bank_op: BankOP) -> None:
    """One byte every 0.2 s never trips a per-read timeout of 1 s; the call's deadline does."""

    async def drip(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Content-Length: 100000\r\n\r\n")
        for _ in range(100000):
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.2)

    async with misbehaving_op(drip) as url:
        async with gateway(bank_op, op_timeout=1.0, login_oidc_issuer=url) as gw:
            with anyio.fail_after(20):  # without the deadline: never answers
                page = await gw.authorize()
    assert 503 == page.status_code
    assert "error=temporarily_unavailable" in parse(page.text).links["return-to-app"]


async def test_an_op_answer_past_the_size_limit_is_not_read_to_its_end(bank_op: BankOP) -> None:
    """An endless answer is dropped once it passes 512 KB: sign-in is unavailable."""
    sent = [0]

    async def endless(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        writer.write(b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            writer.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            await writer.drain()
            sent[0] += len(chunk)

    async with misbehaving_op(endless) as url:
        async with gateway(bank_op, op_timeout=30.0, login_oidc_issuer=url) as gw:
            with anyio.fail_after(20):  # without the limit while streaming: never answers
                page = await gw.authorize()
    assert 503 == page.status_code
    assert sent[0] < 4 * 1024 * 1024


async def test_a_signin_log_line_refers_to_the_interaction_without_revealing_it(
    bank_op: BankOP, caplog: pytest.LogCaptureFixture
) -> None:
    """The logged line, redacted and formatted as ``fdxgw serve`` writes it, carries
    ``interaction_ref`` (SHA-256 of the interaction id, 12 hex digits), not a masked id."""
    caplog.set_level(logging.WARNING, logger="authz.signin")
    async with gateway(bank_op) as gw:
        at_op = await gw.authorize()
        state = parse_qs(urlsplit(at_op.headers["location"]).query)["state"][0]
        pending = await gw.services.state.get(Kind.SIGN_IN, state)
        assert pending is not None
        interaction_id = str(pending["purpose"])
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        other = httpx.AsyncClient(mounts={gw.issuer: gw.transport})
        async with other:
            assert 400 == (await other.get(back)).status_code  # other_browser
    [record] = signin_log(caplog)
    assert Redactor().filter(record)
    line = json.loads(JsonFormatter().format(record))
    expected = hashlib.sha256(interaction_id.encode()).hexdigest()[:12]
    assert ("other_browser", expected) == (line["reason"], line["interaction_ref"])
    assert "[redacted]" not in json.dumps(line)
    assert interaction_id not in json.dumps(line)


@pytest.mark.parametrize("prompt", ["login none", "relogin", "none\tlogin"])
async def test_a_malformed_prompt_is_refused_at_par(bank_op: BankOP, prompt: str) -> None:
    async with gateway(bank_op) as gw:
        answer = await gw.par(prompt=prompt)
    assert (400, "invalid_request") == (answer.status_code, answer.json()["error"])


async def test_prompt_login_signs_in_at_the_op_again(bank_op: BankOP) -> None:
    """A session at the gateway (and one at the OP) exist; prompt=login sends the consumer to
    the OP with prompt=login, whose login form shows again, and the new sign-in counts."""
    async with gateway(bank_op) as gw:
        back = await gw.to_callback(await gw.sign_in_at_bank(await gw.authorize()))
        assert 200 == (await gw.follow(await gw.http.get(back))).status_code
        at_op = await gw.authorize(prompt="login")
        assert at_op.headers["location"].startswith(bank_op.issuer)
        assert ["login"] == parse_qs(urlsplit(at_op.headers["location"]).query)["prompt"]
        back = await gw.to_callback(await gw.sign_in_at_bank(at_op))
        consent = await gw.follow(await gw.http.get(back))
        tokens = await gw.token((await gw.approve(consent))["code"])
    claims = gateway_id_token(gw, tokens["id_token"])
    assert isinstance(claims["auth_time"], int | float)

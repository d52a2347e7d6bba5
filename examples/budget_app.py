"""A small fintech client that runs the whole consent-to-data flow against a running gateway.

It plays the demo recipient from ``config/demo/`` and a consumer who signs in and approves:
PAR (with FDX ``authorization_details``, PKCE S256 and ``private_key_jwt``) → sign-in and consent
form → code (checking ``state`` and ``iss``, RFC 9207) → tokens → FDX calls → refresh → revoke →
one more FDX call, which the gateway must refuse.

Every token is DPoP-bound (RFC 9449), as the gateway's default FAPI 2.0 profile demands: the app
makes a fresh ES256 key per run, signs a proof for each PAR, token and FDX request with it, and
retries once with the server's nonce when the gateway asks for one (``use_dpop_nonce``).

    python examples/budget_app.py --issuer http://127.0.0.1:8000 --user alice

The flow lives in ``run_flow`` and takes any ``httpx.AsyncClient``, so the test suite drives the
same code in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from authlib.oauth2.rfc7523 import private_key_jwt_sign
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws
from joserfc.jwk import ECKey

DEMO = Path(__file__).resolve().parent.parent / "config" / "demo"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class FlowError(Exception):
    """The gateway answered something a conformant client must not accept."""


@dataclass(frozen=True)
class Recipient:
    client_id: str
    redirect_uri: str
    private_jwk: dict[str, Any]

    @classmethod
    def demo(cls) -> Recipient:
        record = json.loads((DEMO / "recipient.json").read_text(encoding="utf-8"))
        keys = json.loads((DEMO / "recipient-private-jwks.json").read_text(encoding="utf-8"))
        return cls(record["client_id"], record["redirect_uris"][0], keys["keys"][0])

    def assertion(self, issuer: str) -> dict[str, str]:
        """RFC 7523 §2.2 client authentication; ``aud`` is the issuer (FAPI 2.0 §5.3.2.1)."""
        token = private_key_jwt_sign(
            self.private_jwk, self.client_id, issuer, alg="ES256", expires_in=60
        )
        return {
            "client_id": self.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": token if isinstance(token, str) else token.decode(),
        }


class DpopClient:
    """The app's side of DPoP (RFC 9449): one key pair for the whole run, one proof per request,
    and the server nonce kept from the last response that gave one (§8, §9)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.key = ECKey.generate_key("P-256", private=True)
        self.nonce: str | None = None

    def proof(self, method: str, url: str, access_token: str | None = None) -> str:
        """§4.2: ``htu`` is the URL without query and fragment; ``ath`` hashes the token."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url.split("?", 1)[0].split("#", 1)[0],
            "iat": int(time.time()),
        }
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode("ascii")).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if self.nonce is not None:
            claims["nonce"] = self.nonce
        header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": self.key.as_dict(private=False)}
        return jws.serialize_compact(
            header, json.dumps(claims).encode(), self.key, algorithms=["ES256"]
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        access_token: str | None = None,
        form: Callable[[], Mapping[str, Any]] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request with a fresh proof; repeated once if the server wants a (new) nonce.
        ``form`` is built per attempt, so each carries a fresh client assertion."""
        response = await self._send(method, url, access_token, form, params)
        if _wants_nonce(response):
            response = await self._send(method, url, access_token, form, params)
        return response

    async def _send(
        self,
        method: str,
        url: str,
        access_token: str | None,
        form: Callable[[], Mapping[str, Any]] | None,
        params: Mapping[str, str] | None,
    ) -> httpx.Response:
        headers = {"DPoP": self.proof(method, url, access_token)}
        if access_token is not None:
            headers["Authorization"] = f"DPoP {access_token}"
        response = await self.http.request(
            method, url, headers=headers, params=params, data=form() if form else None
        )
        self.nonce = response.headers.get("dpop-nonce", self.nonce)
        return response


def _wants_nonce(response: httpx.Response) -> bool:
    """§8 (authorization server: 400 ``use_dpop_nonce``) or §9 (resource server: 401 with a
    ``DPoP error="use_dpop_nonce"`` challenge)."""
    if response.status_code == 401:
        return 'error="use_dpop_nonce"' in response.headers.get("www-authenticate", "")
    if response.status_code == 400 and "dpop-nonce" in response.headers:
        return bool(response.json().get("error") == "use_dpop_nonce")
    return False


@dataclass
class FlowResult:
    consent_id: str = ""
    granted_scope: str = ""
    token_type: str = ""
    accounts: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    refreshed: bool = False
    status_after_revoke: int = 0


class _Forms(HTMLParser):
    """Collects the page's forms: action and named inputs (stdlib HTML parser)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "inputs": []})
        elif tag in ("input", "button") and self.forms and a.get("name"):
            self.forms[-1]["inputs"].append(a)


def _forms(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def _fill(form: dict[str, Any], **values: str) -> dict[str, list[str]]:
    """Hidden fields as given by the page, every checkbox ticked, then ``values``."""
    fields: dict[str, list[str]] = {}
    for i in form["inputs"]:
        kind = i.get("type", "text")
        if kind == "hidden" or (kind == "checkbox" and "disabled" not in i):
            fields.setdefault(i["name"], []).append(i.get("value", "on"))
    for name, value in values.items():
        fields[name] = [value]
    return fields


async def run_flow(
    http: httpx.AsyncClient,
    issuer: str,
    recipient: Recipient,
    username: str,
    password: str,
    *,
    say: Callable[[str], None] = print,
) -> FlowResult:
    result = FlowResult()
    dpop = DpopClient(http)
    meta, t = await obtain_tokens(http, issuer, recipient, username, password, dpop, say=say)
    result.consent_id, result.granted_scope = t["grant_id"], t["scope"]
    result.token_type = t["token_type"]
    return await _use_tokens(http, issuer, recipient, dpop, meta, t, result, say)


async def obtain_tokens(
    http: httpx.AsyncClient,
    issuer: str,
    recipient: Recipient,
    username: str,
    password: str,
    dpop: DpopClient,
    *,
    say: Callable[[str], None] = print,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Discovery → PAR → the consumer's sign-in and consent → token, with ``dpop``'s key:
    the authorization server's metadata and the token response."""
    meta: dict[str, Any] = (
        await http.get(f"{issuer}/.well-known/oauth-authorization-server")
    ).json()
    if meta.get("issuer") != issuer:  # RFC 8414 §3.3
        raise FlowError("metadata issuer differs from the URL it was fetched from")
    say(f"discovered {meta['issuer']}")

    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    details = [
        {
            "type": "fdx_v1.0",
            "consentRequest": {
                "durationType": "TIME_BOUND",
                "durationPeriod": 90,
                "lookbackPeriod": 365,
                "resources": [
                    {
                        "resourceType": "ACCOUNT",
                        "dataClusters": ["ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS"],
                        "optionalDataClusters": ["CUSTOMER_CONTACT"],
                    }
                ],
                "purpose": "Shows your spending by category and helps you set monthly budgets.",
            },
        }
    ]
    # A proof at PAR binds the authorization code to this app's key (RFC 9449 §10).
    par = await dpop.request(
        "POST",
        meta["pushed_authorization_request_endpoint"],
        form=lambda: {
            "response_type": "code",
            "redirect_uri": recipient.redirect_uri,
            "scope": "offline_access",
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
            "code_challenge_method": "S256",
            "authorization_details": json.dumps(details),
            **recipient.assertion(issuer),
        },
    )
    _expect(par, 201, "PAR")
    request_uri = par.json()["request_uri"]
    say(f"pushed the consent request ({request_uri[:40]}…)")

    # The consumer's browser: authorize → sign in → consent → redirect back with the code.
    page = await http.get(
        meta["authorization_endpoint"],
        params={"client_id": recipient.client_id, "request_uri": request_uri},
        follow_redirects=True,
    )
    _expect(page, 200, "authorize")
    login = _forms(page.text)[0]
    page = await http.post(
        urljoin(str(page.url), login["action"]),
        data=_fill(login, username=username, password=password),
        follow_redirects=True,
    )
    _expect(page, 200, "sign-in")
    consent = next(
        f for f in _forms(page.text) if any(i.get("value") == "approve" for i in f["inputs"])
    )
    answer = await http.post(
        urljoin(str(page.url), consent["action"]), data=_fill(consent, decision="approve")
    )
    _expect(answer, 303, "consent")
    back = urlsplit(answer.headers["location"])
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    if query.get("state") != state or query.get("iss") != issuer:  # RFC 9207 §2.4
        raise FlowError("authorization response state or iss does not match")
    say("consumer signed in and approved; code received")

    tokens = await dpop.request(
        "POST",
        meta["token_endpoint"],
        form=lambda: {
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": recipient.redirect_uri,
            "code_verifier": verifier,
            **recipient.assertion(issuer),
        },
    )
    _expect(tokens, 200, "token")
    t: dict[str, Any] = tokens.json()
    say(f"{t['token_type']} tokens issued for consent {t['grant_id']} with scope {t['scope']!r}")
    return meta, t


async def _use_tokens(
    http: httpx.AsyncClient,
    issuer: str,
    recipient: Recipient,
    dpop: DpopClient,
    meta: dict[str, Any],
    t: dict[str, Any],
    result: FlowResult,
    say: Callable[[str], None],
) -> FlowResult:
    """FDX calls, refresh, revocation, and the call after it, as one app would make them."""
    api = f"{issuer}/fdx/v6"
    accounts = await dpop.request("GET", f"{api}/accounts", access_token=t["access_token"])
    _expect(accounts, 200, "accounts")
    result.accounts = accounts.json()["accounts"]
    for a in result.accounts:
        say(f"  account {a['accountId']}: {a.get('productName')} {a.get('accountNumberDisplay')}")
    first = result.accounts[0]["accountId"]
    today = datetime.now(UTC).date()
    txs = await dpop.request(
        "GET",
        f"{api}/accounts/{first}/transactions",
        access_token=t["access_token"],
        params={"startTime": str(today - timedelta(days=30)), "endTime": str(today), "limit": "20"},
    )
    _expect(txs, 200, "transactions")
    result.transactions = txs.json()["transactions"]
    say(f"  {len(result.transactions)} transactions in the last 30 days (first page)")

    refreshed = await dpop.request(
        "POST",
        meta["token_endpoint"],
        form=lambda: {
            "grant_type": "refresh_token",
            "refresh_token": t["refresh_token"],
            **recipient.assertion(issuer),
        },
    )
    _expect(refreshed, 200, "refresh")
    r = refreshed.json()
    result.refreshed = r["refresh_token"] != t["refresh_token"]
    say("refresh token rotated" if result.refreshed else "refresh token NOT rotated")

    revoked = await http.post(
        meta["revocation_endpoint"],
        data={
            "token": r["refresh_token"],
            "token_type_hint": "refresh_token",
            **recipient.assertion(issuer),
        },
    )
    _expect(revoked, 200, "revocation")
    after = await dpop.request("GET", f"{api}/accounts", access_token=r["access_token"])
    result.status_after_revoke = after.status_code
    say(f"revoked; the next FDX call answers {after.status_code} {after.json().get('code')}")
    return result


def _expect(response: httpx.Response, status: int, step: str) -> None:
    if response.status_code != status:
        raise FlowError(
            f"{step}: expected {status}, got {response.status_code}: {response.text[:300]}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuer", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="alice")
    parser.add_argument("--password", default="sandbox-alice")
    args = parser.parse_args(argv)

    async def go() -> FlowResult:
        async with httpx.AsyncClient(timeout=30) as http:
            return await run_flow(http, args.issuer, Recipient.demo(), args.user, args.password)

    try:
        result = asyncio.run(go())
    except (FlowError, httpx.HTTPError) as exc:
        print(f"flow failed: {exc}", file=sys.stderr)
        return 1
    ok = result.refreshed and result.status_after_revoke == 401
    print("flow complete" if ok else "flow finished with unexpected results")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

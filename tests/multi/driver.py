"""A recipient app and its consumer, step by step, each step sent to the instance a test names.

``examples/budget_app.run_flow`` runs the whole flow against one URL; the multi-instance and fault
tests need every step on its own: the PAR on one instance, the consent on another, the token on a
third. Protocol values stay the issuer's (the client assertion's ``aud``, the DPoP proof's
``htu``), as behind a load balancer; only the address a request is sent to changes (``via``).

``offset`` shifts the app's clock (its assertions' and proofs' times) for a test whose gateway
instance runs ahead (tests/multi/serve.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.jwk import ECKey, JWKRegistry

from examples.budget_app import ASSERTION_TYPE, Recipient, _fill, _forms

DETAILS: dict[str, Any] = {
    "type": "fdx_v1.0",
    "consentRequest": {
        "durationType": "TIME_BOUND",
        "durationPeriod": 90,
        "lookbackPeriod": 365,
        "resources": [
            {
                "resourceType": "ACCOUNT",
                "dataClusters": ["ACCOUNT_BASIC", "ACCOUNT_DETAILED", "TRANSACTIONS"],
            }
        ],
        "purpose": "Shows your spending by category.",
    },
}


class StepFailed(AssertionError):
    """A step got an answer the flow cannot go on from."""

    def __init__(self, message: str, *, step: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.step, self.status = step, status


@dataclass(frozen=True)
class Pushed:
    request_uri: str
    verifier: str
    state: str


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str | None
    consent_id: str
    scope: str


class Driver:
    def __init__(
        self,
        http: httpx.AsyncClient,
        issuer: str,
        *,
        recipient: Recipient | None = None,
        user: str = "alice",
        password: str = "sandbox-alice",  # noqa: S107 (the published demo login)
    ) -> None:
        self.http = http
        self.issuer = issuer
        self.recipient = recipient or Recipient.demo()
        self.user, self.password = user, password
        self.key = ECKey.generate_key("P-256", private=True)
        self.nonce: str | None = None
        self.offset = 0.0  # seconds the app's clock runs ahead of the real one
        self.nonce_retries = 0  # requests repeated because the server wanted a (new) nonce
        self._signing_key = JWKRegistry.import_key(self.recipient.private_jwk)

    # ------------------------------------------------------------------ plumbing

    def now(self) -> float:
        return time.time() + self.offset

    def assertion(self) -> dict[str, str]:
        """RFC 7523 client authentication, ``aud`` the issuer, timed by this app's clock."""
        now = int(self.now())
        claims = {
            "iss": self.recipient.client_id,
            "sub": self.recipient.client_id,
            "aud": self.issuer,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + 60,
        }
        token = jwt.encode(
            {"alg": "ES256", "kid": self.recipient.private_jwk.get("kid")},
            claims,
            self._signing_key,
            algorithms=["ES256"],
        )
        return {
            "client_id": self.recipient.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": token,
        }

    def proof(self, method: str, path: str, access_token: str | None = None) -> str:
        """RFC 9449 §4.2: ``htu`` is the issuer's URL of the path, whichever instance answers."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": self.issuer + path,
            "iat": int(self.now()),
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

    async def call(
        self,
        method: str,
        path: str,
        *,
        via: str | None = None,
        token: str | None = None,
        form: Mapping[str, str] | None = None,
        authenticate: bool = False,
        params: Mapping[str, str] | None = None,
        limit: float = 30,
    ) -> httpx.Response:
        """One DPoP request to ``via`` (default: the issuer's address), retried once with a
        server nonce if asked (RFC 9449 §8, §9)."""
        for _ in range(2):
            headers = {"DPoP": self.proof(method, path, token)}
            if token is not None:
                headers["Authorization"] = f"DPoP {token}"
            data = dict(form or {})
            if authenticate:
                data.update(self.assertion())
            response = await self.http.request(
                method,
                (via or self.issuer) + path,
                headers=headers,
                params=params,
                data=data or None,
                timeout=limit,
            )
            self.nonce = response.headers.get("dpop-nonce", self.nonce)
            if not _wants_nonce(response):
                return response
            self.nonce_retries += 1
        return response

    # ------------------------------------------------------------------ the flow

    async def par(self, *, via: str | None = None, details: Mapping[str, Any] = DETAILS) -> Pushed:
        verifier, state = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        form = {
            "response_type": "code",
            "redirect_uri": self.recipient.redirect_uri,
            "scope": "offline_access",
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),  # type: ignore[no-untyped-call]
            "code_challenge_method": "S256",
            "authorization_details": json.dumps([details]),
        }
        answer = await self.call("POST", "/oauth/par", via=via, form=form, authenticate=True)
        expect(answer, 201, "PAR")
        return Pushed(answer.json()["request_uri"], verifier, state)

    async def consent_screen(self, pushed: Pushed, *, via: str | None = None) -> httpx.Response:
        """The consumer's browser: authorize, then sign in; the consent screen it lands on."""
        base = via or self.issuer
        page = await self.http.get(
            base + "/oauth/authorize",
            params={"client_id": self.recipient.client_id, "request_uri": pushed.request_uri},
        )
        page = await self._follow(page, base, "authorize")
        if _approve_form(page) is not None:
            return page  # still signed in at the bank from an earlier flow
        login = _forms(page.text)[0]
        page = await self.http.post(
            base + login["action"], data=_fill(login, username=self.user, password=self.password)
        )
        return await self._follow(page, base, "sign-in")

    async def approve(
        self, screen: httpx.Response, pushed: Pushed, *, via: str | None = None
    ) -> httpx.Response:
        """Tick every account and approve; the raw answer (303 to the app, or an error page)."""
        form = _approve_form(screen)
        if form is None:
            raise StepFailed(
                "no consent form on the page", step="consent", status=screen.status_code
            )
        return await self.http.post(
            (via or self.issuer) + form["action"], data=_fill(form, decision="approve")
        )

    def code_from(self, answer: httpx.Response, pushed: Pushed) -> str:
        expect(answer, 303, "consent")
        query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
        if query.get("state") != pushed.state or query.get("iss") != self.issuer:
            raise StepFailed("authorization response state or iss does not match")
        return query["code"]

    async def authorize(self, pushed: Pushed, *, via: str | None = None) -> str:
        """Authorize, sign in and approve on ``via``; the authorization code."""
        screen = await self.consent_screen(pushed, via=via)
        return self.code_from(await self.approve(screen, pushed, via=via), pushed)

    async def token(self, code: str, pushed: Pushed, *, via: str | None = None) -> Tokens:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.recipient.redirect_uri,
            "code_verifier": pushed.verifier,
        }
        answer = await self.call("POST", "/oauth/token", via=via, form=form, authenticate=True)
        expect(answer, 200, "token")
        return _tokens(answer.json())

    async def refresh(self, tokens: Tokens, *, via: str | None = None) -> httpx.Response:
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh or ""}
        return await self.call("POST", "/oauth/token", via=via, form=form, authenticate=True)

    async def refreshed(self, tokens: Tokens, *, via: str | None = None) -> Tokens:
        answer = await self.refresh(tokens, via=via)
        expect(answer, 200, "refresh")
        return _tokens(answer.json())

    async def revoke(self, tokens: Tokens, *, via: str | None = None) -> httpx.Response:
        """RFC 7009 revocation of the refresh token: the consent ends."""
        form = {"token": tokens.refresh or "", "token_type_hint": "refresh_token"}
        return await self.http.post(
            (via or self.issuer) + "/oauth/revoke", data={**form, **self.assertion()}
        )

    async def fdx(
        self,
        tokens: Tokens,
        path: str = "/accounts",
        *,
        via: str | None = None,
        params: Mapping[str, str] | None = None,
        limit: float = 30,
    ) -> httpx.Response:
        """``limit``: seconds this client waits for the answer (httpx's timeout)."""
        return await self.call(
            "GET", "/fdx/v6" + path, via=via, token=tokens.access, params=params, limit=limit
        )

    async def manager(self, *, via: str | None = None) -> str:
        """A client-credentials token for the FDX Consent API."""
        answer = await self.call(
            "POST",
            "/oauth/token",
            via=via,
            form={"grant_type": "client_credentials"},
            authenticate=True,
        )
        expect(answer, 200, "client_credentials")
        return str(answer.json()["access_token"])

    async def revoke_consent(self, consent_id: str, *, via: str | None = None) -> httpx.Response:
        """PUT /fdx/v6/consents/{id}/revocation as the recipient (FDX Consent API)."""
        token = await self.manager(via=via)
        path = f"/fdx/v6/consents/{consent_id}/revocation"
        proof = self.proof("PUT", path, token)
        return await self.http.put(
            (via or self.issuer) + path,
            headers={"DPoP": proof, "Authorization": f"DPoP {token}"},
            json={"reason": "USER_ACTION", "initiator": "DATA_RECIPIENT"},
        )

    async def _follow(self, page: httpx.Response, base: str, step: str) -> httpx.Response:
        """Follow same-site redirects on ``base`` (the screens redirect by path)."""
        for _ in range(5):
            if page.status_code not in (302, 303):
                break
            page = await self.http.get(base + urlsplit(page.headers["location"]).path)
        expect(page, 200, step)
        return page


def _approve_form(page: httpx.Response) -> dict[str, Any] | None:
    forms = _forms(page.text)
    return next((f for f in forms if any(i.get("value") == "approve" for i in f["inputs"])), None)


def _tokens(body: Mapping[str, Any]) -> Tokens:
    return Tokens(body["access_token"], body.get("refresh_token"), body["grant_id"], body["scope"])


def _wants_nonce(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return 'error="use_dpop_nonce"' in response.headers.get("www-authenticate", "")
    if response.status_code == 400 and "dpop-nonce" in response.headers:
        return bool(response.json().get("error") == "use_dpop_nonce")
    return False


def expect(response: httpx.Response, status: int, step: str) -> None:
    if response.status_code != status:
        raise StepFailed(
            f"{step}: expected {status}, got {response.status_code}: {response.text[:300]}",
            step=step,
            status=response.status_code,
        )

"""The bank's OpenID Provider, seen by the gateway as one of its relying parties.

With ``login = "oidc"`` the consumer signs in at the bank's own OP (OIDC Core 1.0 §3.1, the
authorization code flow with PKCE S256, ``state`` and ``nonce``); this module speaks to it:
discovery (OIDC Discovery 1.0 §4), the authorization URL, the code's redemption with
``client_secret_basic`` or ``private_key_jwt`` (OIDC Core §9), and the ID token's validation
(§3.1.3.7): signature from the OP's ``jwks_uri`` with RS256, PS256 or ES256 only (never ``none``,
never HS*, whose key would be the client secret), then ``iss``, ``aud`` (and ``azp``), ``nonce``,
``exp`` / ``iat`` within ``clock_skew``, ``auth_time`` against ``max_age`` and ``acr`` against the
values asked for.

httpx and joserfc rather than authlib's OAuth client: they are already the gateway's HTTP and JOSE
libraries, the calls are async with an injected transport and one timeout, and each ID-token check
is stated here with an explicit algorithm allow-list and an injected clock.

Metadata and keys are cached; an ID token whose ``kid`` is unknown makes one refetch of the key
set (the bank rotated its keys), shared by the checks waiting on it, and is refused if the kid is
still unknown.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlencode

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, RSAKey

from config.settings import Settings, SettingsError

ALGORITHMS = ("RS256", "PS256", "ES256")
TIMEOUT = 5.0  # seconds for any one call to the OP, body included: past it, sign-in is unavailable
METADATA_TTL = 3600.0
MAX_RESPONSE_BYTES = 512 * 1024
MAX_CLAIM_CHARS = 256
CALLBACK_PATH = "/oauth/login/callback"


class ProviderUnavailable(Exception):
    """The OP could not be reached, answered a server error, or took longer than the timeout."""


class SignInRejected(Exception):
    """The OP's answer cannot sign anyone in; ``reason`` is for the audit log, never a page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Metadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    # RFC 9207 §3: the OP puts ``iss`` in every authorization response, which must then be there.
    iss_parameter: bool = False


@dataclass(frozen=True, slots=True)
class Asked:
    """What one sign-in asked the OP for, checked again in its ID token."""

    nonce: str
    verifier: str
    max_age: int | None = None
    acr_values: tuple[str, ...] = ()
    # prompt=login (OIDC Core §3.1.2.1): the OP is asked to sign the consumer in again, and an
    # auth_time before this moment is refused.
    login_after: float | None = None


@dataclass(frozen=True, slots=True)
class BankIdentity:
    """Who the bank's OP says signed in, and how (OIDC Core §2)."""

    customer_id: str
    auth_time: float | None
    acr: str | None
    amr: tuple[str, ...]


class BankProvider:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Callable[[], float],
        http: httpx.AsyncClient | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self._settings = settings
        # Compared exactly (OIDC Core §3.1.3.7 item 2): some OPs' issuers end with "/".
        self._issuer = settings.login_oidc_issuer
        self._clock = clock
        self._http = http or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self._timeout = timeout
        self._metadata: Metadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_version = 0
        self._keys_lock = asyncio.Lock()
        self._private_key = _load_private_key(settings.login_oidc_private_key)

    @property
    def redirect_uri(self) -> str:
        return self._settings.issuer + CALLBACK_PATH

    async def aclose(self) -> None:
        await self._http.aclose()

    async def authorization_url(self, state: str, asked: Asked) -> str:
        """Where the browser goes to sign in: OIDC Core §3.1.2.1 with PKCE S256 (RFC 7636)."""
        metadata = await self.metadata()
        params = {
            "response_type": "code",
            "client_id": self._settings.login_oidc_client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self._settings.login_oidc_scope,
            "state": state,
            "nonce": asked.nonce,
            "code_challenge": _challenge(asked.verifier),
            "code_challenge_method": "S256",
        }
        if asked.max_age is not None:
            params["max_age"] = str(asked.max_age)
        if asked.acr_values:
            params["acr_values"] = " ".join(asked.acr_values)
        if asked.login_after is not None:
            params["prompt"] = "login"
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return metadata.authorization_endpoint + separator + urlencode(params)

    async def metadata(self) -> Metadata:
        now = self._clock()
        if self._metadata is not None and now - self._metadata_at < METADATA_TTL:
            return self._metadata
        # OIDC Discovery §4: the issuer without its trailing "/", then the well-known path.
        url = self._issuer.rstrip("/") + "/.well-known/openid-configuration"
        body = await self._get_json(url)
        try:
            metadata = Metadata(
                issuer=str(body["issuer"]),
                authorization_endpoint=str(body["authorization_endpoint"]),
                token_endpoint=str(body["token_endpoint"]),
                jwks_uri=str(body["jwks_uri"]),
                iss_parameter=body.get("authorization_response_iss_parameter_supported") is True,
            )
        except KeyError:
            raise ProviderUnavailable("incomplete discovery document") from None
        if metadata.issuer != self._issuer:  # OIDC Discovery §4.3: must match exactly
            raise ProviderUnavailable("discovery names another issuer")
        self._metadata, self._metadata_at = metadata, now
        return metadata

    async def redeem(self, code: str, asked: Asked) -> BankIdentity:
        """Exchange the code (OIDC Core §3.1.3) and validate the ID token (§3.1.3.7)."""
        metadata = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": asked.verifier,
        }
        headers = {"Accept": "application/json"}
        client_id = self._settings.login_oidc_client_id
        if self._private_key is not None:
            form["client_id"] = client_id
            form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            form["client_assertion"] = self._assertion(metadata)
        else:
            # RFC 6749 §2.3.1: both halves form-encoded before Basic encoding.
            secret = self._settings.login_oidc_client_secret
            pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        status, content = await self._call("POST", metadata.token_endpoint, form, headers)
        if status >= 500:
            raise ProviderUnavailable(f"token endpoint answered {status}")
        if status != 200:
            raise SignInRejected("code_refused")
        body = _json_object(content)
        raw = body.get("id_token") if body is not None else None
        if not isinstance(raw, str):
            raise SignInRejected("no_id_token")
        return await self.validate(raw, asked)

    async def validate(self, raw: str, asked: Asked) -> BankIdentity:
        claims = await self._verified_claims(raw)
        now = self._clock()
        skew = self._settings.clock_skew
        try:
            jwt.JWTClaimsRegistry(
                now=int(now),
                leeway=skew,
                iss={"essential": True, "value": self._issuer},
                aud={"essential": True, "value": self._settings.login_oidc_client_id},
                nonce={"essential": True, "value": asked.nonce},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
            ).validate(claims)
        except JoseError as exc:
            raise SignInRejected("claim_" + _claim_name(exc)) from None
        if not _azp_ok(claims["aud"], claims.get("azp"), self._client_id):
            raise SignInRejected("claim_azp")
        if not isinstance(claims["iat"], int | float) or claims["iat"] > now + skew:
            raise SignInRejected("claim_iat")
        auth_time = claims.get("auth_time")
        if auth_time is not None and not isinstance(auth_time, int | float):
            raise SignInRejected("claim_auth_time")
        if asked.max_age is not None and (
            auth_time is None or now - auth_time > asked.max_age + skew
        ):
            raise SignInRejected("claim_auth_time")  # §3.1.2.1 max_age, §3.1.3.7 item 11
        if asked.login_after is not None and (
            auth_time is not None and auth_time + skew < asked.login_after
        ):
            raise SignInRejected("claim_auth_time")  # prompt=login, yet an earlier sign-in
        acr = claims.get("acr")
        if asked.acr_values and acr not in asked.acr_values:
            raise SignInRejected("claim_acr")
        amr = claims.get("amr")
        customer = claims.get(self._settings.login_oidc_customer_claim)
        if not isinstance(customer, str) or not 0 < len(customer) <= MAX_CLAIM_CHARS:
            raise SignInRejected("no_customer_claim")
        return BankIdentity(
            customer_id=customer,
            auth_time=float(auth_time) if auth_time is not None else None,
            acr=acr if isinstance(acr, str) else None,
            amr=tuple(a for a in amr if isinstance(a, str)) if isinstance(amr, list) else (),
        )

    @property
    def _client_id(self) -> str:
        return self._settings.login_oidc_client_id

    async def _verified_claims(self, raw: str) -> dict[str, Any]:
        try:
            header = jws.extract_compact(raw.encode("ascii")).headers()
        except (JoseError, UnicodeError, ValueError):
            raise SignInRejected("malformed_id_token") from None
        if header.get("alg") not in ALGORITHMS:
            raise SignInRejected("algorithm")  # none and HS* never (OIDC Core §3.1.3.7 item 7)
        kid = header.get("kid")
        keys = await self._key_set(kid if isinstance(kid, str) else None)
        try:
            token = jwt.decode(raw, keys, algorithms=list(ALGORITHMS))
        except JoseError:
            raise SignInRejected("signature") from None
        return dict(token.claims)

    async def _key_set(self, kid: str | None) -> KeySet:
        """The OP's keys, refetched once when ``kid`` is not among them."""
        version = self._keys_version
        if self._keys is not None and _has(self._keys, kid):
            return self._keys
        async with self._keys_lock:
            if self._keys is None or self._keys_version == version:
                metadata = await self.metadata()
                body = await self._get_json(metadata.jwks_uri)
                try:
                    self._keys = KeySet.import_key_set(cast(Any, _public_keys(body)))
                except (JoseError, ValueError, TypeError, KeyError):
                    raise ProviderUnavailable("unusable jwks") from None
                self._keys_version += 1
        assert self._keys is not None
        if not _has(self._keys, kid):
            raise SignInRejected("unknown_kid")
        return self._keys

    def _assertion(self, metadata: Metadata) -> str:
        """RFC 7523 §3 client assertion for private_key_jwt (OIDC Core §9)."""
        assert self._private_key is not None
        key = self._private_key
        alg = str(key.get("alg") or ("ES256" if isinstance(key, ECKey) else "PS256"))
        now = int(self._clock())
        client_id = self._settings.login_oidc_client_id
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": metadata.token_endpoint,
            "jti": secrets.token_urlsafe(24),
            "iat": now,
            "exp": now + 60,
        }
        header = {"alg": alg, "typ": "JWT"}
        if key.kid:
            header["kid"] = key.kid
        return jwt.encode(header, claims, key, algorithms=[alg])

    async def _get_json(self, url: str) -> Mapping[str, Any]:
        status, content = await self._call("GET", url, None, {"Accept": "application/json"})
        body = _json_object(content) if status == 200 else None
        if body is None:
            raise ProviderUnavailable(f"{url} answered {status}")
        return body

    async def _call(
        self, method: str, url: str, form: Mapping[str, str] | None, headers: Mapping[str, str]
    ) -> tuple[int, bytes | None]:
        """One request to the OP: its status and body, or a body of ``None`` past
        ``MAX_RESPONSE_BYTES``. httpx's timeout bounds each read, so an OP dripping a byte at a
        time would never time out; the whole call, body included, gets one deadline instead,
        and the body is counted as it arrives, never read whole before being measured."""
        try:
            async with asyncio.timeout(self._timeout):
                request = self._http.build_request(method, url, data=form, headers=headers)
                response = await self._http.send(request, stream=True)
                try:
                    return response.status_code, await _read_capped(response)
                finally:
                    await response.aclose()
        except TimeoutError:
            raise ProviderUnavailable("timeout") from None
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(type(exc).__name__) from None


def _load_private_key(path: str) -> RSAKey | ECKey | None:
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        key = KeySet.import_key_set(data).keys[0] if "keys" in data else None
        if key is None:
            key = KeySet.import_key_set({"keys": [data]}).keys[0]
    except (OSError, ValueError, JoseError, IndexError) as exc:
        raise SettingsError(f"login_oidc_private_key: cannot read a private JWK ({exc})") from None
    if not isinstance(key, RSAKey | ECKey) or not key.is_private:
        raise SettingsError("login_oidc_private_key: expected a private RSA or EC JWK")
    return key


def _public_keys(body: Mapping[str, Any]) -> dict[str, Any]:
    """Signature keys only: a key marked for encryption never verifies an ID token."""
    keys = body["keys"]
    if not isinstance(keys, list):
        raise ValueError("keys is not a list")
    usable = [
        k
        for k in keys
        if isinstance(k, dict) and k.get("use", "sig") == "sig" and k.get("kty") in ("RSA", "EC")
    ]
    return {"keys": usable}


def _has(keys: KeySet, kid: str | None) -> bool:
    if kid is None:
        return bool(keys.keys)
    return any(k.kid == kid for k in keys.keys)


async def _read_capped(response: httpx.Response) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _json_object(content: bytes | None) -> Mapping[str, Any] | None:
    if content is None:
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _azp_ok(aud: object, azp: object, client_id: str) -> bool:
    """OIDC Core §3.1.3.7 items 4 and 5, and §2: with several audiences ``azp`` must be there,
    and whenever ``azp`` is there, even beside a single audience, it must name this client."""
    if isinstance(aud, list) and len(aud) > 1 and azp is None:
        return False
    return azp is None or azp == client_id


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _claim_name(exc: JoseError) -> str:
    claim = getattr(exc, "claim", None)
    if isinstance(claim, str) and claim.isidentifier():
        return claim
    return "invalid"


__all__ = (
    "ALGORITHMS",
    "Asked",
    "BankIdentity",
    "BankProvider",
    "Metadata",
    "ProviderUnavailable",
    "SignInRejected",
)

"""DPoP (RFC 9449): proof verification, server nonces and key thumbprints.

One ``DpopVerifier`` per app checks every proof, at the token endpoint, at PAR and on every FDX
call, in the order of RFC 9449 §4.3: a single well-formed JWT of ``typ`` ``dpop+jwt``, signed with
an allowed asymmetric algorithm by the public ``jwk`` in its own header, whose ``htm`` and ``htu``
name this request (the URL built from the configured issuer, never from the Host header), whose
``iat`` is within the window, whose ``ath`` hashes the access token on resource calls, with the
server's nonce when one is required, and whose ``jti`` was never seen before for that key.

The FDX hot path pays for one signature check and one ``add_once``: the proof header (the same on
every proof a client makes) is parsed, its key imported and thumbprinted once, then cached by the
header's base64url text (performance.md: a key import costs 8-13 µs a call).

Nonces (§8, §9) are stateless: an HMAC of the current time bucket under the gateway's secret, so
any instance sharing the secret accepts any other's; the current and the previous bucket are
valid, so a nonce lives between one and two ``lifetime``\\ s.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key
from joserfc.jws import JWSRegistry
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authz.store.base import Kind, StateStore

Clock = Callable[[], float]

PROOF_TYP = "dpop+jwt"  # RFC 9449 §4.2
NONCE_HEADER = "DPoP-Nonce"
INVALID_PROOF = "invalid_dpop_proof"  # RFC 9449 §5, §7.1
USE_NONCE = "use_dpop_nonce"  # RFC 9449 §8, §9
MAX_PROOF_CHARS = 8192
MAX_JTI_CHARS = 256
MIN_RSA_BITS = 2048
# Members that only a private (or symmetric) JWK has (RFC 7517, RFC 7518 §6): a proof carrying
# one discloses the client's key and is refused (RFC 9449 §4.2: "MUST NOT contain a private key").
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
# Each algorithm with the one key type (and curve) it may be used with.
_KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "ES256": ("EC", "P-256"),
    "PS256": ("RSA", None),
    "Ed25519": ("OKP", "Ed25519"),
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


class DpopError(Exception):
    """A proof refused. ``error`` is ``invalid_dpop_proof``, or ``use_dpop_nonce`` with the
    ``nonce`` the client must put in its next proof (RFC 9449 §8)."""

    def __init__(
        self, description: str, *, error: str = INVALID_PROOF, nonce: str | None = None
    ) -> None:
        super().__init__(description)
        self.description = description
        self.error = error
        self.nonce = nonce


@dataclass(frozen=True, slots=True)
class Proof:
    """A verified proof: the RFC 7638 thumbprint of its key, and its ``jti`` and ``iat``."""

    jkt: str
    jti: str
    iat: int


@dataclass(frozen=True, slots=True)
class _ProofKey:
    """What a proof header yields once checked: the algorithm, the imported key, its thumbprint."""

    alg: str
    key: Key
    jkt: str


class Nonces:
    """Stateless server nonces (RFC 9449 §8, §9), valid across instances that share ``secret``."""

    def __init__(self, secret: bytes, *, lifetime: int, clock: Clock) -> None:
        # A key of its own, so a nonce never doubles as any other MAC made with the secret.
        self._key = hmac.new(secret, b"fdxgw dpop nonce", hashlib.sha256).digest()
        self._lifetime = lifetime
        self._clock = clock
        self._cached: tuple[int, str] = (-1, "")

    def current(self) -> str:
        bucket = int(self._clock()) // self._lifetime
        if self._cached[0] != bucket:
            self._cached = (bucket, self._for(bucket))
        return self._cached[1]

    def valid(self, nonce: object) -> bool:
        if not isinstance(nonce, str) or len(nonce) != 43:
            return False
        bucket = int(self._clock()) // self._lifetime
        return any(_same(nonce, self._for(b)) for b in (bucket, bucket - 1))

    def _for(self, bucket: int) -> str:
        mac = hmac.new(self._key, bucket.to_bytes(8, "big", signed=True), hashlib.sha256)
        return _b64encode(mac.digest())


class DpopVerifier:
    """Checks DPoP proofs against one request; built once per app."""

    def __init__(
        self,
        state: StateStore,
        *,
        algorithms: Sequence[str],
        window: int,
        nonces: Nonces | None,
        clock: Clock,
        cache_size: int = 1024,
    ) -> None:
        self.algorithms = tuple(a for a in algorithms if a in _KEY_TYPES)
        self._state = state
        self._window = window
        self.nonces = nonces  # None: no nonce is required
        self._clock = clock
        self._keys: OrderedDict[str, _ProofKey] = OrderedDict()
        self._cache_size = cache_size

    def fresh_nonce(self) -> str | None:
        """The nonce to hand out with a response, when nonces are required."""
        return None if self.nonces is None else self.nonces.current()

    async def verify(
        self,
        values: Sequence[str],
        *,
        method: str,
        url: str,
        access_token: str | None = None,
        jkt: str | None = None,
    ) -> Proof:
        """The proof in ``values`` (every ``DPoP`` header of the request) for a ``method`` request
        to ``url`` (already normalised, see ``normalise_uri``); with ``access_token`` on a resource
        call, whose key must be ``jkt`` when given. Raises ``DpopError``."""
        if len(values) != 1:
            raise DpopError("exactly one DPoP header is required")
        proof = values[0].strip()
        if not proof or len(proof) > MAX_PROOF_CHARS or proof.count(".") != 2:
            raise DpopError("the DPoP proof is not a signed JWT")
        head, body, signature = proof.split(".")
        key = self._key_of(head)
        if jkt is not None and not _same(key.jkt, jkt):
            raise DpopError("the DPoP proof is signed by another key than the token is bound to")
        try:
            valid = JWSRegistry.algorithms[key.alg].verify(
                f"{head}.{body}".encode("ascii"), _b64decode(signature), key.key
            )
        except (ValueError, binascii.Error, JoseError):
            valid = False
        if not valid:
            raise DpopError("the DPoP proof signature is invalid")
        claims = _json_object(body, "the DPoP proof claims are not a JSON object")
        jti, iat = self._check_claims(claims, method, url, access_token)
        if self.nonces is not None and not self.nonces.valid(claims.get("nonce")):
            raise DpopError(
                "a fresh server nonce is required in the DPoP proof",
                error=USE_NONCE,
                nonce=self.nonces.current(),
            )
        # §11.1: a proof is used once. Past the iat window it is refused anyway, so the cache
        # only has to remember it for the window on either side of now.
        ttl = max(1, iat + self._window - int(self._clock())) + 1
        if not await self._state.add_once(Kind.DPOP_JTI, f"{key.jkt}:{jti}", ttl=ttl):
            raise DpopError("the DPoP proof was already used")
        return Proof(key.jkt, jti, iat)

    def _check_claims(
        self, claims: dict[str, Any], method: str, url: str, access_token: str | None
    ) -> tuple[str, int]:
        jti = claims.get("jti")
        if not isinstance(jti, str) or not 0 < len(jti) <= MAX_JTI_CHARS:
            raise DpopError("the DPoP proof needs a jti")
        if claims.get("htm") != method:
            raise DpopError("the DPoP proof htm is not this request's method")
        htu = claims.get("htu")
        if not isinstance(htu, str) or (htu != url and normalise_uri(htu) != url):
            raise DpopError("the DPoP proof htu is not this request's URL")
        iat = claims.get("iat")
        if not isinstance(iat, int | float) or isinstance(iat, bool):
            raise DpopError("the DPoP proof needs a numeric iat")
        if abs(self._clock() - iat) > self._window:
            raise DpopError("the DPoP proof iat is too far from the server's time")
        if access_token is not None:
            ath = claims.get("ath")
            if not isinstance(ath, str) or not _same(ath, token_hash(access_token)):
                raise DpopError("the DPoP proof ath does not match the access token")
        return jti, int(iat)

    def _key_of(self, head: str) -> _ProofKey:
        cached = self._keys.get(head)
        if cached is not None:
            self._keys.move_to_end(head)
            return cached
        key = self._parse_header(head)
        self._keys[head] = key
        if len(self._keys) > self._cache_size:
            self._keys.popitem(last=False)
        return key

    def _parse_header(self, head: str) -> _ProofKey:
        header = _json_object(head, "the DPoP proof header is not a JSON object")
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != PROOF_TYP:
            raise DpopError(f"the DPoP proof typ must be {PROOF_TYP}")
        alg = header.get("alg")
        if alg not in self.algorithms:
            # Never "none", never a MAC: the key must be the client's alone (§4.2).
            raise DpopError(f"the DPoP proof alg must be one of {', '.join(self.algorithms)}")
        if "crit" in header:
            raise DpopError("the DPoP proof header has critical extensions we do not support")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise DpopError("the DPoP proof header needs the public key as jwk")
        if _PRIVATE_MEMBERS & jwk.keys():
            raise DpopError("the DPoP proof jwk must be a public key")
        kty, crv = _KEY_TYPES[alg]
        if jwk.get("kty") != kty or (crv is not None and jwk.get("crv") != crv):
            raise DpopError(f"the DPoP proof jwk is not a key for {alg}")
        if kty == "RSA" and _rsa_bits(jwk) < MIN_RSA_BITS:
            raise DpopError(f"the DPoP proof RSA key is shorter than {MIN_RSA_BITS} bits")
        try:
            key = JWKRegistry.import_key(jwk)
            jkt = key.thumbprint()
        except (JoseError, ValueError, TypeError, KeyError, binascii.Error):
            raise DpopError("the DPoP proof jwk is malformed") from None
        return _ProofKey(alg, key, jkt)


def normalise_uri(uri: str) -> str | None:
    """RFC 9449 §4.3 item 9 with RFC 3986 §6.2.2-6.2.3: scheme and host in lower case, the
    default port dropped, an empty path as "/", percent-encoding decoded (the server compares
    with the decoded path it routes on), and the query and fragment left out: §4.3 compares
    "ignoring any query and fragment parts", so a proof whose ``htu`` carries the request's
    query is accepted. None for anything that is not an absolute http(s) URI without user
    info."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in _DEFAULT_PORTS or not host or parts.username is not None:
        return None
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    path = unquote(parts.path) if "%" in parts.path else parts.path
    return f"{scheme}://{netloc}{path or '/'}"


@lru_cache(maxsize=1024)
def token_hash(access_token: str) -> str:
    """RFC 9449 §4.2 ``ath``: base64url SHA-256 of the access token's ASCII bytes. Cached: a
    client sends the same token with many proofs (the access-token cache holds it anyway)."""
    return _b64encode(hashlib.sha256(access_token.encode("ascii", "replace")).digest())


class NonceHeaderMiddleware:
    """Adds a fresh ``DPoP-Nonce`` to every response that has none (RFC 9449 §9: the resource
    server may supply a new nonce with any response). Mounted only when nonces are required."""

    def __init__(self, app: ASGIApp, *, nonces: Nonces) -> None:
        self.app = app
        self.nonces = nonces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_nonce(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if NONCE_HEADER.lower() not in headers:
                    headers.append(NONCE_HEADER, self.nonces.current())
            await send(message)

        await self.app(scope, receive, send_with_nonce)


def _json_object(segment: str, problem: str) -> dict[str, Any]:
    try:
        value = orjson.loads(_b64decode(segment))
    except (ValueError, binascii.Error):
        raise DpopError(problem) from None
    if not isinstance(value, dict):
        raise DpopError(problem)
    return value


def _rsa_bits(jwk: dict[str, Any]) -> int:
    n = jwk.get("n")
    try:
        return int.from_bytes(_b64decode(n), "big").bit_length() if isinstance(n, str) else 0
    except (ValueError, binascii.Error):
        return 0


def _same(presented: str, expected: str) -> bool:
    """Constant-time equality of a client's text with ours. As bytes: ``hmac.compare_digest``
    refuses str with non-ASCII characters (TypeError), and a proof may carry any."""
    return hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode("utf-8"))


def _b64decode(segment: str) -> bytes:
    if not segment.isascii() or "=" in segment:
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

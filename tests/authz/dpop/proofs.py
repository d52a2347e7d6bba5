"""A test client's DPoP key: well-formed proofs, and every way of spoiling one."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from joserfc.jwk import ECKey, Key, OctKey, RSAKey
from joserfc.jws import JWSRegistry

DROP = object()  # a claim or header member to leave out


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def ath(token: str) -> str:
    return b64(hashlib.sha256(token.encode("ascii")).digest())


class Prover:
    """One DPoP key pair and the proofs it signs (RFC 9449 §4.2)."""

    def __init__(self, key: Key | None = None, alg: str = "ES256") -> None:
        self.key = key or ECKey.generate_key("P-256", private=True)
        self.alg = alg

    @classmethod
    def rsa(cls) -> Prover:
        return cls(RSAKey.generate_key(2048, private=True), "PS256")

    @property
    def jwk(self) -> dict[str, Any]:
        return dict(self.key.as_dict(private=False))

    @property
    def jkt(self) -> str:
        return str(self.key.thumbprint())

    def proof(
        self,
        method: str,
        url: str,
        *,
        now: float,
        token: str | None = None,
        nonce: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        signer: Key | None = None,
    ) -> str:
        """A proof for ``method`` ``url``; ``header``/``claims`` override members (``DROP``
        removes one); ``signer`` signs with another key than the header's ``jwk``."""
        head: dict[str, Any] = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.jwk}
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(12),
            "htm": method,
            "htu": url,
            "iat": int(now),
        }
        if token is not None:
            body["ath"] = ath(token)
        if nonce is not None:
            body["nonce"] = nonce
        head = _merge(head, header)
        body = _merge(body, claims)
        return sign(head, body, signer or self.key)


def sign(header: dict[str, Any], claims: dict[str, Any], key: Key) -> str:
    """A compact JWS signed with the algorithm the header names, whatever it is (``none`` and
    ``HS256`` included, which joserfc's high-level API would rightly refuse)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    alg = header.get("alg")
    if alg == "none":
        return signing_input + "."
    if alg == "HS256":
        key = OctKey.import_key(b"a shared secret the client has no business using")
    signature = JWSRegistry.algorithms[str(alg)].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


def _merge(base: dict[str, Any], changes: dict[str, Any] | None) -> dict[str, Any]:
    out = dict(base)
    for name, value in (changes or {}).items():
        if value is DROP:
            out.pop(name, None)
        else:
            out[name] = value
    return out

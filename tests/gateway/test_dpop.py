"""DPoP at the resource server (RFC 9449 §7, §9): every FDX call proves possession of the key
its token is bound to, and each malformed proof is refused with a DPoP challenge."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from joserfc.jwk import ECKey

from authz.store.base import Kind
from config.settings import Settings
from tests.authz.dpop.proofs import DROP, Prover, ath, b64
from tests.gateway.conftest import Harness, assert_fdx_error

# RFC 9449 §7.1 challenges, listing the default dpop_algorithms
CHALLENGE_INVALID_DPOP_PROOF = 'DPoP error="invalid_dpop_proof", algs="ES256 PS256"'
CHALLENGE_INVALID_TOKEN = 'DPoP error="invalid_token", algs="ES256 PS256"'
CHALLENGE_USE_DPOP_NONCE = 'DPoP error="use_dpop_nonce", algs="ES256 PS256"'

ISSUER = "http://127.0.0.1:8000"
ACCOUNTS = f"{ISSUER}/fdx/v6/accounts"


class World(Harness):
    """The FDX API under the fapi2 profile, with a client's DPoP key."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(settings=Settings(**settings))
        self.prover = Prover()

    def dpop_grant(self) -> str:
        return self.grant(jkt=self.prover.jkt)[1]

    def call(
        self,
        token: str,
        *,
        proof: str | list[str] | None = None,
        scheme: str = "DPoP",
        path: str = "/fdx/v6/accounts",
        method: str = "GET",
    ) -> Any:
        if proof is None:
            proof = self.prover.proof(method, ISSUER + path, now=self.clock(), token=token)
        proofs = [proof] if isinstance(proof, str) else proof
        headers = [("authorization", f"{scheme} {token}"), *(("dpop", p) for p in proofs)]
        return self.client.request(method, path, headers=headers)


@pytest.fixture
def w() -> Iterator[World]:
    world = World()
    with world.client:
        yield world


def test_a_dpop_bound_token_with_a_fresh_proof_reads_data(w: World) -> None:
    """The product path: Authorization: DPoP plus a proof signed by the token's key."""
    token = w.dpop_grant()

    response = w.call(token)

    assert 200 == response.status_code
    assert "dpop-nonce" not in response.headers  # nonces are off by default


@pytest.mark.parametrize("scheme", ["dpop", "DPOP", "DpOp"])
def test_the_dpop_scheme_is_matched_case_insensitively(w: World, scheme: str) -> None:
    """RFC 9110 §11.1: auth-scheme names are case-insensitive."""
    token = w.dpop_grant()

    assert 200 == w.call(token, scheme=scheme).status_code


@pytest.mark.parametrize(
    "htu",
    [
        "HTTP://127.0.0.1:8000/fdx/v6/accounts",
        "http://127.0.0.1:8000/fdx/v6/accounts",
        "http://127.0.0.1:8000/fdx/v6/accounts?limit=5",
        "http://127.0.0.1:8000/fdx/v6/accounts#top",
        "http://127.0.0.1:8000/fdx/v6/accounts?limit=5#top",
    ],
    ids=["scheme-upper-case", "as-is", "with-query", "with-fragment", "with-both"],
)
def test_htu_is_compared_after_normalisation(w: World, htu: str) -> None:
    """RFC 9449 §4.3 item 9: scheme and host case do not matter, and the query and fragment
    are ignored (the path, scheme and authority must still be the request's)."""
    token = w.dpop_grant()
    proof = w.prover.proof("GET", htu, now=w.clock(), token=token)

    assert 200 == w.call(token, proof=proof).status_code


def test_the_default_port_is_dropped_before_comparing_htu() -> None:
    """https://bank.example:443/x and https://BANK.example/x name the same resource."""
    world = World(issuer="https://bank.example")
    with world.client:
        token = world.dpop_grant()
        url = "https://BANK.example:443/fdx/v6/accounts"
        proof = world.prover.proof("GET", url, now=world.clock(), token=token)

        assert 200 == world.call(token, proof=proof).status_code


OTHER_KEY = ECKey.generate_key("P-256", private=True)
P384 = ECKey.generate_key("P-384", private=True)

# (header overrides, claim overrides, signer): each one spoils a valid proof in one way.
MALFORMED: dict[str, tuple[dict[str, Any], dict[str, Any], Any]] = {
    "typ-missing": ({"typ": DROP}, {}, None),
    "typ-jwt": ({"typ": "JWT"}, {}, None),
    "typ-at+jwt": ({"typ": "at+jwt"}, {}, None),
    "alg-none": ({"alg": "none"}, {}, None),
    "alg-hs256": ({"alg": "HS256"}, {}, None),
    "alg-es384-not-allowed": ({"alg": "ES384", "jwk": P384.as_dict(private=False)}, {}, P384),
    "alg-es256-with-p384-key": ({"jwk": P384.as_dict(private=False)}, {}, P384),
    "jwk-missing": ({"jwk": DROP}, {}, None),
    "jwk-private": ({"jwk": "PRIVATE"}, {}, None),
    "crit-header": ({"crit": ["exp"]}, {}, None),
    "signature-by-another-key": ({}, {}, OTHER_KEY),
    "jti-missing": ({}, {"jti": DROP}, None),
    "jti-empty": ({}, {"jti": ""}, None),
    "jti-not-a-string": ({}, {"jti": 12345}, None),
    "htm-missing": ({}, {"htm": DROP}, None),
    "htm-post": ({}, {"htm": "POST"}, None),
    "htm-lower-case": ({}, {"htm": "get"}, None),
    "htu-missing": ({}, {"htu": DROP}, None),
    "htu-other-host": ({}, {"htu": "http://127.0.0.2:8000/fdx/v6/accounts"}, None),
    "htu-host-header": ({}, {"htu": "http://testserver/fdx/v6/accounts"}, None),
    "htu-other-path": ({}, {"htu": f"{ISSUER}/fdx/v6/accounts/acc-chk"}, None),
    "htu-other-port": ({}, {"htu": "http://127.0.0.1:8001/fdx/v6/accounts"}, None),
    "htu-other-scheme": ({}, {"htu": "https://127.0.0.1:8000/fdx/v6/accounts"}, None),
    "htu-other-path-in-query": ({}, {"htu": f"{ISSUER}/fdx/v6/other?/accounts"}, None),
    "iat-missing": ({}, {"iat": DROP}, None),
    "iat-too-old": ({}, {"iat": "OLD"}, None),
    "iat-in-the-future": ({}, {"iat": "FUTURE"}, None),
    "iat-a-string": ({}, {"iat": "1767225600"}, None),
    "iat-a-boolean": ({}, {"iat": True}, None),
    "ath-missing": ({}, {"ath": DROP}, None),
    "ath-of-another-token": ({}, {"ath": ath("another.access.token")}, None),
}


@pytest.mark.parametrize(
    ("name", "header", "claims", "signer"),
    [(name, *spoiled) for name, spoiled in MALFORMED.items()],
    ids=MALFORMED,
)
def test_a_malformed_proof_is_refused(
    w: World,
    name: str,
    header: dict[str, Any],
    claims: dict[str, Any],
    signer: Any,
    fdx_validate: Any,
) -> None:
    """401/603 with WWW-Authenticate: DPoP error="invalid_dpop_proof" (RFC 9449 §7.1)."""
    token = w.dpop_grant()
    if header.get("jwk") == "PRIVATE":
        header = {"jwk": w.prover.key.as_dict(private=True)}
    now = int(w.clock())
    claims = {**claims}
    if claims.get("iat") in ("OLD", "FUTURE"):
        claims["iat"] = now - 61 if claims["iat"] == "OLD" else now + 61
    proof = w.prover.proof(
        "GET", ACCOUNTS, now=now, token=token, header=header, claims=claims, signer=signer
    )

    response = w.call(token, proof=proof)

    body = assert_fdx_error(response, 401, "603", fdx_validate)
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]
    # The description names what is wrong, so the client's developer can fix it.
    member = _MEMBER_AT_FAULT.get(name.split("-")[0])
    assert member is None or member in body["debugMessage"], body["debugMessage"]


_MEMBER_AT_FAULT = {"jti": "jti", "htm": "htm", "htu": "htu", "iat": "iat", "ath": "ath"}


@pytest.mark.parametrize(
    "proof",
    ["", "not-a-jwt", "a.b.c", "e30.e30.", "x" * 9000],
    ids=["empty", "no-dots", "garbage", "empty-objects", "too-long"],
)
def test_a_proof_that_is_not_a_jwt_is_refused(w: World, proof: str) -> None:
    """Garbage gets the same clear challenge, never a 500."""
    token = w.dpop_grant()

    response = w.call(token, proof=proof)

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]


def test_a_call_without_a_proof_is_refused(w: World) -> None:
    """A DPoP-bound token without its DPoP header proves nothing."""
    token = w.dpop_grant()

    response = w.client.get("/fdx/v6/accounts", headers={"Authorization": f"DPoP {token}"})

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]


def test_two_dpop_headers_are_refused(w: World) -> None:
    """RFC 9449 §4.3 item 1: exactly one DPoP header, even if both proofs are valid."""
    token = w.dpop_grant()
    proofs = [w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token) for _ in range(2)]

    response = w.call(token, proof=proofs)

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]


def test_a_replayed_proof_is_refused(w: World) -> None:
    """RFC 9449 §11.1: a proof's jti is used once; the same proof again is refused."""
    token = w.dpop_grant()
    proof = w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token)

    first, second = w.call(token, proof=proof), w.call(token, proof=proof)

    assert (200, 401) == (first.status_code, second.status_code)
    assert CHALLENGE_INVALID_DPOP_PROOF == second.headers["www-authenticate"]


def test_a_proof_by_another_key_than_the_tokens_is_refused(w: World) -> None:
    """A thief with the token but not the key signs with a key of its own: cnf.jkt differs."""
    token = w.dpop_grant()
    thief = Prover()
    proof = thief.proof("GET", ACCOUNTS, now=w.clock(), token=token)

    response = w.call(token, proof=proof)

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]


def test_a_rejected_proof_for_another_key_does_not_burn_its_jti(w: World) -> None:
    """The key is compared before the replay cache, so a refused proof records nothing."""
    token = w.dpop_grant()
    thief = Prover()
    w.call(token, proof=thief.proof("GET", ACCOUNTS, now=w.clock(), token=token))

    assert [] == [k for (kind, k) in w.state._items if kind == Kind.DPOP_JTI]


def test_a_dpop_bound_token_sent_as_bearer_is_refused(w: World) -> None:
    """RFC 9449 §7.1: the binding cannot be shed by switching the scheme."""
    token = w.dpop_grant()

    response = w.call(token, scheme="Bearer")

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_TOKEN == response.headers["www-authenticate"]


def test_an_unbound_token_sent_as_dpop_is_refused(w: World) -> None:
    """A Bearer token under the DPoP scheme is not a DPoP token, whatever proof comes with it."""
    _, token = w.grant()

    response = w.call(token)

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_TOKEN == response.headers["www-authenticate"]


def test_fapi2_refuses_an_unbound_bearer_token(w: World) -> None:
    """FAPI 2.0 §5.3.3: the resource server accepts only sender-constrained tokens."""
    _, token = w.grant()

    response = w.get("/fdx/v6/accounts", token)

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_TOKEN == response.headers["www-authenticate"]


def test_fapi2_challenges_a_call_without_a_token_with_dpop(w: World) -> None:
    """A call with no credentials is told which scheme to use."""
    response = w.client.get("/fdx/v6/accounts")

    assert 401 == response.status_code
    assert 'DPoP algs="ES256 PS256"' == response.headers["www-authenticate"]


def test_sandbox_accepts_bearer_and_dpop_tokens() -> None:
    """The sandbox profile keeps today's Bearer tokens, and DPoP works there too."""
    world = World(profile="sandbox")
    with world.client:
        _, bearer = world.grant()
        bound = world.dpop_grant()

        assert 200 == world.get("/fdx/v6/accounts", bearer).status_code
        assert 200 == world.call(bound).status_code
        assert 401 == world.call(bound, scheme="Bearer").status_code


def test_a_consent_ended_under_a_dpop_token_is_challenged_with_dpop(w: World) -> None:
    """Every challenge to a DPoP call uses the DPoP scheme (RFC 9449 §7.1), not only the
    proof's own."""
    consent, token = w.grant(jkt=w.prover.jkt)
    w.revoke(consent)

    response = w.call(token)

    assert (401, "602") == (response.status_code, response.json()["code"])
    assert CHALLENGE_INVALID_TOKEN == response.headers["www-authenticate"]


def test_a_proof_is_checked_on_every_fdx_path(w: World) -> None:
    """Transactions too: htu names that path, ath the token."""
    token = w.dpop_grant()
    path = "/fdx/v6/accounts/acc-chk/transactions"
    good = w.call(token, path=path)
    wrong = w.call(
        token,
        path=path,
        proof=w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token),
    )

    assert (200, 401) == (good.status_code, wrong.status_code)


def test_proofs_with_a_ps256_key_are_accepted(w: World) -> None:
    """PS256 is the other FAPI 2.0 algorithm."""
    w.prover = Prover.rsa()
    token = w.dpop_grant()

    assert 200 == w.call(token).status_code


# ---------------------------------------------------------------------------- nonces (§9)


@pytest.fixture
def nonced() -> Iterator[World]:
    world = World(dpop_nonce_required=True, dpop_nonce_lifetime=60)
    with world.client:
        yield world


def test_a_proof_without_the_nonce_is_asked_to_retry_with_one(nonced: World) -> None:
    """RFC 9449 §9: 401, DPoP error="use_dpop_nonce" and the nonce in DPoP-Nonce; the retry
    with it succeeds and carries a nonce for next time."""
    token = nonced.dpop_grant()
    first = nonced.call(token)
    nonce = first.headers["dpop-nonce"]
    proof = nonced.prover.proof("GET", ACCOUNTS, now=nonced.clock(), token=token, nonce=nonce)
    retry = nonced.call(token, proof=proof)

    assert 401 == first.status_code
    assert CHALLENGE_USE_DPOP_NONCE == first.headers["www-authenticate"]
    assert 200 == retry.status_code
    assert retry.headers["dpop-nonce"]


def test_a_nonce_lasts_one_to_two_lifetimes(nonced: World) -> None:
    """Stateless nonces: the current and the previous time bucket are accepted, older not."""
    token = nonced.dpop_grant()
    nonce = nonced.call(token).headers["dpop-nonce"]

    def with_nonce() -> int:
        proof = nonced.prover.proof("GET", ACCOUNTS, now=nonced.clock(), token=token, nonce=nonce)
        return int(nonced.call(token, proof=proof).status_code)

    nonced.clock.advance(60)
    still = with_nonce()
    nonced.clock.advance(60)

    assert (200, 401) == (still, with_nonce())


def test_a_made_up_nonce_is_refused(nonced: World) -> None:
    """A nonce the server did not make is answered like a missing one."""
    token = nonced.dpop_grant()
    proof = nonced.prover.proof("GET", ACCOUNTS, now=nonced.clock(), token=token, nonce="x" * 43)

    response = nonced.call(token, proof=proof)

    assert CHALLENGE_USE_DPOP_NONCE == response.headers["www-authenticate"]


def test_without_the_setting_a_nonce_is_neither_required_nor_sent(w: World) -> None:
    """Nonces are off by default (FAPI 2.0 does not require them)."""
    token = w.dpop_grant()
    response = w.call(token)

    assert 200 == response.status_code
    assert "dpop-nonce" not in response.headers


def test_a_non_ascii_ath_is_an_invalid_proof(w: World, fdx_validate: Any) -> None:
    """Any characters in ath: 401 invalid_dpop_proof in the FDX shape, never a 500."""
    token = w.dpop_grant()
    proof = w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token, claims={"ath": "é" * 43})

    response = w.call(token, proof=proof)

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]


def test_a_non_ascii_nonce_is_asked_to_retry(nonced: World, fdx_validate: Any) -> None:
    """Any characters in nonce: 401 use_dpop_nonce with a fresh one, never a 500."""
    token = nonced.dpop_grant()
    proof = nonced.prover.proof("GET", ACCOUNTS, now=nonced.clock(), token=token, nonce="é" * 43)

    response = nonced.call(token, proof=proof)

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert CHALLENGE_USE_DPOP_NONCE == response.headers["www-authenticate"]
    assert response.headers["dpop-nonce"]


# ---------------------------------------------------------------------------- the proof's key


def _spoiled(jwk: dict[str, Any], member: str, value: Any) -> dict[str, Any]:
    spoiled = {**jwk, member: value}
    if value is DROP:
        del spoiled[member]
    return spoiled


# A key of the right type whose material is no key: each must be invalid_dpop_proof, not a 500.
BAD_EC = {
    "x-not-on-the-curve": ("x", b64(b"\x01" * 32)),
    "x-too-short": ("x", b64(b"\x01" * 5)),
    "x-a-number": ("x", 5),
    "x-missing": ("x", DROP),
    "x-padded": ("x", "PADDED"),
    "x-not-base64url": ("x", "!!!!"),
    "x-non-ascii": ("x", "é" * 43),
    "y-a-list": ("y", []),
}
BAD_RSA = {
    "e-zero": ("e", "AA"),
    "e-even": ("e", "Ag"),
    "e-a-list": ("e", []),
    "e-huge": ("e", b64(b"\xff" * 300)),
    "n-a-number": ("n", 5),
    "n-padded": ("n", "PADDED"),
}


@pytest.mark.parametrize(("member", "value"), BAD_EC.values(), ids=BAD_EC)
def test_an_ec_key_with_bad_material_is_an_invalid_proof(
    w: World, member: str, value: Any, fdx_validate: Any
) -> None:
    """RFC 9449 §4.3 item 5: the jwk must be a valid public key."""
    token = w.dpop_grant()
    jwk = w.prover.jwk
    if value == "PADDED":
        value = jwk[member] + "="
    header = {"jwk": _spoiled(jwk, member, value)}
    proof = w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token, header=header)

    response = w.call(token, proof=proof)

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]


@pytest.mark.parametrize(("member", "value"), BAD_RSA.values(), ids=BAD_RSA)
def test_an_rsa_key_with_bad_material_is_an_invalid_proof(
    w: World, member: str, value: Any, fdx_validate: Any
) -> None:
    """The same for PS256 keys."""
    w.prover = Prover.rsa()
    token = w.dpop_grant()
    jwk = w.prover.jwk
    if value == "PADDED":
        value = jwk[member] + "=="
    header = {"jwk": _spoiled(jwk, member, value)}
    proof = w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token, header=header)

    response = w.call(token, proof=proof)

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi", "oth", "k"])
def test_each_private_key_member_alone_is_refused(w: World, member: str) -> None:
    """RFC 9449 §4.2: the jwk "MUST NOT contain a private key"; any one private member (RFC 7518
    §6.2.2, §6.3.2, §6.4.1) is enough to refuse it, even on a key otherwise public."""
    token = w.dpop_grant()
    header = {"jwk": {**w.prover.jwk, member: b64(b"\x01" * 32)}}
    proof = w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token, header=header)

    response = w.call(token, proof=proof)

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]
    assert "public key" in response.json()["debugMessage"]


@pytest.mark.parametrize("segment", [0, 1, 2], ids=["header", "claims", "signature"])
def test_a_padded_base64url_segment_is_refused(w: World, segment: int) -> None:
    """RFC 7515 §2: base64url "with all trailing '=' characters omitted"; a padded segment is
    not a JWS, even where decoding would succeed."""
    token = w.dpop_grant()
    parts = w.prover.proof("GET", ACCOUNTS, now=w.clock(), token=token).split(".")
    while len(parts[segment]) % 4:
        parts[segment] += "="
    if "=" not in parts[segment]:
        parts[segment] += "===="

    response = w.call(token, proof=".".join(parts))

    assert 401 == response.status_code
    assert CHALLENGE_INVALID_DPOP_PROOF == response.headers["www-authenticate"]

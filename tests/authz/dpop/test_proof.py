"""The DPoP proof verifier on its own: URI normalisation, thumbprints, nonces, algorithms."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import JWKRegistry, OKPKey

from authz.dpop import DpopError, DpopVerifier, Nonces, normalise_uri, token_hash
from authz.store.memory import MemoryStateStore
from tests.authz.dpop.proofs import Prover, b64
from tests.authz.oauth.conftest import FakeClock

pytestmark = pytest.mark.anyio
URL = "https://bank.example/oauth/token"


@pytest.mark.parametrize(
    ("uri", "normal"),
    [
        ("https://bank.example/oauth/token", URL),
        ("HTTPS://Bank.Example/oauth/token", URL),
        ("https://bank.example:443/oauth/token", URL),
        ("http://bank.example:80/x", "http://bank.example/x"),
        ("http://127.0.0.1:8000/fdx/v6", "http://127.0.0.1:8000/fdx/v6"),
        ("https://bank.example", "https://bank.example/"),
        ("https://[::1]:8443/a", "https://[::1]:8443/a"),
        ("https://bank.example/accounts/a%20b", "https://bank.example/accounts/a b"),
        ("https://bank.example/accounts/%61", "https://bank.example/accounts/a"),
        ("https://bank.example/oauth/token?x=1", URL),
        ("https://bank.example/oauth/token?", URL),
        ("https://bank.example/oauth/token#f", URL),
        ("https://bank.example/oauth/token?x=1#f", URL),
        ("https://bank.example/other?/oauth/token", "https://bank.example/other"),
        ("https://user@bank.example/oauth/token", None),
        ("ftp://bank.example/x", None),
        ("/oauth/token", None),
        ("https://bank.example:99999/x", None),
    ],
)
def test_htu_normalisation(uri: str, normal: str | None) -> None:
    """RFC 3986 §6.2.2-6.2.3: case, default port, empty path; the query and fragment ignored
    (RFC 9449 §4.3 item 9); no user info."""
    assert normal == normalise_uri(uri)


def test_the_thumbprint_is_rfc_7638s() -> None:
    """RFC 7638 §3.1's example key has the thumbprint the RFC gives."""
    key = JWKRegistry.import_key(
        {
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
            "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5"
            "v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08q"
            "NLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awa"
            "pJzKnqDKgw",
            "e": "AQAB",
        }
    )

    assert "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs" == key.thumbprint()


def test_ath_is_the_base64url_sha256_of_the_token() -> None:
    """RFC 9449 §4.2 (and the RFC's own example token and ath, §7.1)."""
    token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"

    assert "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" == token_hash(token)


def verifier(clock: FakeClock, **kwargs: object) -> DpopVerifier:
    options: dict[str, Any] = {
        "algorithms": ("ES256", "PS256"),
        "window": 60,
        "nonces": None,
        **kwargs,
    }
    return DpopVerifier(MemoryStateStore(clock=clock), clock=clock, **options)


async def test_a_valid_proof_yields_its_keys_thumbprint() -> None:
    """The verified proof names the key the token gets bound to."""
    clock, prover = FakeClock(), Prover()

    proof = await verifier(clock).verify(
        [prover.proof("POST", URL, now=clock())], method="POST", url=URL
    )

    assert prover.jkt == proof.jkt


async def test_a_client_key_is_parsed_once_for_many_proofs() -> None:
    """The hot path: the same header on each proof is parsed and imported once."""
    clock, prover = FakeClock(), Prover()
    check = verifier(clock)
    for _ in range(3):
        await check.verify([prover.proof("POST", URL, now=clock())], method="POST", url=URL)

    assert 1 == len(check._keys)


async def test_an_rsa_key_shorter_than_2048_bits_is_refused() -> None:
    """PS256 with a weak key is not a proof of anything (FAPI 2.0 §5.4.1)."""
    clock, prover = FakeClock(), Prover()
    weak_key = rsa.generate_private_key(65537, 1024)  # noqa: S505 (the point of the test)
    numbers = weak_key.public_key().public_numbers()
    weak = {"kty": "RSA", "n": b64(numbers.n.to_bytes(128, "big")), "e": "AQAB"}
    header = {"alg": "PS256", "jwk": weak}
    proof = prover.proof("POST", URL, now=clock(), header=header, signer=Prover.rsa().key)

    with pytest.raises(DpopError, match="2048"):
        await verifier(clock).verify([proof], method="POST", url=URL)


async def test_ed25519_is_accepted_only_when_configured() -> None:
    """RFC 9864's fully specified Ed25519: off by default, on when the bank allows it."""
    clock = FakeClock()
    prover = Prover(OKPKey.generate_key("Ed25519", private=True), "Ed25519")

    with pytest.raises(DpopError, match="alg"):
        await verifier(clock).verify(
            [prover.proof("POST", URL, now=clock())], method="POST", url=URL
        )
    allowed = verifier(clock, algorithms=("ES256", "Ed25519"))
    proof = await allowed.verify([prover.proof("POST", URL, now=clock())], method="POST", url=URL)
    assert prover.jkt == proof.jkt


async def test_a_proof_within_the_window_on_either_side_is_accepted() -> None:
    """iat may be up to the window before or after the server's clock (clock skew)."""
    clock, prover = FakeClock(), Prover()
    check = verifier(clock)

    for iat in (clock() - 60, clock() + 60):
        await check.verify([prover.proof("POST", URL, now=iat)], method="POST", url=URL)


async def test_the_replay_cache_remembers_a_proof_as_long_as_it_could_be_accepted() -> None:
    """A proof dated at the window's far edge is still refused when replayed just before it
    expires: the jti lives as long as the proof is acceptable."""
    clock, prover = FakeClock(), Prover()
    check = verifier(clock)
    proof = prover.proof("POST", URL, now=clock() + 60)
    await check.verify([proof], method="POST", url=URL)
    clock.advance(119)

    with pytest.raises(DpopError, match="already used"):
        await check.verify([proof], method="POST", url=URL)


def test_a_nonce_is_stable_within_its_bucket_and_changes_after() -> None:
    """One nonce per lifetime bucket, made from the secret alone (no state)."""
    clock = FakeClock(1_800_000_000.0)
    nonces = Nonces(b"s" * 32, lifetime=300, clock=clock)
    first = nonces.current()
    clock.advance(299 - clock() % 300)
    same = nonces.current()
    clock.advance(1)

    assert first == same != nonces.current()
    assert nonces.valid(first)
    clock.advance(300)
    assert not nonces.valid(first)


def test_a_nonce_of_another_secret_is_invalid() -> None:
    """Another deployment's nonce is not ours."""
    clock = FakeClock()
    mine, theirs = (
        Nonces(b"a" * 32, lifetime=300, clock=clock),
        Nonces(b"b" * 32, lifetime=300, clock=clock),
    )

    assert not mine.valid(theirs.current())
    assert not mine.valid(None)
    assert not mine.valid(12)


NON_ASCII = "é" * 43  # 43 characters, the length of a real ath and nonce


async def test_a_non_ascii_ath_is_an_invalid_proof_not_a_crash() -> None:
    """``ath`` is compared as bytes: a non-ASCII one is refused as not matching the token
    (``hmac.compare_digest`` raises TypeError on non-ASCII text)."""
    clock, prover = FakeClock(), Prover()
    proof = prover.proof("GET", URL, now=clock(), token="t", claims={"ath": NON_ASCII})

    with pytest.raises(DpopError, match="ath"):
        await verifier(clock).verify([proof], method="GET", url=URL, access_token="t")


async def test_a_non_ascii_nonce_is_asked_to_retry_not_a_crash() -> None:
    """A nonce the server cannot have made, whatever its characters, gets use_dpop_nonce."""
    clock, prover = FakeClock(), Prover()
    nonces = Nonces(b"s" * 32, lifetime=300, clock=clock)
    proof = prover.proof("POST", URL, now=clock(), nonce=NON_ASCII)

    with pytest.raises(DpopError) as refused:
        await verifier(clock, nonces=nonces).verify([proof], method="POST", url=URL)

    assert ("use_dpop_nonce", nonces.current()) == (refused.value.error, refused.value.nonce)


def test_a_nonce_is_the_same_in_every_version_of_the_gateway() -> None:
    """A known answer: instances of different releases behind one load balancer (a rolling
    upgrade) share the secret, so they must make the same nonce from it for the same time."""
    nonces = Nonces(b"s" * 32, lifetime=300, clock=lambda: 1_800_000_000.0)

    assert "bI3RuKCrRs3S54YRsvts8cn4idVDcALb_t_MuK_EhVM" == nonces.current()


@pytest.mark.parametrize(("length", "accepted"), [(1, True), (256, True), (257, False)])
async def test_a_jti_is_one_to_256_characters(length: int, accepted: bool) -> None:
    """The replay cache keys on jti: any non-empty one up to the bound is taken."""
    clock, prover = FakeClock(), Prover()
    proof = prover.proof("POST", URL, now=clock(), claims={"jti": "j" * length})

    if accepted:
        await verifier(clock).verify([proof], method="POST", url=URL)
    else:
        with pytest.raises(DpopError, match="jti"):
            await verifier(clock).verify([proof], method="POST", url=URL)


@pytest.mark.parametrize("preset", [None, "from-the-app"], ids=["none-set", "app-set"])
async def test_the_nonce_middleware_adds_one_nonce_and_passes_the_rest(preset: str | None) -> None:
    """Every HTTP response gets a DPoP-Nonce unless the app set one (never two); the request
    (its body included) and any other kind of scope pass through untouched."""
    from authz.dpop import NonceHeaderMiddleware

    nonces = Nonces(b"s" * 32, lifetime=300, clock=FakeClock())
    seen: list[tuple[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["type"], await receive()))
        if scope["type"] == "http":
            headers = [] if preset is None else [(b"dpop-nonce", preset.encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b"the body"}

    middleware = NonceHeaderMiddleware(app, nonces=nonces)
    await middleware({"type": "lifespan"}, receive, send)
    await middleware({"type": "http", "headers": []}, receive, send)

    nonce_values = [v for k, v in sent[0]["headers"] if k.lower() == b"dpop-nonce"]
    assert [("lifespan", await receive()), ("http", await receive())] == seen
    assert [(preset or nonces.current()).encode()] == nonce_values

"""DPoP at the authorization server (RFC 9449 §5, §8, §10): binding at the token endpoint, the
code bound at PAR, refresh tokens bound to the key, and server nonces."""

from __future__ import annotations

from typing import Any

from joserfc import jwt

from authz.token import hash_token
from tests.authz.dpop.conftest import PAR_URL, TOKEN_URL, World, WorldFactory
from tests.authz.dpop.proofs import Prover
from tests.authz.oauth.conftest import run


def claims_of(world: World, access_token: str) -> dict[str, Any]:
    return dict(jwt.decode(access_token, world.services.keys.all, algorithms=["ES256"]).claims)


def test_a_code_exchanged_with_a_proof_gets_dpop_bound_tokens(world: World) -> None:
    """token_type DPoP, cnf.jkt the proof key's thumbprint, the refresh token bound to it."""
    code, verifier = world.code(world.consent())

    response = world.exchange_with(code, verifier, world.proof())

    body = response.json()
    assert 200 == response.status_code
    assert "DPoP" == body["token_type"]
    assert {"jkt": world.prover.jkt} == claims_of(world, body["access_token"])["cnf"]
    stored = run(world.services.records.refresh_tokens.get, hash_token(body["refresh_token"]))
    assert stored is not None
    assert world.prover.jkt == stored.jkt


def test_fapi2_issues_no_token_without_a_sender_constraint(world: World) -> None:
    """FAPI 2.0 §5.3.2.1: no proof, no certificate: invalid_dpop_proof, and the code survives."""
    code, verifier = world.code(world.consent())

    refused = world.exchange_with(code, verifier, None)
    retried = world.exchange_with(code, verifier, world.proof())

    assert (400, "invalid_dpop_proof") == (refused.status_code, refused.json()["error"])
    assert 200 == retried.status_code


def test_sandbox_issues_bearer_tokens_without_a_proof(worlds: WorldFactory) -> None:
    """The sandbox profile keeps Bearer tokens for clients that send no proof."""
    world = worlds(profile="sandbox")
    code, verifier = world.code(world.consent())

    body = world.exchange_with(code, verifier, None).json()

    assert "Bearer" == body["token_type"]
    assert "cnf" not in claims_of(world, body["access_token"])


def test_sandbox_still_binds_when_a_proof_is_sent(worlds: WorldFactory) -> None:
    """DPoP works under the sandbox profile too."""
    world = worlds(profile="sandbox")
    code, verifier = world.code(world.consent())

    body = world.exchange_with(code, verifier, world.proof()).json()

    assert "DPoP" == body["token_type"]


def test_a_proof_for_another_endpoint_is_refused(world: World) -> None:
    """htu must be the token endpoint (from the issuer), not PAR's or a look-alike."""
    code, verifier = world.code(world.consent())
    urls = [PAR_URL, "https://evil.example/oauth/token", f"{TOKEN_URL}/x", f"{PAR_URL}?/token"]

    answers = [world.exchange_with(code, verifier, world.proof(url)).json() for url in urls]

    assert ["invalid_dpop_proof"] * 4 == [a["error"] for a in answers]


def test_a_proof_naming_the_token_endpoint_with_a_query_is_accepted(world: World) -> None:
    """RFC 9449 §4.3 item 9: htu is compared ignoring its query and fragment."""
    code, verifier = world.code(world.consent())

    answer = world.exchange_with(code, verifier, world.proof(f"{TOKEN_URL}?x=1#f"))

    assert 200 == answer.status_code


def test_a_proof_for_another_method_is_refused(world: World) -> None:
    """htm must be POST at the token endpoint."""
    code, verifier = world.code(world.consent())

    answer = world.exchange_with(code, verifier, world.proof(method="GET")).json()

    assert "invalid_dpop_proof" == answer["error"]


def test_a_code_bound_at_par_is_redeemed_only_with_that_key(world: World) -> None:
    """RFC 9449 §10: another key gets invalid_grant and burns nothing; the bound key succeeds."""
    code, verifier = world.bound_code(world.prover.jkt)
    stranger = Prover()

    refused = world.exchange_with(
        code, verifier, stranger.proof("POST", TOKEN_URL, now=world.clock())
    )
    accepted = world.exchange_with(code, verifier, world.proof())

    assert (400, "invalid_grant") == (refused.status_code, refused.json()["error"])
    assert 200 == accepted.status_code


def test_a_refresh_needs_the_key_the_refresh_token_is_bound_to(world: World) -> None:
    """RFC 9449 §5: another key is refused before the token is used, so a thief holding the
    refresh token cannot use it nor, by replaying it, revoke the consent."""
    code, verifier = world.code(world.consent())
    first = world.exchange_with(code, verifier, world.proof()).json()
    thief = Prover()

    stolen = world.refresh_with(
        first["refresh_token"], thief.proof("POST", TOKEN_URL, now=world.clock())
    )
    unproven = world.refresh_with(first["refresh_token"], None)
    mine = world.refresh_with(first["refresh_token"], world.proof())

    assert (400, "invalid_grant") == (stolen.status_code, stolen.json()["error"])
    assert "invalid_dpop_proof" == unproven.json()["error"]
    assert 200 == mine.status_code
    assert "DPoP" == mine.json()["token_type"]
    assert {"jkt": world.prover.jkt} == claims_of(world, mine.json()["access_token"])["cnf"]
    assert "ACTIVE" == world.get_consent().status.value


def test_client_credentials_tokens_are_bound_too(world: World) -> None:
    """The Consent API's token is sender-constrained like every other, and usable with a proof."""
    consent = world.consent()
    form = world.auth(grant_type="client_credentials")
    body = world.token_request(form, proof=world.proof()).json()
    token = body["access_token"]
    url = f"https://as.example.com/fdx/v6/consents/{consent.id}"
    proof = world.prover.proof("GET", url, now=world.clock(), token=token)

    read = world.http.get(url, headers={"Authorization": f"DPoP {token}", "DPoP": proof})
    as_bearer = world.http.get(url, headers={"Authorization": f"Bearer {token}"})

    assert "DPoP" == body["token_type"]
    assert 200 == read.status_code
    assert 401 == as_bearer.status_code


def test_introspection_reports_the_binding(world: World) -> None:
    """RFC 9449 §6.2: token_type DPoP and cnf.jkt in the introspection answer."""
    code, verifier = world.code(world.consent())
    token = world.exchange_with(code, verifier, world.proof()).json()["access_token"]

    answer = world.post("/oauth/introspect", world.auth(token=token)).json()

    assert (True, "DPoP") == (answer["active"], answer["token_type"])
    assert {"jkt": world.prover.jkt} == answer["cnf"]


# ---------------------------------------------------------------------------- PAR (§10)


def test_a_proof_at_par_binds_the_request_to_its_key(world: World) -> None:
    """RFC 9449 §10: a PAR with a DPoP header and no dpop_jkt binds to the header's key."""
    response = world.par(proof=world.proof(PAR_URL))

    assert 201 == response.status_code
    assert world.prover.jkt == world.pushed(response).dpop_jkt


def test_dpop_jkt_at_par_binds_without_a_proof(world: World) -> None:
    """dpop_jkt alone is enough (a client whose PAR call cannot carry a proof)."""
    response = world.par(dpop_jkt=world.prover.jkt)

    assert world.prover.jkt == world.pushed(response).dpop_jkt


def test_a_par_without_binding_binds_nothing(world: World) -> None:
    """DPoP at PAR is optional: the token request still needs a proof under fapi2."""
    assert world.pushed(world.par()).dpop_jkt is None


def test_dpop_jkt_that_is_not_the_proofs_key_is_refused(world: World) -> None:
    """Both sent: they must name the same key."""
    response = world.par(proof=world.proof(PAR_URL), dpop_jkt=Prover().jkt)

    assert (400, "invalid_dpop_proof") == (response.status_code, response.json()["error"])


def test_a_malformed_dpop_jkt_is_refused(world: World) -> None:
    """dpop_jkt is a base64url SHA-256 thumbprint (43 characters)."""
    response = world.par(dpop_jkt="not a thumbprint")

    assert (400, "invalid_request") == (response.status_code, response.json()["error"])


def test_a_bad_proof_at_par_is_refused(world: World) -> None:
    """A proof sent to PAR is checked like any other: here, one made for the token endpoint."""
    response = world.par(proof=world.proof(TOKEN_URL))

    assert "invalid_dpop_proof" == response.json()["error"]


# ---------------------------------------------------------------------------- nonces (§8)


def test_the_token_endpoint_asks_for_a_nonce_when_required(worlds: WorldFactory) -> None:
    """RFC 9449 §8: 400 use_dpop_nonce with DPoP-Nonce; the retry (same client assertion: it
    was not spent) succeeds and carries the next nonce."""
    world = worlds(dpop_nonce_required=True)
    code, verifier = world.code(world.consent())
    form = world.auth(
        grant_type="authorization_code",
        code=code,
        redirect_uri="https://app.example.com/callback",
        code_verifier=verifier,
    )

    first = world.token_request(form, proof=world.proof())
    nonce = first.headers["dpop-nonce"]
    retry = world.token_request(form, proof=world.proof(nonce=nonce))

    assert (400, "use_dpop_nonce") == (first.status_code, first.json()["error"])
    assert 200 == retry.status_code
    assert retry.headers["dpop-nonce"]


def test_par_asks_for_a_nonce_when_required(worlds: WorldFactory) -> None:
    """A proof at PAR needs the nonce too (§10.1)."""
    world = worlds(dpop_nonce_required=True)

    first = world.par(proof=world.proof(PAR_URL))
    retry = world.par(proof=world.proof(PAR_URL, nonce=first.headers["dpop-nonce"]))

    assert "use_dpop_nonce" == first.json()["error"]
    assert 201 == retry.status_code


def test_nonces_are_valid_across_instances_sharing_the_secret(worlds: WorldFactory) -> None:
    """Stateless: a nonce from one gateway instance is accepted by another."""
    one, two = worlds(dpop_nonce_required=True), worlds(dpop_nonce_required=True)
    two.prover = one.prover
    nonce = one.par(proof=one.proof(PAR_URL)).headers["dpop-nonce"]

    assert 201 == two.par(proof=two.proof(PAR_URL, nonce=nonce)).status_code


def test_without_the_setting_no_nonce_is_asked_or_sent(world: World) -> None:
    """Nonces are off by default: the first proof is enough and no DPoP-Nonce is sent."""
    code, verifier = world.code(world.consent())

    response = world.exchange_with(code, verifier, world.proof())

    assert 200 == response.status_code
    assert "dpop-nonce" not in response.headers


def test_a_replayed_token_endpoint_proof_is_refused(world: World) -> None:
    """§11.1 at the AS too: the jti cache is keyed by key and jti."""
    proof = world.proof()
    first_code, first_verifier = world.code(world.consent("c-1"))
    second_code, second_verifier = world.code(world.consent("c-2"))

    first = world.exchange_with(first_code, first_verifier, proof)
    second = world.exchange_with(second_code, second_verifier, proof)

    assert 200 == first.status_code
    assert "invalid_dpop_proof" == second.json()["error"]


def test_a_non_ascii_nonce_at_the_token_endpoint_and_par_is_asked_to_retry(
    worlds: WorldFactory,
) -> None:
    """A nonce in any characters is checked before client authentication: 400 use_dpop_nonce,
    never a 500."""
    world = worlds(dpop_nonce_required=True)
    form = world.auth(grant_type="client_credentials")
    nonce = "é" * 43

    token = world.token_request(form, proof=world.proof(nonce=nonce))
    par = world.par(proof=world.proof(PAR_URL, nonce=nonce))

    assert [(400, "use_dpop_nonce")] * 2 == [
        (r.status_code, r.json()["error"]) for r in (token, par)
    ]

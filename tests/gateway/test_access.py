"""The gate: bearer token, revoked jti, live consent, account and cluster checks."""

from __future__ import annotations

import anyio
import pytest
from joserfc import jwt

from authz.keys import SigningKeys
from authz.store.base import Kind
from tests.gateway.conftest import assert_fdx_error

ACCOUNT = "/fdx/v6/accounts/acc-chk"


def test_a_valid_token_on_a_consented_account_is_served(h, fdx_validate):
    """The happy path: an active consent with ACCOUNT_DETAILED reads the account."""
    _, token = h.grant()

    response = h.get(ACCOUNT, token)

    assert 200 == response.status_code
    fdx_validate(response.json(), "AccountWithDetailsentity")


def test_a_lower_case_bearer_scheme_is_accepted(h):
    """RFC 7235 §2.1: auth schemes are case-insensitive."""
    _, token = h.grant()

    response = h.get(ACCOUNT, None, headers={"Authorization": f"bearer {token}"})

    assert 200 == response.status_code


def test_a_missing_token_gets_a_bare_bearer_challenge(h, fdx_validate):
    """RFC 6750 §3.1: no credentials, no error code in the challenge."""
    response = h.get(ACCOUNT, None)

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert "Bearer" == response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer x y"],
    ids=["empty", "garbage", "basic", "bad-jwt", "two-tokens"],
)
def test_a_malformed_authorization_is_invalid_token(h, fdx_validate, header):
    """Anything but one well-formed bearer token is 401/603 invalid_token."""
    h.grant()

    response = h.get(ACCOUNT, None, headers={"Authorization": header})

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert 'Bearer error="invalid_token"' == response.headers["www-authenticate"]


def test_a_token_in_the_query_is_refused(h, fdx_validate):
    """FAPI: the token travels in the Authorization header only (RFC 6750 §5.3)."""
    _, token = h.grant()

    response = h.get(f"{ACCOUNT}?access_token={token}", None)

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_a_token_in_the_query_is_refused_even_beside_a_header(h, fdx_validate):
    """RFC 6750 §2: one method per request."""
    _, token = h.grant()

    response = h.get(f"{ACCOUNT}?access_token={token}", token)

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_an_expired_token_is_refused(h, fdx_validate):
    """exp is enforced against the injected clock."""
    _, token = h.grant()
    h.clock.advance(h.services.tokens.ttl + 1)

    response = h.get(ACCOUNT, token)

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_a_token_signed_by_another_key_is_refused(h, fdx_validate):
    """Only the authorization server's keys verify."""
    consent, _ = h.grant()
    other = SigningKeys.generate()
    now = int(h.clock())
    claims = {
        "iss": h.services.settings.issuer,
        "aud": h.services.settings.resource_audience,
        "sub": "s",
        "client_id": consent.client_id,
        "scope": "fdx:accountdetailed:read",
        "jti": "j1",
        "iat": now,
        "exp": now + 60,
        "fdxConsentId": consent.id,
    }
    forged = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, claims, other.current)

    response = h.get(ACCOUNT, forged)

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_a_jwt_of_another_type_is_refused(h, fdx_validate):
    """RFC 9068 §4: typ must be at+jwt, so an ID token or assertion cannot be replayed here."""
    consent, _ = h.grant()
    now = int(h.clock())
    claims = {
        "iss": h.services.settings.issuer,
        "aud": h.services.settings.resource_audience,
        "sub": "s",
        "client_id": consent.client_id,
        "scope": "fdx:accountdetailed:read",
        "jti": "j2",
        "iat": now,
        "exp": now + 60,
        "fdxConsentId": consent.id,
    }
    keys = h.services.keys
    token = jwt.encode({"alg": "ES256", "typ": "JWT", "kid": keys.kid}, claims, keys.current)

    response = h.get(ACCOUNT, token)

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_a_revoked_access_token_is_refused(h, fdx_validate):
    """RFC 7009: a revoked jti stops working before its exp."""
    _, token = h.grant()
    assert 200 == h.get(ACCOUNT, token).status_code
    jti = h.services.tokens.verify(token).jti
    anyio.run(lambda: h.state.put(Kind.REVOKED_ACCESS, jti, {"revoked": True}, ttl=300))

    response = h.get(ACCOUNT, token)

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_a_revoked_consent_blocks_the_next_call_with_the_same_token(h, fdx_validate):
    """Revocation takes effect on the very next request, not when the token expires."""
    consent, token = h.grant()
    assert 200 == h.get(ACCOUNT, token).status_code
    h.revoke(consent)

    response = h.get(ACCOUNT, token)

    body = assert_fdx_error(response, 401, "602", fdx_validate)
    assert "Consent is revoked or expired" == body["message"]
    assert 'Bearer error="invalid_token"' == response.headers["www-authenticate"]


@pytest.mark.parametrize(("offset", "status"), [(-1, 200), (1, 401)], ids=["before", "after"])
def test_a_consent_ends_at_its_expiry_to_the_second(h, offset, status):
    """A consent is live one second before expires_at and dead one second after."""
    consent, _ = h.grant(expires_in=100)
    h.clock.now = consent.expires_at + offset
    token, _ = h.services.tokens.issue(
        consent_id=consent.id, client_id=consent.client_id, sub="s", scope="fdx:accountbasic:read"
    )

    response = h.get(ACCOUNT, token)

    assert status == response.status_code


def test_a_token_for_another_clients_consent_is_refused(h, fdx_validate):
    """The consent belongs to the client the token was issued to."""
    consent, _ = h.grant()
    token, _ = h.services.tokens.issue(
        consent_id=consent.id, client_id="someone-else", sub="s", scope="fdx:accountbasic:read"
    )

    response = h.get(ACCOUNT, token)

    assert_fdx_error(response, 401, "602", fdx_validate)


def test_a_token_for_an_unknown_consent_is_refused(h, fdx_validate):
    """A consent id nobody granted is as dead as a revoked one."""
    h.grant()
    token, _ = h.services.tokens.issue(
        consent_id="nope", client_id="client-1", sub="s", scope="fdx:accountbasic:read"
    )

    assert_fdx_error(h.get(ACCOUNT, token), 401, "602", fdx_validate)


@pytest.mark.parametrize("account", ["acc-sav", "does-not-exist"], ids=["not-consented", "unknown"])
def test_an_account_outside_the_consent_is_not_found_like_an_unknown_one(h, fdx_validate, account):
    """404/701 in both cases, with identical bodies: a recipient cannot probe for ids."""
    _, token = h.grant()

    response = h.get(f"/fdx/v6/accounts/{account}/transactions", token)

    body = assert_fdx_error(response, 404, "701", fdx_validate)
    assert {
        "code": "701",
        "message": "Account not found",
        "debugMessage": "Account not found",
    } == body
    assert [] == [c for c in h.bank.calls if c[0] == "list_transactions"]


def test_a_cluster_not_consented_is_insufficient_scope(h, fdx_validate):
    """The account is consented but not for TRANSACTIONS: 403/602 insufficient_scope."""
    _, token = h.grant({"acc-chk": ("ACCOUNT_BASIC",)})

    response = h.get("/fdx/v6/accounts/acc-chk/transactions", token)

    assert_fdx_error(response, 403, "602", fdx_validate)
    assert 'Bearer error="insufficient_scope"' == response.headers["www-authenticate"]


def test_a_token_lacking_the_clusters_scope_is_insufficient_scope(h, fdx_validate):
    """The consent grants TRANSACTIONS but the token's scope does not carry it."""
    _, token = h.grant(scope_clusters=("ACCOUNT_BASIC",))

    response = h.get("/fdx/v6/accounts/acc-chk/transactions", token)

    assert_fdx_error(response, 403, "602", fdx_validate)


def test_the_consent_is_read_live_on_every_call(h):
    """Two calls with one token read the consent's stored version twice (no cached verdict)."""
    consent, token = h.grant()
    reads = []
    original = h.records.consents.versions

    async def counting(held):
        reads.extend(held)
        return await original(held)

    h.records.consents.versions = counting
    h.get(ACCOUNT, token)
    h.get(ACCOUNT, token)

    assert [consent.id, consent.id] == reads


def test_a_token_in_a_form_body_is_refused(h, fdx_validate):
    """RFC 6750 §2.2 form tokens are not accepted here, even on a GET."""
    _, token = h.grant()

    response = h.client.request(
        "GET",
        ACCOUNT,
        content=f"access_token={token}",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert_fdx_error(response, 401, "603", fdx_validate)


def test_a_form_body_is_refused_without_being_read(h):
    """An unauthenticated body is never buffered: the gate refuses a form before reading it."""
    _, token = h.grant()
    app = h.client.app
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        raise AssertionError("the body was read")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": ACCOUNT, "raw_path": ACCOUNT.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("testserver", 80),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"67108864"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
    }  # fmt: skip

    anyio.run(app, scope, receive, send)

    assert 401 == sent[0]["status"]


@pytest.mark.parametrize("scheme", ["Basic", "Token", "MAC", "Negotiate", "Bearer:"])
def test_a_valid_token_under_another_scheme_is_refused(h, fdx_validate, scheme):
    """RFC 6750 §2.1: only the Bearer (or, RFC 9449, DPoP) scheme carries an access token;
    a valid token sent as ``Basic <token>`` is no credential of ours."""
    _, token = h.grant()

    response = h.get(ACCOUNT, None, headers={"Authorization": f"{scheme} {token}"})

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert 'Bearer error="invalid_token"' == response.headers["www-authenticate"]


@pytest.mark.parametrize("first_has_transactions", [True, False], ids=["first", "second"])
def test_each_account_opens_only_its_own_clusters(h, fdx_validate, first_has_transactions):
    """Accounts of one consent carrying different clusters: TRANSACTIONS on one account opens
    that account's transactions and not the other's, whichever comes first in the consent."""
    basic, with_transactions = ("ACCOUNT_BASIC",), ("ACCOUNT_BASIC", "TRANSACTIONS")
    if first_has_transactions:
        with_txns, without = "acc-chk", "acc-card"
        _, token = h.grant({with_txns: with_transactions, without: basic})
    else:
        with_txns, without = "acc-card", "acc-chk"
        _, token = h.grant({without: basic, with_txns: with_transactions})

    served = h.get(f"/fdx/v6/accounts/{with_txns}/transactions", token)
    refused = h.get(f"/fdx/v6/accounts/{without}/transactions", token)

    assert 200 == served.status_code, served.text
    fdx_validate(served.json(), "Transactionsentity")
    assert_fdx_error(refused, 403, "602", fdx_validate)


def test_a_malformed_dpop_token_is_challenged_with_dpop_even_under_sandbox(h, fdx_validate):
    """RFC 9449 §7.1: a request made with the DPoP scheme is answered with a DPoP challenge,
    also where Bearer tokens are accepted."""
    h.grant()

    response = h.get(ACCOUNT, None, headers={"Authorization": "DPoP not-a-jwt"})

    assert_fdx_error(response, 401, "603", fdx_validate)
    assert response.headers["www-authenticate"].startswith('DPoP error="invalid_token"')


def test_the_words_access_token_in_a_query_value_are_no_token(h):
    """Only an access_token parameter is refused; the text elsewhere in the query is not."""
    _, token = h.grant()

    response = h.get(f"{ACCOUNT}?note=access_token", token)

    assert 200 == response.status_code


def test_only_the_content_type_header_says_a_body_is_a_form(h):
    """Another header carrying the form media type is not mistaken for Content-Type."""
    _, token = h.grant()

    response = h.get(ACCOUNT, token, headers={"Accept": "application/x-www-form-urlencoded"})

    assert 200 == response.status_code


@pytest.mark.parametrize("case", ["query-token", "client-credentials", "suspended"])
def test_each_refusal_says_why_in_its_debug_message(h, fdx_validate, case):
    """401/603 has many causes: debugMessage names the one at hand, for the client's
    developer (never a token or customer data)."""
    consent, token = h.grant()
    if case == "query-token":
        response = h.get(f"{ACCOUNT}?access_token={token}", None)
        expected = "access token must be sent in the Authorization header"
    elif case == "client-credentials":
        bare, _ = h.services.tokens.issue(
            consent_id=None, client_id=consent.client_id, sub="x", scope="fdx:consents:manage"
        )
        response = h.get(ACCOUNT, bare)
        expected = "a client-credentials token opens no customer data"
    else:
        h.register(consent.client_id, status="suspended")
        response = h.get(ACCOUNT, token)
        expected = "the data recipient is not active (suspended or deregistered)"

    body = assert_fdx_error(response, 401, "603", fdx_validate)
    assert expected == body["debugMessage"]

"""The protocol side of a decision: the code minted and stored with the consent, or nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from authz.authorization import SignedIn, callback_url, finish_interaction, refuse_interaction
from authz.consent import lifecycle
from authz.pushed import AuthorizationCode, ConsentRequest, PushedRequest
from authz.records import ConsentStatus, DurationType
from authz.services import Services
from authz.store.base import Kind, RecordsUnavailable
from tests.authz.oauth.conftest import CLIENT_ID, ISSUER, REDIRECT, Harness, run

ASKED = ConsentRequest(DurationType.ONE_TIME, None, None, ("ACCOUNT_BASIC",))


def _pushed(**overrides: Any) -> PushedRequest:
    fields: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT + "?app=1",
        "state": "st-1",
        "scope": ("fdx:accountbasic:read",),
        "code_challenge": "c" * 43,
        "consent": ASKED,
        "created_at": 0.0,
        "nonce": "n-1",
        "dpop_jkt": "jkt-1",
    }
    return PushedRequest(**{**fields, **overrides})


def _granted(services: Services, pushed: PushedRequest) -> tuple[Any, Any]:
    return lifecycle.grant(
        consent_id=str(uuid.uuid4()),
        request=pushed.consent,
        requested_scope=pushed.scope,
        client_id=pushed.client_id,
        customer_id="cust-1",
        account_ids=["acc-1"],
        optional_clusters=(),
        purpose="budgeting",
        now=services.clock(),
        settings=services.settings,
        policy=services.policy,
    )


def test_a_grant_redirects_with_a_stored_code_for_the_stored_consent(oauth: Harness) -> None:
    """RFC 6749 §4.1.2: code and state on the client's URI (its query kept), iss (RFC 9207);
    the code carries what the token endpoint needs: consent, PKCE, DPoP key, sign-in."""
    services, pushed = oauth.services, _pushed()
    consent, event = _granted(services, pushed)
    who = SignedIn("cust-1", auth_time=1.0, acr="urn:acr:mfa", amr=("pwd", "otp"))

    url = run(finish_interaction, services, pushed, who, consent, event)

    query = parse_qs(urlsplit(url).query)
    assert url.startswith(REDIRECT + "?")
    assert (["1"], ["st-1"], [ISSUER]) == (query["app"], query["state"], query["iss"])
    stored = run(services.state.consume, Kind.CODE, query["code"][0])
    assert stored is not None
    code = AuthorizationCode.from_dict(stored)
    assert (consent.id, "cust-1", "jkt-1", "n-1") == (
        code.consent_id,
        code.customer_id,
        code.dpop_jkt,
        code.nonce,
    )
    assert (1.0, "urn:acr:mfa", ("pwd", "otp")) == (code.auth_time, code.acr, code.amr)
    stored_consent = run(services.records.consents.get, consent.id)
    assert stored_consent is not None
    assert ConsentStatus.ACTIVE is stored_consent.status


@dataclass
class _Down:
    """A consents family whose writes and reads both fail: nobody can know."""

    async def create(self, *_: Any) -> None:
        raise RecordsUnavailable("down")

    async def get(self, *_: Any) -> None:
        raise RecordsUnavailable("down")


def test_a_consent_that_cannot_be_stored_takes_its_code_with_it(oauth: Harness) -> None:
    """The code is stored first; when the consent then fails, the code is deleted and the
    outage propagates, so nothing is left that could be redeemed."""
    services, pushed = oauth.services, _pushed()
    consent, event = _granted(services, pushed)
    put: list[str] = []
    state = services.state

    class Watched:
        def __getattr__(self, name: str) -> Any:
            return getattr(state, name)

        async def put(self, kind: Kind, key: str, *args: Any, **kwargs: Any) -> None:
            put.append(key)
            await state.put(kind, key, *args, **kwargs)

    down = replace(
        services,
        state=Watched(),
        records=replace(services.records, consents=_Down()),  # type: ignore[arg-type]
    )

    with pytest.raises(RecordsUnavailable):
        run(finish_interaction, down, pushed, SignedIn("cust-1"), consent, event)

    assert 1 == len(put)
    assert run(state.consume, Kind.CODE, put[0]) is None


def test_a_refusal_is_stored_and_the_client_told_access_denied(oauth: Harness) -> None:
    """RFC 6749 §4.1.2.1: ``error=access_denied`` with state and iss; no code anywhere."""
    services, pushed = oauth.services, _pushed(state=None)
    consent, event = lifecycle.deny(
        consent_id="refused-1",
        request=ASKED,
        client_id=CLIENT_ID,
        customer_id="cust-1",
        purpose="budgeting",
        now=services.clock(),
    )

    url = run(refuse_interaction, services, pushed, consent, event)

    query = parse_qs(urlsplit(url).query)
    assert {"app": ["1"], "error": ["access_denied"], "iss": [ISSUER]} == query
    assert run(services.records.consents.get, "refused-1") is not None


def test_the_callback_keeps_the_registered_query_and_drops_a_fragment() -> None:
    """RFC 6749 §3.1.2: the query component is retained; None values are left out."""
    url = callback_url("https://app.example/cb?x=1#frag", {"code": "c", "state": None})

    assert "https://app.example/cb?x=1&code=c" == url

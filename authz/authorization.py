"""The end of an authorization request: the consumer's decision becomes the client's redirect.

The screens (authz/screens/) sign the consumer in and ask; they decide, and hand the decision to
this module, the protocol side (node-oidc-provider's ``interactionFinished``). Here the
authorization code is minted and stored, the consent stored beside it, and the redirect back to
the client built (RFC 6749 §4.1.2, with ``iss`` of RFC 9207). So the code's whole life sits in
the protocol layer: minted here, redeemed at the token endpoint (authz/token_endpoint.py).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from authz.consent import lifecycle
from authz.consent.book import ConsentBook
from authz.pushed import AuthorizationCode, PushedRequest
from authz.records import Consent, ConsentEvent
from authz.store.base import Kind, StateStore


class CodeIssuer(ConsentBook, Protocol):
    """What finishing an authorization uses: the consent book, and the state store that keeps
    authorization codes until they are redeemed."""

    @property
    def state(self) -> StateStore: ...


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who approved, and how they signed in (OIDC Core §2: ``auth_time``, ``acr``, ``amr``)."""

    customer_id: str
    auth_time: float | None = None
    acr: str | None = None
    amr: tuple[str, ...] = ()


async def finish_interaction(
    issuer: CodeIssuer,
    request: PushedRequest,
    who: SignedIn,
    consent: Consent,
    event: ConsentEvent,
) -> str:
    """The consumer granted ``consent`` (``event``: its grant): store a fresh authorization code
    and the consent, and return the redirect that carries the code to the client."""
    code = secrets.token_urlsafe(32)
    grant = AuthorizationCode(
        client_id=request.client_id,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        consent_id=consent.id,
        customer_id=who.customer_id,
        scope=consent.scope,
        issued_at=event.time,
        nonce=request.nonce,
        auth_time=who.auth_time,
        dpop_jkt=request.dpop_jkt,
        acr=who.acr,
        amr=who.amr,
    )
    # A grant completes or leaves nothing behind (docs/operations.md, "Faults"): the code is
    # stored first and the consent second, so a store that fails on the way never leaves an
    # ACTIVE consent its recipient can never obtain. A code whose consent was not stored is
    # deleted (and could not be exchanged anyway: the token endpoint finds no consent). The
    # outage itself propagates: 503, the consumer starts again (gateway/outage.py). A commit
    # whose acknowledgement was lost is read back by store_grant: stored means granted.
    settings = issuer.settings
    await issuer.state.put(Kind.CODE, code, grant.to_dict(), ttl=settings.code_ttl)
    try:
        await lifecycle.store_grant(issuer, consent, event)
    except BaseException:
        with contextlib.suppress(Exception):
            await issuer.state.delete(Kind.CODE, code)
        raise
    return callback_url(
        request.redirect_uri, {"code": code, "state": request.state, "iss": settings.issuer}
    )


async def refuse_interaction(
    book: ConsentBook, request: PushedRequest, consent: Consent, event: ConsentEvent
) -> str:
    """The consumer refused: the refusal is stored (a record too, 12 CFR 1033.351; a lost
    commit acknowledgement is read back, as for a grant) and the client told ``access_denied``
    (RFC 6749 §4.1.2.1)."""
    await lifecycle.store_grant(book, consent, event)
    params = {"error": "access_denied", "state": request.state, "iss": book.settings.issuer}
    return callback_url(request.redirect_uri, params)


def callback_url(redirect_uri: str, params: Mapping[str, str | None]) -> str:
    """``redirect_uri`` with ``params`` added to the query it already has (RFC 6749 §3.1.2: the
    query component is retained); None values are left out."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


__all__ = ["CodeIssuer", "SignedIn", "callback_url", "finish_interaction", "refuse_interaction"]

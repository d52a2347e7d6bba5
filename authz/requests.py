"""What flows between the authorization endpoints: a pushed request and an authorization code.

PAR (``authz/par.py``) validates and stores a ``PushedRequest`` under its request_uri; the
authorize / login / consent screens (``authz/screens``) load it, ask the consumer, store the
consent and an ``AuthorizationCode``; the token endpoint consumes the code. Both travel through
the StateStore as plain dicts (``to_dict``/``from_dict``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authz.consent.model import DurationType

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"  # RFC 9126 §2.2


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """An FDX ``consentRequest`` (RFC 9396 ``authorization_details`` type ``fdx_v1.0``), validated
    against the policy file and the client's registered limits. ``clusters`` are required by the
    recipient; ``optional_clusters`` may be unticked by the consumer (our extension
    ``optionalDataClusters`` on a requested resource). ``purpose`` is our extension too; without it
    the screen shows the client's registered description."""

    duration_type: DurationType
    duration_period: int | None
    lookback_period: int | None
    clusters: tuple[str, ...]
    optional_clusters: tuple[str, ...] = ()
    purpose: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_type": self.duration_type.value,
            "duration_period": self.duration_period,
            "lookback_period": self.lookback_period,
            "clusters": list(self.clusters),
            "optional_clusters": list(self.optional_clusters),
            "purpose": self.purpose,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ConsentRequest:
        return cls(
            duration_type=DurationType(d["duration_type"]),
            duration_period=d["duration_period"],
            lookback_period=d["lookback_period"],
            clusters=tuple(d["clusters"]),
            optional_clusters=tuple(d.get("optional_clusters", ())),
            purpose=d.get("purpose"),
        )


@dataclass(frozen=True, slots=True)
class PushedRequest:
    client_id: str
    redirect_uri: str
    state: str | None
    scope: tuple[str, ...]  # as requested (openid, offline_access, fdx:…)
    code_challenge: str  # S256 only (FAPI 2.0)
    consent: ConsentRequest
    created_at: float
    nonce: str | None = None  # OIDC Core §3.1.2.1, echoed in the ID token
    dpop_jkt: str | None = None  # RFC 9449 §10: only this DPoP key may redeem the code
    # OIDC Core §3.1.2.1: forwarded to the bank's OP (login = "oidc") and enforced on its answer.
    max_age: int | None = None
    acr_values: tuple[str, ...] = ()
    # OIDC Core §3.1.2.1 prompt: "login" signs in again, "none" is refused (a consent screen
    # always follows); "consent" and "select_account" change nothing here.
    prompt: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "scope": list(self.scope),
            "code_challenge": self.code_challenge,
            "consent": self.consent.to_dict(),
            "created_at": self.created_at,
            "nonce": self.nonce,
            "dpop_jkt": self.dpop_jkt,
            "max_age": self.max_age,
            "acr_values": list(self.acr_values),
            "prompt": list(self.prompt),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PushedRequest:
        return cls(
            client_id=d["client_id"],
            redirect_uri=d["redirect_uri"],
            state=d.get("state"),
            scope=tuple(d["scope"]),
            code_challenge=d["code_challenge"],
            consent=ConsentRequest.from_dict(d["consent"]),
            created_at=d["created_at"],
            nonce=d.get("nonce"),
            dpop_jkt=d.get("dpop_jkt"),
            max_age=d.get("max_age"),
            acr_values=tuple(d.get("acr_values") or ()),
            prompt=tuple(d.get("prompt") or ()),
        )


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    client_id: str
    redirect_uri: str
    code_challenge: str
    consent_id: str
    customer_id: str
    scope: tuple[str, ...]  # granted: fdx scopes of the consented clusters (+ openid…)
    issued_at: float
    nonce: str | None = None  # from the pushed request, for the ID token
    auth_time: float | None = None  # when the consumer signed in (OIDC Core §2 auth_time)
    dpop_jkt: str | None = None  # from the pushed request (RFC 9449 §10)
    acr: str | None = None  # how the consumer signed in (OIDC Core §2 acr, amr)
    amr: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.code_challenge,
            "consent_id": self.consent_id,
            "customer_id": self.customer_id,
            "scope": list(self.scope),
            "issued_at": self.issued_at,
            "nonce": self.nonce,
            "auth_time": self.auth_time,
            "dpop_jkt": self.dpop_jkt,
            "acr": self.acr,
            "amr": list(self.amr),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AuthorizationCode:
        return cls(
            client_id=d["client_id"],
            redirect_uri=d["redirect_uri"],
            code_challenge=d["code_challenge"],
            consent_id=d["consent_id"],
            customer_id=d["customer_id"],
            scope=tuple(d["scope"]),
            issued_at=d["issued_at"],
            nonce=d.get("nonce"),
            auth_time=d.get("auth_time"),
            dpop_jkt=d.get("dpop_jkt"),
            acr=d.get("acr"),
            amr=tuple(d.get("amr") or ()),
        )

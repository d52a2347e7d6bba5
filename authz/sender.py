"""Sender-constrained tokens: what binds a token at issue, and what a resource server checks.

FAPI 2.0 §5.3.2.1 and §5.3.3 (the ``fapi2`` profile, the default): every access token is bound
to a key the client holds, by DPoP (RFC 9449, ``cnf.jkt``) or by its TLS client certificate
(RFC 8705, ``cnf.x5t#S256``), and the resource servers (the FDX API, the Consent API, userinfo)
accept no other. The ``sandbox`` profile also issues and accepts Bearer tokens when the client
sends no proof, for local development.

``bind`` runs at the token endpoint and PAR; ``confirm`` on every resource call, after the token
itself has been verified. The request URL a proof must name is built from the configured issuer
and the request path, never from the Host header a client controls.

``Challenge`` writes every resource server's ``WWW-Authenticate`` (RFC 6750 §3, RFC 9449 §7.1),
and ``challenge_algs`` picks its scheme: the token's own (``DPoP`` for a DPoP-bound token,
``Bearer`` for a certificate-bound one, RFC 8705 §3), else the presented scheme or the profile.
A ``DPoP`` challenge always lists the accepted proof algorithms as ``algs``, as the metadata's
``dpop_signing_alg_values_supported`` does.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.requests import Request

from authz.dpop import (
    USE_NONCE,
    DpopError,
    DpopVerifier,
    NonceHeaderMiddleware,
    Nonces,
    normalise_uri,
)
from authz.errors import InvalidDpopProofError, InvalidRequestError, UseDpopNonceError
from authz.mtls import CertificateError, ClientCertificates
from authz.store.base import StateStore
from authz.tokens import AccessClaims, Clock
from config.settings import Settings

DPOP_HEADER = "dpop"
INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code, not a secret)


@dataclass(frozen=True, slots=True)
class Binding:
    """What a token being issued is bound to: a DPoP key, a client certificate, or nothing."""

    jkt: str | None = None
    x5t: str | None = None

    @property
    def token_type(self) -> str:
        """RFC 9449 §5: ``DPoP`` for a DPoP-bound token; RFC 8705 keeps ``Bearer``."""
        return "DPoP" if self.jkt is not None else "Bearer"


@dataclass(frozen=True, slots=True)
class Challenge:
    """A resource server's ``WWW-Authenticate``: an RFC 6750 §3.1 ``error`` (none for a request
    without credentials), the ``scope`` a 403 lacks; ``dpop_only`` for the errors only DPoP has
    (``invalid_dpop_proof``, ``use_dpop_nonce``)."""

    error: str | None = None
    scope: str | None = None
    dpop_only: bool = False

    def header(self, dpop_algs: Sequence[str] | None) -> str:
        """The header value: ``DPoP`` with ``algs`` when ``dpop_algs`` is given (RFC 9449 §7.1),
        else ``Bearer``."""
        named = (("error", self.error), ("scope", self.scope))
        params = [f'{name}="{value}"' for name, value in named if value]
        if dpop_algs is None and not self.dpop_only:
            scheme = "Bearer"
        else:
            scheme = "DPoP"
            if dpop_algs:
                params.append(f'algs="{" ".join(dpop_algs)}"')
        return f"{scheme} {', '.join(params)}" if params else scheme


class SenderRefused(Exception):
    """A resource call whose token is not presented as its binding demands. ``error`` is the
    ``WWW-Authenticate`` error code; ``dpop`` says the challenge scheme is ``DPoP``; ``nonce``
    is the server nonce to send back with ``use_dpop_nonce``."""

    def __init__(
        self, error: str, description: str, *, dpop: bool = True, nonce: str | None = None
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.dpop = dpop
        self.nonce = nonce


class SenderConstraint:
    """The profile's rules, the DPoP verifier and the client-certificate reader; one per app."""

    def __init__(
        self, settings: Settings, dpop: DpopVerifier, certificates: ClientCertificates | None
    ) -> None:
        self.required = settings.profile == "fapi2"
        self.dpop = dpop
        self.certificates = certificates
        base = normalise_uri(settings.issuer)
        assert base is not None  # Settings refuses any other issuer
        self._base = base.rstrip("/")

    @classmethod
    def build(
        cls, settings: Settings, *, state: StateStore, clock: Clock, secret: bytes
    ) -> SenderConstraint:
        nonces = None
        if settings.dpop_nonce_required:
            nonces = Nonces(secret, lifetime=settings.dpop_nonce_lifetime, clock=clock)
        verifier = DpopVerifier(
            state,
            algorithms=settings.dpop_algorithms,
            window=settings.dpop_proof_window,
            nonces=nonces,
            clock=clock,
        )
        certificates = None
        if settings.mtls_client_cert_header:
            certificates = ClientCertificates(
                settings.mtls_client_cert_header, settings.trusted_proxies
            )
        return cls(settings, verifier, certificates)

    def target(self, request: Request) -> str:
        """The URL a proof's ``htu`` must name: the issuer's origin and path + this path."""
        path: str = request.scope["path"]
        return self._base + path

    def challenge_algs(
        self, scheme: str | None, claims: AccessClaims | None
    ) -> tuple[str, ...] | None:
        """The proof algorithms to list when a refusal is challenged with ``DPoP``, None when it
        is challenged with ``Bearer``. ``scheme`` is the presented Authorization scheme (lower
        case), ``claims`` the verified token's, each None while not known."""
        if claims is not None and claims.jkt is None and claims.x5t is not None:
            return None  # RFC 8705 §3: a certificate-bound token is a Bearer token
        dpop = (claims is not None and claims.jkt is not None) or scheme == "dpop"
        return self.dpop.algorithms if dpop or self.required else None

    def resource_middleware(self) -> list[Middleware]:
        """For a resource server's mount: a fresh ``DPoP-Nonce`` on every response when nonces
        are required (RFC 9449 §9); nothing otherwise, so the hot path pays nothing."""
        nonces = self.dpop.nonces
        return [] if nonces is None else [Middleware(NonceHeaderMiddleware, nonces=nonces)]

    def nonce_headers(self) -> dict[str, str]:
        """``DPoP-Nonce`` for a successful response, when nonces are required (§8, §9)."""
        nonce = self.dpop.fresh_nonce()
        return {} if nonce is None else {"DPoP-Nonce": nonce}

    async def bind(self, request: Request, *, required: bool = True) -> Binding:
        """The token endpoint (and PAR, with ``required`` False): the key of the request's DPoP
        proof, else the forwarded client certificate; under fapi2 one of them must be there.
        Raises OAuth errors (``invalid_dpop_proof``, ``use_dpop_nonce``, ``invalid_request``)."""
        proofs = request.headers.getlist(DPOP_HEADER)
        if proofs:
            try:
                proof = await self.dpop.verify(
                    proofs, method=request.method, url=self.target(request)
                )
            except DpopError as exc:
                if exc.error == USE_NONCE and exc.nonce is not None:
                    raise UseDpopNonceError(exc.nonce, exc.description) from None
                raise InvalidDpopProofError(description=exc.description) from None
            return Binding(jkt=proof.jkt)
        x5t = self._certificate(request)
        if x5t is not None:
            return Binding(x5t=x5t)
        if required and self.required:
            raise InvalidDpopProofError(
                description="a DPoP proof is required: FAPI 2.0 issues only sender-constrained"
                " tokens (DPoP, or a TLS client certificate where the bank offers mTLS)"
            )
        return Binding()

    async def confirm(
        self, request: Request, scheme: str, token: str, claims: AccessClaims
    ) -> None:
        """A resource call: the token came with the proof its binding demands (``scheme`` is
        the Authorization scheme in lower case). Raises ``SenderRefused``."""
        if claims.jkt is not None:
            if scheme != "dpop":
                # RFC 9449 §7.1: a DPoP-bound token sent as a Bearer token is refused.
                raise SenderRefused(INVALID_TOKEN, "a DPoP-bound token needs Authorization: DPoP")
            try:
                await self.dpop.verify(
                    request.headers.getlist(DPOP_HEADER),
                    method=request.method,
                    url=self.target(request),
                    access_token=token,
                    jkt=claims.jkt,
                )
            except DpopError as exc:
                raise SenderRefused(exc.error, exc.description, nonce=exc.nonce) from None
        elif scheme == "dpop":
            raise SenderRefused(INVALID_TOKEN, "the access token is not DPoP-bound")
        if claims.x5t is not None:
            presented = self._resource_certificate(request)
            if presented is None or not hmac.compare_digest(presented, claims.x5t):
                # RFC 8705 §3: the certificate of this connection must be the token's.
                raise SenderRefused(
                    INVALID_TOKEN, "the token is bound to another client certificate", dpop=False
                )
        if self.required and not claims.bound:
            raise SenderRefused(
                INVALID_TOKEN, "FAPI 2.0 accepts only sender-constrained tokens (DPoP or mTLS)"
            )

    def _certificate(self, request: Request) -> str | None:
        if self.certificates is None:
            return None
        try:
            return self.certificates.thumbprint(request)
        except CertificateError as exc:
            raise InvalidRequestError(description=str(exc)) from None

    def _resource_certificate(self, request: Request) -> str | None:
        if self.certificates is None:
            return None
        try:
            return self.certificates.thumbprint(request)
        except CertificateError:
            return None

"""mTLS certificate-bound tokens (RFC 8705 §3) behind a TLS-terminating proxy: the proxy forwards
the client certificate in a header, believed only from the configured proxy addresses."""

from __future__ import annotations

import base64
import datetime
import hashlib
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc import jwt
from starlette.testclient import TestClient

from authz.mtls import CertificateError, certificate_thumbprint
from config.settings import Settings, SettingsError
from tests.authz.dpop.conftest import World, WorldFactory
from tests.authz.oauth.conftest import ISSUER

HEADER = "x-ssl-client-cert"
PROXY = ("10.0.0.7", 443)
MTLS = {"mtls_client_cert_header": HEADER, "trusted_proxies": ("10.0.0.0/24",)}


def self_signed(name: str) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def forwarded(cert: x509.Certificate) -> str:
    """As nginx's $ssl_client_escaped_cert forwards it: URL-encoded PEM."""
    return quote(cert.public_bytes(Encoding.PEM).decode())


def x5t(cert: x509.Certificate) -> str:
    digest = hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


CERT, OTHER_CERT = self_signed("budget-app"), self_signed("someone-else")


def cert_bound_token(world: World, cert: x509.Certificate = CERT) -> dict[str, str]:
    code, verifier = world.code(world.consent())
    form = world.auth(
        grant_type="authorization_code",
        code=code,
        redirect_uri="https://app.example.com/callback",
        code_verifier=verifier,
    )
    response = world.http.post("/oauth/token", data=form, headers={HEADER: forwarded(cert)})
    assert 200 == response.status_code, response.text
    body: dict[str, str] = response.json()
    return body


def accounts(world: World, token: str, cert: x509.Certificate | None) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    if cert is not None:
        headers[HEADER] = forwarded(cert)
    return int(world.http.get("/fdx/v6/accounts", headers=headers).status_code)


def test_a_certificate_from_the_trusted_proxy_binds_the_token(worlds: WorldFactory) -> None:
    """cnf.x5t#S256 is the SHA-256 of the certificate's DER; token_type stays Bearer."""
    world = worlds(client=PROXY, **MTLS)

    body = cert_bound_token(world)

    claims = jwt.decode(body["access_token"], world.services.keys.all, algorithms=["ES256"])
    assert {"x5t#S256": x5t(CERT)} == claims.claims["cnf"]
    assert "Bearer" == body["token_type"]


def test_the_bound_token_works_only_with_its_certificate(worlds: WorldFactory) -> None:
    """RFC 8705 §3: with the same certificate 200; without one, or with another, 401."""
    world = worlds(client=PROXY, **MTLS)
    token = cert_bound_token(world)["access_token"]

    statuses = [accounts(world, token, c) for c in (CERT, None, OTHER_CERT)]

    assert [200, 401, 401] == statuses


def test_introspection_reports_the_certificate_binding(worlds: WorldFactory) -> None:
    """RFC 8705 §3.2: cnf.x5t#S256 in the introspection answer."""
    world = worlds(client=PROXY, **MTLS)
    token = cert_bound_token(world)["access_token"]

    answer = world.post("/oauth/introspect", world.auth(token=token)).json()

    assert {"x5t#S256": x5t(CERT)} == answer["cnf"]


def test_the_header_from_an_untrusted_address_is_ignored(worlds: WorldFactory) -> None:
    """From outside the proxy CIDRs anyone could set the header: no binding, so fapi2 refuses."""
    world = worlds(client=("192.0.2.9", 5000), **MTLS)
    code, verifier = world.code(world.consent())
    form = world.auth(
        grant_type="authorization_code",
        code=code,
        redirect_uri="https://app.example.com/callback",
        code_verifier=verifier,
    )

    response = world.http.post("/oauth/token", data=form, headers={HEADER: forwarded(CERT)})

    assert (400, "invalid_dpop_proof") == (response.status_code, response.json()["error"])


def test_a_forged_header_cannot_satisfy_a_bound_token(worlds: WorldFactory) -> None:
    """A token bound through the proxy, replayed directly with a copied certificate header from
    an untrusted address, is refused: the header is stripped, not believed."""
    bound = worlds(client=PROXY, **MTLS)
    token = cert_bound_token(bound)["access_token"]
    headers = {"Authorization": f"Bearer {token}", HEADER: forwarded(CERT)}
    # The same gateway, reached around the proxy.
    with TestClient(bound.http.app, base_url=ISSUER, client=("192.0.2.9", 5000)) as direct:
        around = direct.get("/fdx/v6/accounts", headers=headers)

    assert 200 == accounts(bound, token, CERT)
    assert 401 == around.status_code


def test_a_malformed_certificate_is_refused_at_the_token_endpoint(worlds: WorldFactory) -> None:
    """Garbage from the proxy is a clear invalid_request, never a 500."""
    world = worlds(client=PROXY, **MTLS)
    form = world.auth(grant_type="client_credentials")

    response = world.http.post("/oauth/token", data=form, headers={HEADER: "not%20a%20cert"})

    assert (400, "invalid_request") == (response.status_code, response.json()["error"])


def test_dpop_wins_when_both_are_presented(worlds: WorldFactory) -> None:
    """One binding per token: a proof, when sent, is what binds."""
    world = worlds(client=PROXY, **MTLS)
    form = world.auth(grant_type="client_credentials")

    response = world.http.post(
        "/oauth/token", data=form, headers={HEADER: forwarded(CERT), "DPoP": world.proof()}
    )

    assert "DPoP" == response.json()["token_type"]


def test_discovery_advertises_certificate_bound_tokens(worlds: WorldFactory) -> None:
    """RFC 8705 §3.3, only when the deployment forwards certificates."""
    world = worlds(client=PROXY, **MTLS)

    doc = world.http.get("/.well-known/oauth-authorization-server").json()

    assert doc["tls_client_certificate_bound_access_tokens"] is True


def test_a_plain_pem_certificate_has_the_same_thumbprint() -> None:
    """Proxies that forward PEM unescaped are read the same way."""
    pem = CERT.public_bytes(Encoding.PEM).decode()

    assert x5t(CERT) == certificate_thumbprint(pem) == certificate_thumbprint(quote(pem))


def test_a_thumbprint_needs_a_certificate() -> None:
    """A PEM of something else (or nothing) is a CertificateError."""
    with pytest.raises(CertificateError):
        certificate_thumbprint("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"mtls_client_cert_header": HEADER}, "needs trusted_proxies"),
        ({"mtls_client_cert_header": "bad header", "trusted_proxies": ("10.0.0.1",)}, "header"),
        ({"mtls_client_cert_header": HEADER, "trusted_proxies": ("10.0.0.300",)}, "CIDRs"),
    ],
    ids=["no-proxies", "bad-header-name", "bad-cidr"],
)
def test_settings_refuse_an_unsafe_mtls_configuration(values: dict[str, Any], problem: str) -> None:
    """A forwarded certificate is only as good as the proxy that forwards it."""
    with pytest.raises(SettingsError, match=problem):
        Settings(**values)


def test_the_header_name_is_case_insensitive() -> None:
    """X-SSL-Client-Cert and x-ssl-client-cert are the same header."""
    settings = Settings(mtls_client_cert_header="X-SSL-Client-Cert", trusted_proxies=("::1",))

    assert HEADER == settings.mtls_client_cert_header


def _refusal(world: World, method: str, path: str, token: str, cert: Any) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if cert is not None:
        headers[HEADER] = forwarded(cert)
    response = world.http.request(method, path, headers=headers)
    return response.status_code, response.headers.get("www-authenticate", "")


def test_a_certificate_bound_token_is_challenged_with_bearer(worlds: WorldFactory) -> None:
    """RFC 8705 tokens are Bearer tokens: their refusals on userinfo (401 without the
    certificate, 403 without openid) and on the Consent API (403 insufficient_scope) name the
    Bearer scheme, never DPoP, though the fapi2 profile challenges token-less calls with DPoP."""
    world = worlds(client=PROXY, **MTLS)
    body = cert_bound_token(world)
    token, consent = body["access_token"], world.get_consent().id

    refusals = [
        _refusal(world, "GET", "/oauth/userinfo", token, None),
        _refusal(world, "GET", "/oauth/userinfo", token, CERT),
        _refusal(world, "GET", f"/fdx/v6/consents/{consent}", token, CERT),
        _refusal(world, "GET", "/fdx/v6/accounts", token, None),
    ]

    assert [
        (401, 'Bearer error="invalid_token"'),
        (403, 'Bearer error="insufficient_scope"'),
        (403, 'Bearer error="insufficient_scope", scope="fdx:consents:manage"'),
        (401, 'Bearer error="invalid_token"'),
    ] == refusals

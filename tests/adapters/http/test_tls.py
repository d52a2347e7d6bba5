"""mTLS to the core: the adapter presents the client certificate from its config."""

from __future__ import annotations

import ipaddress
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.errors import BankUnavailable
from adapters.http import HttpBank, HttpCoreConfig
from adapters.http.reference_core import ReferenceCore, serve
from adapters.sandbox import SandboxBank
from tests.adapters.http.conftest import TODAY

pytestmark = pytest.mark.anyio


def _issue(
    name: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None, *, ca: bool = False
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, signer = issuer if issuer else (subject, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signer, hashes.SHA256()), key


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    ca_cert, ca_key = _issue("Test Core CA", None, ca=True)
    _write(tmp_path / "ca", ca_cert, ca_key)
    for name in ("server", "client"):
        cert, key = _issue(f"{name}.test", (ca_cert.subject, ca_key))
        _write(tmp_path / name, cert, key)
    return tmp_path


async def _core(pki: Path) -> tuple[web.AppRunner, int]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki / "ca.pem"))
    context.verify_mode = ssl.CERT_REQUIRED  # the core insists on a client certificate
    context.load_cert_chain(pki / "server.pem", pki / "server.key")
    return await serve(ReferenceCore(SandboxBank(today=TODAY)), ssl_context=context)


async def test_the_client_certificate_opens_the_core(pki: Path) -> None:
    """With client_cert/client_key and the core's CA, calls go through over TLS."""
    runner, port = await _core(pki)
    config = HttpCoreConfig(
        base_url=f"https://127.0.0.1:{port}",
        ca_file=str(pki / "ca.pem"),
        client_cert=str(pki / "client.pem"),
        client_key=str(pki / "client.key"),
    )
    bank = HttpBank(config)
    try:
        customer = await bank.authenticate("alice", "sandbox-alice")
        assert customer is not None
        assert await bank.list_accounts(customer.customer_id)
    finally:
        await bank.aclose()
        await runner.cleanup()


async def test_without_a_client_certificate_the_core_is_unavailable(pki: Path) -> None:
    """No client certificate: the handshake fails and that is BankUnavailable."""
    runner, port = await _core(pki)
    config = HttpCoreConfig(
        base_url=f"https://127.0.0.1:{port}", ca_file=str(pki / "ca.pem"), retries=0
    )
    bank = HttpBank(config)
    try:
        with pytest.raises(BankUnavailable):
            await bank.authenticate("alice", "sandbox-alice")
    finally:
        await bank.aclose()
        await runner.cleanup()


async def test_a_core_certificate_from_another_ca_is_refused(pki: Path, tmp_path: Path) -> None:
    """The adapter trusts only ca_file: a core with another CA's certificate is unavailable."""
    runner, port = await _core(pki)
    other, key = _issue("Other CA", None, ca=True)
    (tmp_path / "other").mkdir()
    _write(tmp_path / "other" / "ca", other, key)
    config = HttpCoreConfig(
        base_url=f"https://127.0.0.1:{port}",
        ca_file=str(tmp_path / "other" / "ca.pem"),
        client_cert=str(pki / "client.pem"),
        client_key=str(pki / "client.key"),
        retries=0,
    )
    bank = HttpBank(config)
    try:
        with pytest.raises(BankUnavailable):
            await bank.list_accounts("cus_x")
    finally:
        await bank.aclose()
        await runner.cleanup()

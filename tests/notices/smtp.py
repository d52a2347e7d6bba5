"""A real SMTP server (aiosmtpd) on 127.0.0.1, port 0, in the test's own event loop; and
servers that misbehave: one that refuses connections, one that drops them."""

from __future__ import annotations

import asyncio
import email
import ipaddress
import socket
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Mailbox:
    """What the server received, and how it answers: ``rcpt_answers`` / ``data_answers`` are
    the replies to the next RCPT / DATA commands (then it accepts)."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_answers: list[str] = field(default_factory=list)
    data_answers: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_answers:
            return self.data_answers.pop(0)
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    url: str
    mailbox: Mailbox
    server: asyncio.AbstractServer

    async def aclose(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def start_smtp(mailbox: Mailbox | None = None) -> SmtpServer:
    box = mailbox or Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(box, hostname="smtp.test", loop=loop), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    return SmtpServer(f"smtp://127.0.0.1:{port}", box, server)


async def start_dropper(*, greet: bool) -> SmtpServer:
    """Accepts, then drops the connection: at once (``greet`` False) or after the greeting and
    the client's first command."""

    async def drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if greet:
            writer.write(b"220 smtp.test ESMTP\r\n")
            await writer.drain()
            await reader.readline()
        writer.close()

    server = await asyncio.start_server(drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return SmtpServer(f"smtp://127.0.0.1:{port}", Mailbox(), server)


def refusing_url() -> str:
    """An address where nothing listens: connections are refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"smtp://127.0.0.1:{port}"


@dataclass
class Certificate:
    """A self-signed certificate for 127.0.0.1 and the contexts that serve and trust it."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def self_signed(directory: Path) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp.crt", directory / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return Certificate(server, client)


async def start_tls_smtp(cert: Certificate, *, implicit: bool) -> SmtpServer:
    """smtps (TLS from the first byte) when ``implicit``, else STARTTLS required."""
    box = Mailbox()
    loop = asyncio.get_running_loop()
    if implicit:
        server = await loop.create_server(
            lambda: SMTP(box, hostname="smtp.test", loop=loop),
            "127.0.0.1",
            0,
            ssl=cert.server,
        )
        scheme = "smtps"
    else:
        server = await loop.create_server(
            lambda: SMTP(
                box, hostname="smtp.test", tls_context=cert.server, require_starttls=True, loop=loop
            ),
            "127.0.0.1",
            0,
        )
        scheme = "smtp+starttls"
    port = server.sockets[0].getsockname()[1]
    return SmtpServer(f"{scheme}://127.0.0.1:{port}", box, server)

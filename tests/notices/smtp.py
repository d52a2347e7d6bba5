"""A real SMTP server (aiosmtpd) on 127.0.0.1, port 0, in the test's own event loop; and
servers that misbehave: one that refuses connections, one that drops them."""

from __future__ import annotations

import asyncio
import email
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


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

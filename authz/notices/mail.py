"""One email to one consumer, sent through SMTP (aiosmtplib), bounded and classified.

``compose`` builds the MIME message: ``multipart/alternative`` with the plain text first and
the HTML second (RFC 2046 §5.1.4: the last part is the richest the reader can show). The HTML
is self-contained: no image, no remote style, nothing fetched when it is opened, so nothing
tells anyone when a consumer reads it.

``SmtpMailer.send`` makes one attempt and says what happened. A 5xx answer to the sender, a
recipient or the data is permanent (RFC 5321 §4.2.1): retrying would not change it, so the
outbox gives the email up. Everything else (a refused or dropped connection, a timeout, a 4xx)
is transient and retried with backoff.
"""

from __future__ import annotations

import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

import aiosmtplib

from config.smtp import SmtpTarget, parse_smtp_url

TIMEOUT = 30.0  # seconds for each SMTP command, the connection included


@dataclass(frozen=True, slots=True)
class Sent:
    ok: bool
    status: str  # the server's code ("250"), or what went wrong ("connect error")
    permanent: bool = False  # a refusal that a retry would not change


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> Sent: ...


def compose(
    *, sender: str, to: str, subject: str, text: str, html: str, now: float
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.fromtimestamp(now, UTC))
    message["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex, domain=sender.rsplit("@", 1)[1])
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to us
    message.set_content(text, subtype="plain", charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message


class SmtpMailer:
    def __init__(
        self,
        smtp_url: str,
        *,
        timeout: float = TIMEOUT,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self._target: SmtpTarget = parse_smtp_url(smtp_url)
        self._timeout = timeout
        self._tls = tls_context

    async def send(self, message: EmailMessage) -> Sent:
        target = self._target
        try:
            _, status = await aiosmtplib.send(
                message,
                hostname=target.host,
                port=target.port,
                username=target.username,
                password=target.password,
                use_tls=target.security == "tls",
                start_tls=True if target.security == "starttls" else False,
                tls_context=self._tls,
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({r.code for r in exc.recipients})
            return _answer(codes[-1] if codes else 550)
        except aiosmtplib.SMTPResponseException as exc:
            return _answer(exc.code)
        except aiosmtplib.SMTPTimeoutError:
            return Sent(False, "timeout")
        except aiosmtplib.SMTPServerDisconnected:
            return Sent(False, "disconnected")
        except aiosmtplib.SMTPConnectError:
            return Sent(False, "connect error")
        except aiosmtplib.SMTPException as exc:
            return Sent(False, type(exc).__name__)
        except (OSError, ssl.SSLError) as exc:
            return Sent(False, type(exc).__name__)
        return Sent(True, status.split(" ", 1)[0] or "250")


def _answer(code: int) -> Sent:
    if 500 <= code < 600:
        return Sent(False, f"refused: {code}", permanent=True)
    return Sent(False, f"deferred: {code}")

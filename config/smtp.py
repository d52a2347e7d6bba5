"""``smtp_url``: where notices to consumers are sent, and how the connection is secured."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

# scheme -> (security, default port). smtp: plain SMTP (RFC 5321), for a relay on the same host
# or network; smtp+starttls: upgraded with STARTTLS (RFC 3207), which must succeed; smtps:
# implicit TLS from the first byte (RFC 8314 §3.3).
SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None = None
    password: str | None = None

    def __repr__(self) -> str:  # never the password, in a log or a traceback
        return f"SmtpTarget({self.security}://{self.host}:{self.port})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """The target ``url`` names; ValueError saying what is wrong (never echoing a password)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in SCHEMES:
        raise ValueError("expected smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("expected SCHEME://host:port with nothing after the port")
    security, default_port = SCHEMES[parts.scheme]
    return SmtpTarget(
        host=parts.hostname,
        port=port if port is not None else default_port,
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )

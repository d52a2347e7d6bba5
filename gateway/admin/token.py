"""The admin API's credential: one bearer token chosen by the bank, stored only as its hash.

``fdxgw admin token`` makes a random token, prints it once and writes its SHA-256 (hex) to
``settings.admin_token_file`` with mode 0600; the token itself is never stored. A request's token
is hashed and compared to the stored hash in constant time. With no file configured, or none
written yet, there is no admin API: every /admin path answers 404, as if it did not exist.

The file is re-read when it changes (its mtime and size), so a new token takes effect without a
restart, and the old one stops working at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
from pathlib import Path

log = logging.getLogger("gateway.admin")

_HASH = re.compile(r"[0-9a-f]{64}")
MAX_TOKEN_CHARS = 512


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """256 random bits, URL-safe (RFC 6750 b64token)."""
    return "fdxadm_" + secrets.token_urlsafe(32)


def write_token_hash(path: Path, token: str) -> None:
    """Replace the stored hash atomically; the file is 0600 from the moment it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(hash_token(token) + "\n")
    os.replace(tmp, path)


class AdminToken:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._seen: tuple[int, int] | None = None
        self._hash: str | None = None

    def stored_hash(self) -> str | None:
        """The configured hash, or None when the admin API is off."""
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
        except OSError:
            self._seen, self._hash = None, None
            return None
        seen = (stat.st_mtime_ns, stat.st_size)
        if seen != self._seen:
            self._seen, self._hash = seen, self._read()
        return self._hash

    def _read(self) -> str | None:
        assert self.path is not None
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            text = ""
        if not _HASH.fullmatch(text):
            log.warning("admin.token_file_invalid (expected one SHA-256 hex line); admin API off")
            return None
        return text

    def verify(self, presented: str) -> bool:
        stored = self.stored_hash()
        if stored is None or not presented or len(presented) > MAX_TOKEN_CHARS:
            return False
        return hmac.compare_digest(stored, hash_token(presented))

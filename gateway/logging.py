"""Structured JSON logs: one object a line, with the request's interaction id, and no secrets.

``configure`` is called once by ``fdxgw serve``. Every record goes through ``Redactor`` before it
is formatted, so a token, an authorization code or a password that slips into a message (or into
an exception's text) is masked instead of written: a JWT (``eyJ….….…``), a long base64url run
(opaque tokens, codes, client secrets), and the value of any parameter named like a credential.
Callers still log ids only (consent, client, interaction), never names or account numbers; the
redactor is the safety net, not the policy.

The interaction id comes from ``INTERACTION_ID``, set by ``gateway.middleware`` for the duration
of each request (FAPI 1.0 Baseline §6.2.1 item 11 ``x-fapi-interaction-id``), so a log line can
be joined to the response the recipient saw.
"""

from __future__ import annotations

import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

import orjson

INTERACTION_ID: ContextVar[str | None] = ContextVar("fdx_interaction_id", default=None)

MASK = "[redacted]"
SECRET_NAMES = (
    "access_token",
    "refresh_token",
    "id_token",
    "client_assertion",
    "client_secret",
    "code_verifier",
    "code",
    "password",
    "username",
    "authorization",
    "token",
)
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
# 32+ url-safe characters in one run: opaque tokens, codes and secrets (token_urlsafe(32) is 43).
# A UUID (consent and interaction ids) is a run of that length too, and is kept.
_LONG_SECRET = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{32,}(?![A-Za-z0-9_-])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NAMED = re.compile(
    r"(?i)\b(" + "|".join(SECRET_NAMES) + r")(\"?\s*[=:]\s*\"?)(?:Bearer\s+)?([^\s&\"',;}]+)"
)
# Record attributes that are not extra fields (uvicorn's color_message repeats the message).
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def redact(text: str) -> str:
    """``text`` with every credential-looking part masked."""
    text = _NAMED.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _JWT.sub(MASK, text)
    return _LONG_SECRET.sub(_unless_uuid, text)


def _unless_uuid(match: re.Match[str]) -> str:
    return match.group(0) if _UUID.fullmatch(match.group(0)) else MASK


class Redactor(logging.Filter):
    """Masks secrets in the message, its arguments, extra fields and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD and isinstance(value, str):
                setattr(record, key, redact(value))
        if record.exc_info and record.exc_info[1] is not None:
            # Type and place, not the message: an exception's text may carry personal data.
            record.exc_text = _exception_summary(record)
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, interaction_id, extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        iid = INTERACTION_ID.get()
        if iid is not None:
            entry["interaction_id"] = iid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_text:
            entry["error"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


def configure(level: str = "INFO", *, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records, redacted, as JSON lines to ``stream`` (stderr)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(Redactor())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's own loggers propagate to the root, so they are formatted and redacted here too.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return handler


def _exception_summary(record: logging.LogRecord) -> str:
    assert record.exc_info is not None
    exc = record.exc_info[1]
    tb = record.exc_info[2]
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f" at {tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else ""
    return f"{type(exc).__name__}{where}"


__all__ = ["INTERACTION_ID", "JsonFormatter", "Redactor", "configure", "redact"]

"""Which of an operation's media types the client's ``Accept`` allows (RFC 9110 §12.5.1).

Only the few operations that answer in more than one type (a tax form as JSON or PDF, a check
image) ask; everything else is JSON whatever ``Accept`` says, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request

from gateway.errors import ContentTypeNotSupported

MAX_RANGES = 32


def negotiate(request: Request, offered: Sequence[str]) -> str:
    """The offered type the client prefers (ties: the order of ``offered``); no ``Accept`` means
    the first. Refused with 406/1203 when none is acceptable."""
    header = request.headers.get("accept")
    if header is None or not header.strip():
        return offered[0]
    ranges = _ranges(header)
    best, best_q = None, 0.0
    for media_type in offered:
        q = _quality(media_type, ranges)
        if q > best_q:
            best, best_q = media_type, q
    if best is None:
        raise ContentTypeNotSupported(f"this resource is available as {', '.join(offered)}")
    return best


def _ranges(header: str) -> list[tuple[str, float, int]]:
    """(range, q, specificity) for each media range; a malformed q counts as 0."""
    out = []
    for part in header.split(",")[:MAX_RANGES]:
        media, *params = (p.strip() for p in part.split(";"))
        if "/" not in media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        kind, _, sub = media.lower().partition("/")
        specificity = 0 if kind == "*" else 1 if sub == "*" else 2
        out.append((media.lower(), q, specificity))
    return out


def _quality(media_type: str, ranges: list[tuple[str, float, int]]) -> float:
    """The q of the most specific range matching ``media_type`` (RFC 9110 §12.5.1), else 0."""
    kind = media_type.split("/", 1)[0]
    best: tuple[int, float] = (-1, 0.0)
    for media, q, specificity in ranges:
        if media in (media_type, f"{kind}/*", "*/*") and specificity > best[0]:
            best = (specificity, q)
    return best[1]

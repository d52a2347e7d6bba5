"""The recipient's logo on the consumer's pages, without telling the recipient who looks.

An image loaded from the recipient's host would tell the recipient when each consumer opens the
consent screen or the portal, and from which address. So a page shows a logo only when the
gateway itself serves it (a ``logo_uri`` on the issuer's origin under ``/static/``, as the demo
recipient's is), and otherwise the initials of the recipient's name; the screens' CSP allows
images from ``'self'`` only, so no page can load one from elsewhere.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import urlsplit

OWN_PREFIX = "/static/"


class Logo(TypedDict):
    src: str | None  # a path on the gateway, or None: show ``initials``
    initials: str


def logo(logo_uri: str | None, client_name: str, issuer: str) -> Logo:
    """What a page shows for a recipient: its logo from the gateway, or its initials."""
    return {"src": _own_path(logo_uri, issuer), "initials": initials(client_name)}


def initials(name: str) -> str:
    """The first letter of the first two words ("Budget App Inc." → "BA"); for a name without
    spaces (as Japanese names are written) its first character."""
    letters = [w[0] for w in name.split() if w[0].isalnum()][:2]
    if not letters:
        letters = [c for c in name if c.isalnum()][:1]
    return "".join(letters).upper() or "?"


def _own_path(uri: str | None, issuer: str) -> str | None:
    if not uri:
        return None
    try:
        parts, ours = urlsplit(uri), urlsplit(issuer)
        same = (parts.scheme, parts.hostname, parts.port) == (
            ours.scheme,
            ours.hostname,
            ours.port,
        )
    except ValueError:
        return None
    if not same or parts.username or parts.query or parts.fragment:
        return None
    path = parts.path
    if not path.startswith(OWN_PREFIX) or ".." in path or "\\" in path:
        return None
    return path

"""A recipient's name and purpose in each screen language (RFC 7591 §2.2: language-tagged
metadata such as ``client_name#ja``).

Registered tagged values are kept in ``ClientRecord.extra["localized"]`` as
``{"client_name": {"ja": "…"}, "description": {…}}`` (tags in lower case) and rendered back
under their tagged names. ``in_language`` picks the value for a screen language: the exact tag,
else one whose primary subtag matches (``ja-JP`` serves ``ja``), else the untagged value, marked
as a fallback so the screen can say that the app gave none in this language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from authz.store.base import ClientRecord

FIELDS = ("client_name", "description")
TAGGED = re.compile(r"(client_name|description)#([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3})")
MAX_TAGS = 20
KEY = "localized"


@dataclass(frozen=True, slots=True)
class InLanguage:
    text: str
    fallback: bool  # no value in the language asked for: the untagged one


def tagged(metadata: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The tagged values of ``metadata`` by field and lower-case tag (unchecked values)."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in metadata.items():
        match = TAGGED.fullmatch(key)
        if match:
            out.setdefault(match.group(1), {})[match.group(2).lower()] = value
    return out


def render(client: ClientRecord) -> dict[str, str]:
    """The tagged metadata as registered, for the registration answer (RFC 7591 §3.2.1)."""
    stored = client.extra.get(KEY, {})
    return {
        f"{name}#{tag}": text
        for name in FIELDS
        for tag, text in sorted(stored.get(name, {}).items())
    }


def in_language(client: ClientRecord, name: str, lang: str) -> InLanguage | None:
    """``name`` (client_name or description) for ``lang``; None when there is no value."""
    values: Mapping[str, str] = client.extra.get(KEY, {}).get(name, {})
    if lang in values:
        return InLanguage(values[lang], False)
    for tag, text in sorted(values.items()):
        if tag.split("-", 1)[0] == lang:
            return InLanguage(text, False)
    default = getattr(client, name)
    return InLanguage(default, True) if default else None


def localized(client: ClientRecord, lang: str) -> tuple[ClientRecord, bool]:
    """``client`` with its name and purpose in ``lang`` where it registered them, and whether
    its name fell back to the untagged one."""
    shown_name = in_language(client, "client_name", lang)
    purpose = in_language(client, "description", lang)
    changed = replace(
        client,
        client_name=shown_name.text if shown_name else client.client_name,
        description=purpose.text if purpose else client.description,
    )
    return changed, shown_name is not None and shown_name.fallback

"""Screen languages beyond the built-in English and Japanese: gettext catalogs that a translator
adds without touching code.

``config/locale/messages.pot`` lists every message id with its English text as a comment
(``python -m authz.screens.catalogs`` writes it from the code). A translator copies it to
``config/locale/<lang>/LC_MESSAGES/messages.po``, fills every ``msgstr`` and adds ``<lang>`` to
``languages``; ``tests/config/test_locale.py`` fails on any message left untranslated or whose
placeholders differ from the English. Message ids are the screens' string keys
(``consent_title``), ``account_type.<FDX AccountType>``, ``notice.<key>`` for the notices,
``cluster.<NAME>.title|summary|releases`` for the policy's wording (releases one per line) and
``language_name`` (the language's own name, for the language switch).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "messages"
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
_TAG = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")


def catalog_file(lang: str) -> Path:
    if not _TAG.fullmatch(lang):
        raise ValueError(f"not a language tag: {lang!r}")
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(lang: str) -> Mapping[str, str]:
    """The translated messages of ``lang`` (fuzzy and empty ones left out); {} without one."""
    path = catalog_file(lang)
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        messages = read_po(f, locale=lang, domain=DOMAIN)
    return {
        str(m.id): str(m.string)
        for m in messages
        if m.id and isinstance(m.id, str) and isinstance(m.string, str) and m.string
        if not m.fuzzy
    }


@cache
def sources(lang: str) -> Mapping[str, str]:
    """The English each message of ``lang`` was translated from (its ``#.`` comment), so that a
    translation whose English changed since is found."""
    path = catalog_file(lang)
    if not path.is_file():
        return {}
    with path.open("rb") as f:
        messages = read_po(f, locale=lang, domain=DOMAIN)
    return {str(m.id): "\n".join(m.auto_comments) for m in messages if m.id}


@cache
def languages() -> tuple[str, ...]:
    """The languages that have a catalog."""
    if not LOCALE_DIR.is_dir():
        return ()
    return tuple(
        sorted(
            d.name
            for d in LOCALE_DIR.iterdir()
            if _TAG.fullmatch(d.name) and catalog_file(d.name).is_file()
        )
    )

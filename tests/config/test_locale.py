"""Gettext catalogs (config/locale): the template lists every message of the screens and
notices, and every catalog translates every one of them, placeholders intact."""

from __future__ import annotations

import re
import string

import pytest

from authz.notices import compose, wording
from authz.screens import catalogs, i18n
from config import locale
from config.policy import load_policy
from config.settings import Settings, SettingsError

_FORMAT = string.Formatter()


def _words(text: str) -> str:
    """Text as compared with a ``.po`` comment, which may be wrapped anywhere."""
    return " ".join(text.split())


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in _FORMAT.parse(text) if name}


def test_the_template_is_current() -> None:
    """Regenerate with `python -m authz.screens.catalogs` after adding or changing a string."""
    assert locale.TEMPLATE.read_bytes() == catalogs.template()


def problems(lang: str) -> list[str]:
    """What keeps ``lang``'s catalog from covering the code's messages, one line each."""
    translated, sources = locale.catalog(lang), locale.sources(lang)
    found = []
    for key, english in catalogs.messages().items():
        text = translated.get(key)
        if text is None:
            found.append(f"untranslated: {key}")
        elif _words(sources.get(key, "")) != _words(english):
            found.append(f"the English changed since it was translated: {key}")
        elif placeholders(text) != placeholders(english):
            found.append(f"placeholders differ: {key}")
        elif key.endswith(".releases") and text.count("\n") != english.count("\n"):
            found.append(f"not one release per line as in English: {key}")
    found += [f"stale: {k}" for k in sorted(set(translated) - set(catalogs.messages()))]
    return found


@pytest.mark.parametrize("lang", locale.languages())
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    assert problems(lang) == []


def test_a_missing_or_outdated_translation_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(i18n.EN, "brand_new_string", "Brand new")
    monkeypatch.setitem(i18n.EN, "approve", "Approve it")
    assert problems("es") == [
        "the English changed since it was translated: approve",
        "untranslated: brand_new_string",
    ]


def test_spanish_is_a_screen_language() -> None:
    assert "es" in locale.languages()
    Settings(languages=("en", "ja", "es"))
    with pytest.raises(SettingsError, match="languages"):
        Settings(languages=("en", "xx"))
    assert i18n.NAMES["es"] == "Español"
    assert i18n.text("es")["approve"] == "Aprobar"
    assert i18n.account_type("es", "CHECKING") == "Cuenta corriente"
    basic = load_policy().clusters["ACCOUNT_BASIC"].wording("es")
    assert basic.title == "Información básica de la cuenta"
    assert len(basic.releases) == 6
    assert wording.text("es")["granted.subject"] == "Ha conectado {client}"


def test_a_notice_reads_in_spanish() -> None:
    rendered = compose.render(
        "granted",
        "es",
        values={"client": "Demo Budget App", "provider": "Sandbox Bank"},
        portal_url="https://bank.example/consumer",
    )
    assert rendered.subject == "Ha conectado Demo Budget App"
    assert '<html lang="es">' in rendered.html
    assert re.search(r"portal de Sandbox Bank", rendered.text)


def test_catalog_names_are_language_tags() -> None:
    with pytest.raises(ValueError, match="language tag"):
        locale.catalog_file("../../etc")

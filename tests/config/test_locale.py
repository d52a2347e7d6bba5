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


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in _FORMAT.parse(text) if name}


def test_the_template_is_current() -> None:
    """Regenerate with `python -m authz.screens.catalogs` after adding or changing a string."""
    assert locale.TEMPLATE.read_bytes() == catalogs.template()


@pytest.mark.parametrize("lang", locale.languages())
def test_every_message_is_translated_with_the_same_placeholders(lang: str) -> None:
    translated = locale.catalog(lang)
    english = catalogs.messages()
    missing = sorted(set(english) - set(translated))
    assert missing == [], f"{lang}: untranslated {missing}"
    assert sorted(set(translated) - set(english)) == []  # nothing stale
    wrong = [k for k, text in english.items() if placeholders(text) != placeholders(translated[k])]
    assert wrong == [], f"{lang}: placeholders differ in {wrong}"
    releases = [k for k in english if k.endswith(".releases")]
    assert all(translated[k].count("\n") == english[k].count("\n") for k in releases), (
        "one release per line, as many as in English"
    )


def test_a_missing_translation_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above fails when a catalog lacks a message (here: a new English string)."""
    monkeypatch.setitem(i18n.EN, "brand_new_string", "Brand new")
    assert "brand_new_string" not in locale.catalog("es")
    assert "brand_new_string" in catalogs.messages()


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

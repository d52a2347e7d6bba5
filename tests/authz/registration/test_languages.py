"""Language-tagged names and purposes (RFC 7591 §2.2): registered, answered back, and shown in
the consumer's language, falling back visibly."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from authz.registration import languages
from authz.store.base import ClientRecord
from tests.authz.registration.conftest import Registry


def test_tagged_names_and_purposes_are_kept_and_answered(dcr: Registry) -> None:
    body = dcr.registered(
        **{
            "client_name#ja": "家計簿アプリ",
            "description#ja-JP": "支出を分類します。",
            "client_name#ES": "App de presupuesto",
        }
    )
    assert body["client_name#ja"] == "家計簿アプリ"
    assert body["description#ja-jp"] == "支出を分類します。"
    assert body["client_name#es"] == "App de presupuesto"
    stored = dcr.client(body["client_id"])
    assert stored.extra["localized"] == {
        "client_name": {"ja": "家計簿アプリ", "es": "App de presupuesto"},
        "description": {"ja-jp": "支出を分類します。"},
    }


def test_a_bad_tagged_value_is_refused(dcr: Registry) -> None:
    response = dcr.register(**{"client_name#ja": ""})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    many: dict[str, Any] = {f"client_name#q{chr(97 + n)}": "n" for n in range(26)}
    assert dcr.register(**many).json()["error"] == "invalid_client_metadata"


CLIENT = ClientRecord(
    client_id="app",
    client_name="Budget App",
    redirect_uris=("https://app.example/cb",),
    jwks={"keys": []},
    description="Shows your spending.",
    extra={"localized": {"client_name": {"ja": "家計簿アプリ"}, "description": {"ja-jp": "支出"}}},
)


def test_the_screen_language_picks_the_tag_or_falls_back_visibly() -> None:
    ja, fell_back = languages.localized(CLIENT, "ja")
    assert (ja.client_name, ja.description, fell_back) == ("家計簿アプリ", "支出", False)
    en, fell_back = languages.localized(CLIENT, "en")
    assert (en.client_name, en.description, fell_back) == (
        "Budget App",
        "Shows your spending.",
        True,
    )
    bare = replace(CLIENT, extra={})
    assert languages.localized(bare, "ja") == (bare, True)

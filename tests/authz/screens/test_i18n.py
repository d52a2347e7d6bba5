"""English and Japanese: chosen by ?lang=, the lang cookie, then Accept-Language."""

from __future__ import annotations

import pytest

from authz.screens.i18n import EN, JA, accept_language
from tests.authz.screens.conftest import World


def test_accept_language_picks_japanese(world: World) -> None:
    """Accept-Language: ja gets the Japanese sign-in page with <html lang="ja">."""
    page = world.client.get(world.start(), headers={"Accept-Language": "ja-JP,ja;q=0.9,en;q=0.5"})

    assert '<html lang="ja">' in page.text
    assert "Sandbox Bankにログイン" in page.text
    assert '<a href="/oauth/interaction/' in page.text
    assert "English</a>" in page.text


def test_lang_query_wins_and_is_remembered(world: World) -> None:
    """?lang=ja beats Accept-Language, and a cookie keeps it for the next pages."""
    path = world.start()

    first = world.client.get(path, params={"lang": "ja"}, headers={"Accept-Language": "en"})
    later = world.client.get(path, headers={"Accept-Language": "en"})

    assert '<html lang="ja">' in first.text
    assert '<html lang="ja">' in later.text
    assert "日本語" not in first.text.split("<nav")[1].split("</nav>")[0]  # links to English only


def test_the_consent_screen_reads_in_japanese(world: World) -> None:
    """Cluster wording comes from the policy's Japanese text; every UI string too."""
    world.client.cookies.set("lang", "ja")

    _, html = world.consent_page()

    assert "Budget &lt;App&gt;にデータを共有しますか？" in html
    assert "口座の基本情報" in html
    assert "承認" in html
    assert "拒否" in html
    assert "90日間。" in html


def test_the_wrong_password_message_in_japanese(world: World) -> None:
    """The generic failure message exists in Japanese too."""
    world.client.cookies.set("lang", "ja")

    response = world.sign_in(world.start(), "alice", "wrong")

    assert "ユーザーIDまたはパスワードが正しくありません。" in response.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9,ja;q=0.8", "en"),
        ("en;q=0.4, ja;q=0.8", "ja"),
        ("fr, ja;q=0.1", "ja"),
        ("ja;q=0, en;q=0.1", "en"),
        ("fr, de", None),
        ("*", "en"),
        ("ja;q=abc, en;q=0.2", "en"),
        ("", None),
    ],
)
def test_accept_language_respects_q_values(header: str, expected: str | None) -> None:
    """RFC 9110 §12.5.4: highest q wins, q=0 excludes, ties keep order."""
    assert accept_language(header, ("en", "ja")) == expected


def test_every_string_exists_in_both_languages() -> None:
    """No key is missing from either dictionary, and none is left untranslated empty."""
    assert set(EN) == set(JA)
    assert all(EN.values())
    assert all(JA.values())

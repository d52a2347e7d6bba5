"""Every string the consumer reads on the screens, per language, and how the language is chosen.

Cluster wording is not here: it lives in the policy file (``config/clusters.toml``) beside the
fields it describes. Placeholders use ``str.format`` names; values are escaped by the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.requests import Request

LANG_COOKIE = "lang"
NAMES = {"en": "English", "ja": "日本語"}

EN: dict[str, str] = {
    "sign_in_title": "Sign in to {provider}",
    "sign_in_asking": "{client} is asking to see some of your data at {provider}.",
    "sign_in_explain": "Sign in first. You will see exactly what {client} asks for before "
    "anything is shared, and you can say no.",
    "username": "User ID",
    "password": "Password",
    "sign_in": "Sign in",
    "bad_credentials": "The user ID or password is not correct.",
    "too_many_attempts": "Too many unsuccessful sign-in attempts. Please wait 15 minutes "
    "and try again.",
    "consent_title": "Share your data with {client}?",
    "recipient": "Who is asking",
    "logo_alt": "{client} logo",
    "home_page": "{client} website",
    "purpose": "What they will use it for",
    "provider": "Who shares the data",
    "provider_line": "{provider} will send the data to {client}.",
    "data": "What they will see",
    "required": "Required",
    "required_note": "{client} needs this to provide its service.",
    "optional": "Optional",
    "optional_note": "Tick to share this too. Not needed for the service.",
    "includes": "This includes:",
    "exact_fields": "Exact data fields shared",
    "duration": "For how long",
    "duration_one_time": "One time only.",
    "duration_time_bound": "For {days} days.",
    "duration_persistent": "Until you stop it. You will be asked to renew at least once a year.",
    "expires": "Sharing ends on {date} at the latest.",
    "lookback": "How far back",
    "lookback_from": "Transactions from {date} on.",
    "lookback_all": "All available history.",
    "revoke": "Stopping later",
    "revoke_text": "You can stop sharing at any time: ask {client} to disconnect, or contact "
    "{provider}.",
    "accounts": "Which accounts",
    "accounts_hint": "Choose the accounts to share. None is chosen for you.",
    "no_accounts": "You have no open accounts that can be shared.",
    "pick_account": "Choose at least one account to share, or choose Deny.",
    "bad_choice": "One of the choices is not available. Please choose again.",
    "approve": "Approve",
    "deny": "Deny",
    "decision_note": "Deny shares nothing and costs you nothing.",
    "error_title": "Something went wrong",
    "back_to_app": "Please go back to the app and start again.",
    "err_link_expired": "This link has expired or has already been used.",
    "err_bad_request": "This link is not valid: it was changed or is incomplete.",
    "err_client_unavailable": "This app is not allowed to connect to {provider} at the moment.",
    "err_forbidden": "This page has expired for security reasons.",
    "err_bank_unavailable": "{provider} cannot be reached right now. Please try again later.",
    "err_signed_out": "You are signed out. Please go back to the app and start again.",
    "language": "Language",
    "utc": "UTC",
}

JA: dict[str, str] = {
    "sign_in_title": "{provider}にログイン",
    "sign_in_asking": "{client}が、{provider}にあるあなたのデータの一部の閲覧を求めています。",
    "sign_in_explain": "まずログインしてください。データが共有される前に、{client}が求める内容を"
    "正確に確認でき、断ることもできます。",
    "username": "ユーザーID",
    "password": "パスワード",
    "sign_in": "ログイン",
    "bad_credentials": "ユーザーIDまたはパスワードが正しくありません。",
    "too_many_attempts": "ログインに続けて失敗しました。"
    "15分ほど待ってから、もう一度お試しください。",
    "consent_title": "{client}にデータを共有しますか？",
    "recipient": "共有を求めている相手",
    "logo_alt": "{client}のロゴ",
    "home_page": "{client}のウェブサイト",
    "purpose": "利用目的",
    "provider": "データを共有する金融機関",
    "provider_line": "{provider}が{client}にデータを送ります。",
    "data": "共有されるデータ",
    "required": "必須",
    "required_note": "{client}のサービスに必要です。",
    "optional": "任意",
    "optional_note": "これも共有する場合はチェックしてください。サービスには必要ありません。",
    "includes": "含まれる情報：",
    "exact_fields": "共有されるデータ項目（正確な名前）",
    "duration": "共有の期間",
    "duration_one_time": "1回のみ。",
    "duration_time_bound": "{days}日間。",
    "duration_persistent": "あなたが停止するまで。少なくとも1年に1回、更新の確認があります。",
    "expires": "共有は遅くとも{date}に終了します。",
    "lookback": "対象となる期間",
    "lookback_from": "{date}以降の取引。",
    "lookback_all": "利用可能なすべての履歴。",
    "revoke": "後から停止するには",
    "revoke_text": "共有はいつでも停止できます。{client}で連携を解除するか、{provider}に"
    "ご連絡ください。",
    "accounts": "共有する口座",
    "accounts_hint": "共有する口座を選んでください。最初は何も選ばれていません。",
    "no_accounts": "共有できる開設中の口座がありません。",
    "pick_account": "共有する口座を1つ以上選ぶか、「拒否」を選んでください。",
    "bad_choice": "選択できない項目が含まれています。もう一度選んでください。",
    "approve": "承認",
    "deny": "拒否",
    "decision_note": "拒否しても何も共有されず、不利益はありません。",
    "error_title": "問題が発生しました",
    "back_to_app": "アプリに戻って、最初からやり直してください。",
    "err_link_expired": "このリンクは有効期限が切れたか、すでに使用されています。",
    "err_bad_request": "このリンクは無効です。変更されたか、不完全です。",
    "err_client_unavailable": "このアプリは現在{provider}に接続できません。",
    "err_forbidden": "セキュリティのため、このページの有効期限が切れました。",
    "err_bank_unavailable": "現在{provider}に接続できません。しばらくしてからお試しください。",
    "err_signed_out": "ログアウトしています。アプリに戻って、最初からやり直してください。",
    "language": "言語",
    "utc": "UTC",
}

STRINGS: Mapping[str, Mapping[str, str]] = {"en": EN, "ja": JA}

# FDX AccountType values (docs/fdx.md §2) in plain words; anything else is shown as sent.
ACCOUNT_TYPES: Mapping[str, Mapping[str, str]] = {
    "en": {
        "CHECKING": "Checking account",
        "SAVINGS": "Savings account",
        "MONEYMARKET": "Money market account",
        "CD": "Certificate of deposit",
        "CREDITCARD": "Credit card",
        "LINEOFCREDIT": "Line of credit",
        "MORTGAGE": "Mortgage",
        "AUTOLOAN": "Car loan",
        "STUDENTLOAN": "Student loan",
        "LOAN": "Loan",
        "PREPAID": "Prepaid card",
        "IRA": "Retirement account (IRA)",
        "401K": "Retirement plan (401(k))",
        "TAXABLE": "Investment account",
        "BROKERAGEPRODUCT": "Brokerage account",
    },
    "ja": {
        "CHECKING": "当座・普通預金口座",
        "SAVINGS": "貯蓄預金口座",
        "MONEYMARKET": "マネーマーケット口座",
        "CD": "定期預金",
        "CREDITCARD": "クレジットカード",
        "LINEOFCREDIT": "カードローン（与信枠）",
        "MORTGAGE": "住宅ローン",
        "AUTOLOAN": "自動車ローン",
        "STUDENTLOAN": "教育ローン",
        "LOAN": "ローン",
        "PREPAID": "プリペイドカード",
        "IRA": "個人退職口座（IRA）",
        "401K": "確定拠出年金（401(k)）",
        "TAXABLE": "投資口座",
        "BROKERAGEPRODUCT": "証券口座",
    },
}

assert set(EN) == set(JA), "every string needs both languages"


def text(lang: str) -> Mapping[str, str]:
    return STRINGS.get(lang, EN)


def account_type(lang: str, value: str) -> str:
    return ACCOUNT_TYPES.get(lang, ACCOUNT_TYPES["en"]).get(value.upper(), value)


def choose(request: Request, languages: Sequence[str]) -> str:
    """``?lang=``, then the ``lang`` cookie, then Accept-Language (q-values respected), then the
    first configured language."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if candidate is not None and candidate in languages:
            return candidate
    best = accept_language(request.headers.get("accept-language", ""), languages)
    return best or languages[0]


def accept_language(header: str, languages: Sequence[str]) -> str | None:
    """The supported language the header prefers most (RFC 9110 §12.5.4); ties keep header order;
    ``q=0`` means "not acceptable"; ``*`` matches the first configured language."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not 0 < q <= 1:  # also catches nan
            q = 0.0
        if primary == "*" and languages:
            primary = languages[0]
        if primary in languages and q:
            ranked.append((-q, position, primary))
    return min(ranked)[2] if ranked else None

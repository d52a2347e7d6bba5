"""Every string the consumer reads on the screens, per language, and how the language is chosen.

Cluster wording is not here: it lives in the policy file (``config/clusters.toml``) beside the
fields it describes. Placeholders use ``str.format`` names; values are escaped by the templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from starlette.requests import Request

from authz.notices import wording as notice_wording
from config import locale

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
    "err_not_found": "We could not find that page.",
    "err_server_error": "Something went wrong on our side. Please try again later.",
    "err_signin_failed": "We could not sign you in at {provider}. Nothing was shared. Please go "
    "back to the app and try again.",
    "err_signin_unavailable": "Sign-in at {provider} is unavailable right now. Nothing was "
    "shared. Please try again later.",
    "return_to_app": "Go back to {client}",
    "sign_in_private": "{client} never sees your {provider} password: you type it only here, "
    "on {provider}'s page.",
    "cancel_to_app": "Cancel and go back to {client}",
    "sign_in_at_bank": "Sign in at {provider}",
    "otp_title": "Enter your one-time code",
    "otp_explain": "Open your authenticator app and enter the 6-digit code it shows for "
    "{provider}.",
    "otp_code": "One-time code",
    "otp_submit": "Continue",
    "bad_otp": "That code is not correct or was already used. Please enter the current code.",
    "language": "Language",
    "utc": "UTC",
    # consumer portal (/consumer)
    "portal_title": "Apps that can see your data",
    "portal_sign_in_explain": "Sign in to see which apps can see your data at {provider}, what "
    "they read and when, and to stop sharing at any time.",
    "portal_nav": "Your data sharing",
    "nav_apps": "Connected apps",
    "nav_history": "Past connections",
    "nav_export": "Download my records",
    "sign_out": "Sign out",
    "signed_out_done": "You are signed out.",
    "portal_intro": "These apps can read some of your data at {provider}. You can stop any of "
    "them at any time, free of charge.",
    "no_apps": "No app can see your data right now.",
    "portal_purpose": "What it uses your data for",
    "portal_data": "What it can see",
    "portal_accounts": "Accounts shared",
    "account_unknown": "Account {id} (no longer listed at {provider})",
    "granted_on": "Connected on",
    "expires_on": "Sharing ends",
    "last_accessed": "Last accessed",
    "never": "Never",
    "see_details": "Details and access log for {client}",
    "stop_sharing_with": "Stop sharing with {client}",
    "renew_with": "Renew sharing with {client}",
    "renew_due": "Sharing ends soon, on {date}. Renew it if you want it to continue.",
    "status": "Status",
    "status_ACTIVE": "Sharing",
    "status_REVOKED": "Stopped",
    "status_EXPIRED": "Ended: the agreed time ran out",
    "status_DENIED": "Refused",
    "lookback_days": "Up to {days} days of history.",
    "access_log": "Access log",
    "access_log_intro": "Every time {client} read your data, newest first.",
    "no_access": "{client} has not read any of your data.",
    "col_when": "When",
    "col_data": "Data",
    "col_account": "Account",
    "col_records": "Records",
    "col_reference": "Reference",
    "all_accounts": "Account list",
    "newer": "Newer accesses",
    "older": "Older accesses",
    "log_page": "Accesses {first} to {last} of {total}",
    "chart_title": "Accesses per day, last 30 days",
    "chart_summary": "Accesses in the last 30 days: {total}. Most in one day: {peak}.",
    "chart_table": "Show the numbers as a table",
    "col_day": "Day",
    "col_count": "Accesses",
    "fields_title": "Exactly what leaves {provider}",
    "fields_intro": "{client} receives only these data fields, for each kind of data you shared.",
    "events_title": "What happened",
    "event_granted": "You allowed sharing",
    "event_renewed": "Sharing renewed",
    "event_revoked": "Sharing stopped",
    "event_expired": "Sharing ended: the agreed time ran out",
    "event_denied": "You refused",
    "event_used": "The one-time access was used",
    "receipts": "Receipts",
    "receipts_intro": "A signed receipt for each time this sharing was granted, renewed or "
    "stopped. Keep it as proof; anyone can check its signature with {provider}'s published keys.",
    "no_receipts": "There is no receipt for this connection.",
    "receipt_view": "View receipt {n}",
    "receipt_download": "Download signed receipt {n}",
    "receipt_title": "Receipt: {event}",
    "receipt_number": "Receipt ID",
    "receipt_issuer": "Issued by",
    "receipt_time": "Date",
    "receipt_actor": "Done by",
    "receipt_subject": "Your anonymous ID on receipts",
    "receipt_recipient": "App",
    "receipt_provider": "Shared by",
    "receipt_consent": "Connection ID",
    "receipt_ends": "Sharing ends",
    "receipt_verify": "The signed file is a JSON Web Signature (ES256). Check it with the keys "
    "published at {jwks}.",
    "actor_INDIVIDUAL": "You",
    "actor_DATA_RECIPIENT": "{client}",
    "actor_DATA_PROVIDER": "{provider}",
    "revoke_title": "Stop sharing with {client}?",
    "revoke_explain": "{client} will not be able to read your data from {provider} any more, "
    "starting with its very next request. Stopping is free.",
    "revoke_final": "This cannot be undone. To share again later, connect the app again.",
    "revoke_confirm": "Stop sharing",
    "keep_sharing": "Keep sharing",
    "revoked_done": "You stopped sharing with {client}.",
    "renew_title": "Keep sharing with {client}?",
    "renew_explain": "This is a new permission for the same data and the same accounts as now.",
    "renew_until": "If you renew, sharing ends on {date} at the latest.",
    "renew_confirm": "Renew",
    "renew_cancel": "Not now",
    "renewed_done": "Renewed: sharing with {client} now ends on {date}.",
    "history_title": "Past connections",
    "history_intro": "Apps that no longer see your data: sharing you stopped, that ended, that "
    "an app or {provider} stopped, and requests you refused.",
    "no_history": "You have no past connections.",
    "ended_on": "Ended on",
    "ended_by": "Ended by",
    "ended_by_time": "The agreed time ran out",
    "export_title": "Download my records",
    "err_portal_not_found": "We could not find that page.",
    "err_portal_signin_unavailable": "Sign-in at {provider} is unavailable right now. Please try "
    "again later.",
    "err_portal_forbidden": "This page has expired for security reasons. Please try again.",
    "err_portal_bad_request": "Something in that request was not valid. Please try again.",
    "err_portal_too_large": "That request was too large. Please try again.",
    "err_portal_signed_out": "You are signed out. Please sign in again.",
    "err_portal_not_renewable": "This sharing can no longer be renewed.",
    "err_portal_busy": "That could not be completed just now. Please try again.",
    "err_portal_bank_unavailable": "{provider} cannot be reached right now. Please try again "
    "later.",
    "back_to_portal": "Back to your connected apps",
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
    "err_not_found": "ページが見つかりませんでした。",
    "err_server_error": "こちら側で問題が発生しました。しばらくしてからお試しください。",
    "err_signin_failed": "{provider}でのログインを完了できませんでした。"
    "データは共有されていません。アプリに戻って、もう一度お試しください。",
    "err_signin_unavailable": "現在{provider}のログインをご利用いただけません。データは共有されて"
    "いません。しばらくしてからお試しください。",
    "return_to_app": "{client}に戻る",
    "sign_in_private": "{client}が{provider}のパスワードを見ることはありません。パスワードは"
    "{provider}のこのページにだけ入力します。",
    "cancel_to_app": "キャンセルして{client}に戻る",
    "sign_in_at_bank": "{provider}でログイン",
    "otp_title": "ワンタイムコードを入力",
    "otp_explain": "認証アプリを開き、{provider}用に表示される6桁のコードを入力してください。",
    "otp_code": "ワンタイムコード",
    "otp_submit": "次へ",
    "bad_otp": "コードが正しくないか、すでに使用されています。現在のコードを入力してください。",
    "language": "言語",
    "utc": "UTC",
    # consumer portal (/consumer)
    "portal_title": "データを閲覧できるアプリ",
    "portal_sign_in_explain": "ログインすると、{provider}にあるあなたのデータをどのアプリが閲覧"
    "できるか、いつ何を読んだかを確認でき、いつでも共有を停止できます。",
    "portal_nav": "データ共有の管理",
    "nav_apps": "連携中のアプリ",
    "nav_history": "過去の連携",
    "nav_export": "記録をダウンロード",
    "sign_out": "ログアウト",
    "signed_out_done": "ログアウトしました。",
    "portal_intro": "これらのアプリは{provider}にあるあなたのデータの一部を読むことができます。"
    "いつでも無料で停止できます。",
    "no_apps": "現在、あなたのデータを閲覧できるアプリはありません。",
    "portal_purpose": "データの利用目的",
    "portal_data": "閲覧できるデータ",
    "portal_accounts": "共有している口座",
    "account_unknown": "口座 {id}（{provider}の一覧にはもうありません）",
    "granted_on": "連携日",
    "expires_on": "共有の終了日",
    "last_accessed": "最終アクセス",
    "never": "なし",
    "see_details": "{client}の詳細とアクセス記録",
    "stop_sharing_with": "{client}との共有を停止",
    "renew_with": "{client}との共有を更新",
    "renew_due": "共有はまもなく{date}に終了します。続ける場合は更新してください。",
    "status": "状態",
    "status_ACTIVE": "共有中",
    "status_REVOKED": "停止済み",
    "status_EXPIRED": "終了（約束した期間が過ぎました）",
    "status_DENIED": "拒否",
    "lookback_days": "最大{days}日分の履歴。",
    "access_log": "アクセス記録",
    "access_log_intro": "{client}があなたのデータを読んだすべての記録（新しい順）。",
    "no_access": "{client}はまだあなたのデータを読んでいません。",
    "col_when": "日時",
    "col_data": "データ",
    "col_account": "口座",
    "col_records": "件数",
    "col_reference": "参照番号",
    "all_accounts": "口座一覧",
    "newer": "新しいアクセス",
    "older": "古いアクセス",
    "log_page": "{total}件中 {first}〜{last}件目",
    "chart_title": "1日あたりのアクセス数（過去30日）",
    "chart_summary": "過去30日間のアクセスは{total}回、1日の最大は{peak}回です。",
    "chart_table": "数値を表で表示",
    "col_day": "日付",
    "col_count": "アクセス数",
    "fields_title": "{provider}から送られるデータ項目",
    "fields_intro": "{client}が受け取るのは、共有したデータの種類ごとに次の項目だけです。",
    "events_title": "これまでの経過",
    "event_granted": "共有を許可しました",
    "event_renewed": "共有を更新しました",
    "event_revoked": "共有を停止しました",
    "event_expired": "約束した期間が過ぎ、共有が終了しました",
    "event_denied": "拒否しました",
    "event_used": "1回限りのアクセスが使われました",
    "receipts": "控え（レシート）",
    "receipts_intro": "共有の許可・更新・停止のたびに発行される署名付きの控えです。証明として"
    "保管でき、{provider}が公開している鍵で誰でも署名を確認できます。",
    "no_receipts": "この連携の控えはありません。",
    "receipt_view": "控え{n}を表示",
    "receipt_download": "署名付きの控え{n}をダウンロード",
    "receipt_title": "控え：{event}",
    "receipt_number": "控えID",
    "receipt_issuer": "発行者",
    "receipt_time": "日時",
    "receipt_actor": "操作した人",
    "receipt_subject": "控え上のあなたの匿名ID",
    "receipt_recipient": "アプリ",
    "receipt_provider": "共有元",
    "receipt_consent": "連携ID",
    "receipt_ends": "共有の終了日",
    "receipt_verify": "署名付きファイルはJSON Web Signature（ES256）です。{jwks}で公開されている"
    "鍵で確認できます。",
    "actor_INDIVIDUAL": "あなた",
    "actor_DATA_RECIPIENT": "{client}",
    "actor_DATA_PROVIDER": "{provider}",
    "revoke_title": "{client}との共有を停止しますか？",
    "revoke_explain": "{client}は、次のリクエストから{provider}にあるあなたのデータを読めなく"
    "なります。停止は無料です。",
    "revoke_final": "停止は取り消せません。再び共有するには、もう一度アプリと連携してください。",
    "revoke_confirm": "共有を停止",
    "keep_sharing": "共有を続ける",
    "revoked_done": "{client}との共有を停止しました。",
    "renew_title": "{client}との共有を続けますか？",
    "renew_explain": "現在と同じデータ・同じ口座について、新たに許可します。",
    "renew_until": "更新すると、共有は遅くとも{date}に終了します。",
    "renew_confirm": "更新",
    "renew_cancel": "今はしない",
    "renewed_done": "更新しました。{client}との共有は{date}に終了します。",
    "history_title": "過去の連携",
    "history_intro": "あなたのデータをもう閲覧できないアプリ：あなたが停止したもの、期間が"
    "終了したもの、アプリや{provider}が停止したもの、あなたが拒否した依頼。",
    "no_history": "過去の連携はありません。",
    "ended_on": "終了日",
    "ended_by": "終了させた人",
    "ended_by_time": "約束した期間が過ぎました",
    "export_title": "記録をダウンロード",
    "err_portal_not_found": "ページが見つかりませんでした。",
    "err_portal_signin_unavailable": "現在{provider}のログインをご利用いただけません。"
    "しばらくしてからお試しください。",
    "err_portal_forbidden": "セキュリティのため、このページの有効期限が切れました。"
    "もう一度お試しください。",
    "err_portal_bad_request": "リクエストの内容が正しくありません。もう一度お試しください。",
    "err_portal_too_large": "リクエストが大きすぎます。もう一度お試しください。",
    "err_portal_signed_out": "ログアウトしています。もう一度ログインしてください。",
    "err_portal_not_renewable": "この共有はもう更新できません。",
    "err_portal_busy": "ただいま処理を完了できませんでした。もう一度お試しください。",
    "err_portal_bank_unavailable": "現在{provider}に接続できません。しばらくしてからお試し"
    "ください。",
    "back_to_portal": "連携中のアプリに戻る",
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

# The notices' screens keep their words beside the notices' (authz/notices/wording.py).
EN.update(notice_wording.SCREEN_EN)
JA.update(notice_wording.SCREEN_JA)
# Languages a translator added as gettext catalogs (config/locale): named in their own words.
NAMES.update({lang: locale.catalog(lang).get("language_name", lang) for lang in locale.languages()})

assert set(EN) == set(JA), "every string needs both languages"


def text(lang: str) -> Mapping[str, str]:
    return STRINGS.get(lang) or _catalog_text(lang)


def account_type(lang: str, value: str) -> str:
    types = ACCOUNT_TYPES.get(lang) or _catalog_types(lang)
    return types.get(value.upper(), value)


@cache
def _catalog_text(lang: str) -> Mapping[str, str]:
    """Every string from ``lang``'s gettext catalog; English where it has none (which
    tests/config/test_locale.py does not let pass)."""
    messages = locale.catalog(lang)
    return {key: messages.get(key, english) for key, english in EN.items()}


@cache
def _catalog_types(lang: str) -> Mapping[str, str]:
    messages = locale.catalog(lang)
    english = ACCOUNT_TYPES["en"]
    return {key: messages.get("account_type." + key, text) for key, text in english.items()}


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

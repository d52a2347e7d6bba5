"""Every string of a notice, per language. Placeholders are ``str.format`` names; the values
are escaped by the HTML template, never here.

Each kind has a ``subject``, a ``lead`` paragraph and optional ``more`` paragraphs; the facts
(what, which accounts, until when) and the portal link are laid out by the templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from config import locale

EN: dict[str, str] = {
    "granted.subject": "You connected {client}",
    "granted.lead": "You agreed that {provider} shares some of your data with {client}.",
    "granted.more": "",
    "ended.subject": "Sharing with {client} has stopped",
    "ended.lead": "{client} can no longer read your data at {provider}. {by}",
    "ended.more": "",
    "ended.by.INDIVIDUAL": "You stopped it on {date}.",
    "ended.by.DATA_RECIPIENT": "{client} stopped it on {date}.",
    "ended.by.DATA_PROVIDER": "{provider} stopped it on {date}.",
    "ended.by.EXPIRED": "The time you agreed to ended on {date}.",
    "ended.deletion": "You asked {client} to delete the data it already has. We will show you "
    "in {provider}'s portal when {client} confirms it.",
    "expiring.subject": "Sharing with {client} ends on {date}",
    "expiring.lead": "Your agreement to share data with {client} ends on {date}.",
    "expiring.more": "To keep sharing, renew it in {provider}'s portal before then. If you do "
    "nothing, sharing simply stops.",
    "reauthorize.subject": "Please confirm sharing with {client} by {date}",
    "reauthorize.lead": "You share data with {client} until you stop it, but you need to "
    "confirm it once a year. Confirm by {date}.",
    "reauthorize.more": "To keep sharing, renew it in {provider}'s portal. If you do nothing, "
    "sharing stops on {date}.",
    "changed.subject": "{client} changed what it says it does",
    "changed.lead": "{client} changed its registration with {provider}: {changes}",
    "changed.more": "Your sharing has not changed: {client} still gets only what you agreed to, "
    "for the purpose you were shown. Please review it, and stop it if you no longer agree.",
    "changed.purpose": "its stated purpose is now “{purpose}”.",
    "changed.data": "it now asks for: {data}.",
    "suspended.subject": "{provider} has paused {client}",
    "suspended.lead": "{provider} has paused {client}'s access to data. While it is paused, "
    "{client} cannot read your data.",
    "suspended.more": "Your sharing is kept as it is. You can stop it at any time.",
    "reinstated.subject": "{client} can read your data again",
    "reinstated.lead": "{provider} has lifted the pause on {client}. It can again read the data "
    "you agreed to share.",
    "reinstated.more": "You can review or stop this sharing at any time.",
    "deletion_overdue.subject": "{client} has not confirmed deleting your data",
    "deletion_overdue.lead": "On {date} you asked {client} to delete the data it had from "
    "{provider}. {client} has not confirmed it has done so.",
    "deletion_overdue.more": "You may want to contact {client} directly. {provider} has "
    "recorded that the request is still open.",
    "fact.what": "What",
    "fact.accounts": "Accounts",
    "fact.accounts_count": "{n} account(s): see them in the portal",
    "fact.until": "Until",
    "fact.until_stopped": "Until you stop it (confirm once a year, next by {date})",
    "fact.one_time": "One time only",
    "portal": "See and manage your sharing: {url}",
    "portal_link": "See and manage your sharing",
    "stop": "You can stop sharing at any time in {provider}'s portal.",
    "footer": "{provider} sent you this because you share your data with apps through "
    "{provider}. We never ask for your password or codes by email.",
}

JA: dict[str, str] = {
    "granted.subject": "{client}と連携しました",
    "granted.lead": "{provider}にあるあなたのデータの一部を{client}と共有することに同意しました。",
    "granted.more": "",
    "ended.subject": "{client}とのデータ共有が停止しました",
    "ended.lead": "{client}は、{provider}にあるあなたのデータを読めなくなりました。{by}",
    "ended.more": "",
    "ended.by.INDIVIDUAL": "{date}にあなたが停止しました。",
    "ended.by.DATA_RECIPIENT": "{date}に{client}が停止しました。",
    "ended.by.DATA_PROVIDER": "{date}に{provider}が停止しました。",
    "ended.by.EXPIRED": "同意した期間が{date}に終了しました。",
    "ended.deletion": "すでに渡したデータの削除を{client}に依頼しました。"
    "{client}が削除を確認すると、"
    "{provider}のポータルに表示されます。",
    "expiring.subject": "{client}とのデータ共有は{date}に終了します",
    "expiring.lead": "{client}とのデータ共有の同意は{date}に終了します。",
    "expiring.more": "共有を続けるには、それまでに{provider}のポータルで更新してください。"
    "何もしなければ共有は停止します。",
    "reauthorize.subject": "{date}までに{client}との共有を確認してください",
    "reauthorize.lead": "{client}との共有は停止するまで続きますが、年に一度の確認が必要です。"
    "{date}までに確認してください。",
    "reauthorize.more": "共有を続けるには、{provider}のポータルで更新してください。"
    "何もしなければ{date}に共有は停止します。",
    "changed.subject": "{client}が登録内容を変更しました",
    "changed.lead": "{client}が{provider}への登録内容を変更しました：{changes}",
    "changed.more": "あなたの共有内容は変わりません。{client}が受け取るのは、同意した目的のために"
    "同意したデータだけです。内容を確認し、同意できない場合は共有を停止してください。",
    "changed.purpose": "利用目的は「{purpose}」になりました。",
    "changed.data": "求めるデータは{data}になりました。",
    "suspended.subject": "{provider}が{client}を一時停止しました",
    "suspended.lead": "{provider}は{client}によるデータへのアクセスを一時停止しました。"
    "停止中、{client}はあなたのデータを読めません。",
    "suspended.more": "あなたの共有設定はそのまま残ります。いつでも停止できます。",
    "reinstated.subject": "{client}が再びデータを読めるようになりました",
    "reinstated.lead": "{provider}は{client}の一時停止を解除しました。"
    "同意したデータを再び読むことができます。",
    "reinstated.more": "この共有はいつでも確認・停止できます。",
    "deletion_overdue.subject": "{client}がデータの削除を確認していません",
    "deletion_overdue.lead": "{date}に、{provider}から渡したデータの削除を"
    "{client}に依頼しましたが、"
    "{client}はまだ削除を確認していません。",
    "deletion_overdue.more": "{client}に直接問い合わせることをおすすめします。"
    "{provider}はこの依頼が未完了であることを記録しています。",
    "fact.what": "データ",
    "fact.accounts": "口座",
    "fact.accounts_count": "{n}件の口座（ポータルで確認できます）",
    "fact.until": "期限",
    "fact.until_stopped": "停止するまで（年に一度の確認が必要、次回は{date}まで）",
    "fact.one_time": "1回のみ",
    "portal": "共有の確認と管理：{url}",
    "portal_link": "共有の確認と管理",
    "stop": "共有は{provider}のポータルでいつでも停止できます。",
    "footer": "このメッセージは、あなたが{provider}を通じてアプリとデータを共有しているため"
    "送信されました。{provider}がメールでパスワードや確認コードを尋ねることはありません。",
}

STRINGS: Mapping[str, Mapping[str, str]] = {"en": EN, "ja": JA}

assert set(EN) == set(JA), "every notice string needs every language"


def text(lang: str) -> Mapping[str, str]:
    return STRINGS.get(lang) or _catalog_text(lang)


@cache
def _catalog_text(lang: str) -> Mapping[str, str]:
    """The notices from ``lang``'s gettext catalog (``notice.<key>``), English where it has
    none."""
    messages = locale.catalog(lang)
    return {key: messages.get("notice." + key, english) for key, english in EN.items()}


# What the portal's screens say about notices and deletion requests (merged into
# ``authz.screens.i18n``, kept here beside the notices' own words).
SCREEN_EN: dict[str, str] = {
    "nav_notices": "Messages",
    "notices_title": "Messages about your data sharing",
    "notices_intro": "Everything {provider} has told you about your data sharing, newest first. "
    "The same messages are sent to the email address {provider} has for you.",
    "no_notices": "You have no messages.",
    "notice_new": "New",
    "notices_unread": "You have {count} new messages about your data sharing.",
    "delete_data": "Ask {client} to delete the data it already has",
    "delete_data_note": "{client} will be asked to confirm when it has deleted it. You will "
    "see the answer here.",
    "deletion": "Deletion of your data",
    "deletion_confirmed": "Deletion confirmed by {client} on {date}.",
    "deletion_waiting": "Asked on {date}, not confirmed yet.",
    "deletion_overdue": "Asked on {date}, not confirmed yet. It has been more than 30 days: "
    "{provider} has been told.",
    "blocked_stopped": "Blocked: sharing had stopped",
    "blocked_not_shared": "Blocked: not shared",
    "blocked_refused": "Blocked: access refused",
    "not_completed": "Not completed",
    "chart_scale": "Accesses per day",
    "unused": "{client} has not used this for more than 30 days.",
    "unused_never": "{client} has not used this yet.",
    "consents_of_app": "What you share with {client}",
    "print": "Print this receipt",
    "receipt_signed": "The downloaded file is the same receipt, signed by {provider}, so anyone "
    "can check that it was not changed.",
    "stop_anytime": "You can stop sharing at any time in {provider}'s portal at {portal}, or ask "
    "{client} to disconnect.",
    "more_details": "More about each kind of data",
    "name_untranslated": "{client} has not given its name and purpose in English: they are "
    "shown as the app registered them.",
}

SCREEN_JA: dict[str, str] = {
    "nav_notices": "お知らせ",
    "notices_title": "データ共有に関するお知らせ",
    "notices_intro": "{provider}からのデータ共有に関するお知らせです（新しい順）。"
    "同じ内容を、{provider}に登録されているメールアドレスにもお送りしています。",
    "no_notices": "お知らせはありません。",
    "notice_new": "新着",
    "notices_unread": "データ共有に関する新しいお知らせが{count}件あります。",
    "delete_data": "すでに渡したデータの削除を{client}に依頼する",
    "delete_data_note": "{client}には削除が完了したら確認するよう依頼します。"
    "結果はここに表示されます。",
    "deletion": "データの削除",
    "deletion_confirmed": "{date}に{client}が削除を確認しました。",
    "deletion_waiting": "{date}に依頼しました。まだ確認されていません。",
    "deletion_overdue": "{date}に依頼しました。まだ確認されていません。30日以上経過したため、"
    "{provider}に報告済みです。",
    "blocked_stopped": "拒否：共有は停止済みでした",
    "blocked_not_shared": "拒否：共有していないデータ",
    "blocked_refused": "拒否：アクセスは認められませんでした",
    "not_completed": "完了しませんでした",
    "chart_scale": "1日あたりのアクセス数",
    "unused": "{client}は30日以上これを使っていません。",
    "unused_never": "{client}はまだこれを使っていません。",
    "consents_of_app": "{client}と共有している内容",
    "print": "この受領書を印刷",
    "receipt_signed": "ダウンロードしたファイルは{provider}が署名した同じ受領書で、"
    "内容が変更されていないことを誰でも確認できます。",
    "stop_anytime": "共有は{provider}のポータル（{portal}）でいつでも停止できます。"
    "{client}で連携を解除することもできます。",
    "more_details": "データの種類ごとの詳細",
    "name_untranslated": "{client}は日本語の名称と利用目的を登録していないため、"
    "登録されたとおりに表示しています。",
}

assert set(SCREEN_EN) == set(SCREEN_JA), "every screen string needs every language"

"""What the portal's templates show about a consent, in the consumer's words and language.

Plain values only (strings, lists, dicts): templates escape them; nothing here builds markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authz.consent import lifecycle
from authz.consent.model import Consent, ConsentEvent, ConsentStatus, DurationType
from authz.consent.receipts import AccountLabel
from authz.notices import dates
from authz.pushed import ConsentRequest
from authz.registration import languages
from authz.services import Services
from authz.store.base import ClientRecord
from config.policy import Policy

RENEW_WITHIN_DAYS = 30  # the renew button shows this close to the end
ENDINGS = ("revoked", "expired", "denied")


def when(ts: float, lang: str = "en", tz: str = "UTC") -> str:
    """Date and time in words, in ``lang`` and the zone ``tz``: "7 March 2027, 14:05 UTC"."""
    return dates.at(ts, lang, tz)


def day(ts: float, lang: str = "en", tz: str = "UTC") -> str:
    """The date in words: "7 March 2027"."""
    return dates.in_words(ts, lang, tz)


def web_link(uri: str | None) -> str | None:
    """Only http(s) URLs become links or images (never ``javascript:`` or ``data:``)."""
    parts = urlsplit(uri or "")
    return uri if parts.scheme in ("https", "http") and parts.netloc else None


def clusters(policy: Policy, names: Iterable[str], lang: str) -> list[dict[str, Any]]:
    """Each cluster in the policy's words, with the exact fields it releases (the same
    disclosure as the consent screen's, from ``config/clusters.toml``)."""
    out = []
    for cluster in policy.ordered(names):
        wording = cluster.wording(lang)
        out.append(
            {
                "name": cluster.name,
                "title": wording.title,
                "summary": wording.summary,
                "releases": list(wording.releases),
                "fields": [(obj, sorted(f)) for obj, f in sorted(cluster.fields.items())],
            }
        )
    return out


def accounts(
    consent: Consent, labels: Mapping[str, AccountLabel], t: Mapping[str, str], provider: str
) -> list[dict[str, str]]:
    out = []
    for account_id in consent.account_ids:
        label = labels.get(account_id)
        if label is None or (label.name == account_id and label.number is None):
            unknown = t["account_unknown"].format(id=account_id, provider=provider)
            out.append({"name": unknown, "number": ""})
        else:
            out.append({"name": label.name, "number": label.number or ""})
    return out


def duration(consent: Consent, t: Mapping[str, str]) -> str:
    if consent.duration_type is DurationType.ONE_TIME:
        return t["duration_one_time"]
    if consent.duration_type is DurationType.TIME_BOUND and consent.duration_period:
        return t["duration_time_bound"].format(days=consent.duration_period)
    return t["duration_persistent"]


def lookback(consent: Consent, t: Mapping[str, str]) -> str:
    if consent.lookback_period is None:
        return t["lookback_all"]
    return t["lookback_days"].format(days=consent.lookback_period)


def status(consent: Consent, now: float) -> ConsentStatus:
    """The status as the consumer should read it: an ACTIVE consent past its expiry has ended,
    even before anyone recorded the EXPIRED transition (expiry is checked on use)."""
    if consent.status is ConsentStatus.ACTIVE and not consent.is_active(now):
        return ConsentStatus.EXPIRED
    return consent.status


def renewable(consent: Consent) -> bool:
    """What lifecycle.renew accepts: ACTIVE and not ONE_TIME (a single session)."""
    return consent.status is ConsentStatus.ACTIVE and (
        consent.duration_type is not DurationType.ONE_TIME
    )


def renew_due(consent: Consent, now: float) -> bool:
    """Renewable, still active, and ending within ``RENEW_WITHIN_DAYS``: when the button shows."""
    return (
        renewable(consent)
        and consent.is_active(now)
        and consent.expires_at is not None
        and consent.expires_at - now <= RENEW_WITHIN_DAYS * lifecycle.DAY
    )


def renewed_until(consent: Consent, now: float, services: Services) -> float:
    """The end a renewal at ``now`` would give (the lifecycle's own expiry rule)."""
    rule = ConsentRequest(
        duration_type=consent.duration_type,
        duration_period=consent.duration_period,
        lookback_period=consent.lookback_period,
        clusters=(),
    )
    return lifecycle.expiry(rule, now, services.settings)


@dataclass(frozen=True, slots=True)
class Ending:
    time: float
    by: str  # in the consumer's words: "You", the app's name, the bank's name, "time ran out"


def ending(
    consent: Consent,
    events: Sequence[ConsentEvent],
    now: float,
    t: Mapping[str, str],
    *,
    client_name: str,
    provider: str,
) -> Ending | None:
    """When and by whom a consent ended (from its events), or None while it is active."""
    last = next((e for e in reversed(events) if e.event in ENDINGS), None)
    if last is None:
        if status(consent, now) is ConsentStatus.EXPIRED and consent.expires_at is not None:
            return Ending(consent.expires_at, t["ended_by_time"])
        return None
    if last.event == "expired":
        # Recorded when first seen; it happened at expires_at.
        return Ending(min(last.time, consent.expires_at or last.time), t["ended_by_time"])
    return Ending(last.time, actor(last.actor, t, client_name=client_name, provider=provider))


def actor(party: str, t: Mapping[str, str], *, client_name: str, provider: str) -> str:
    text = t.get("actor_" + party)
    return text.format(client=client_name, provider=provider) if text else party


def event_rows(
    events: Sequence[ConsentEvent],
    consent: Consent,
    t: Mapping[str, str],
    *,
    lang: str = "en",
    tz: str = "UTC",
    **names: str,
) -> list[dict[str, str]]:
    rows = []
    for e in events:
        at = e.time
        if e.event == "expired" and consent.expires_at is not None:
            at = min(e.time, consent.expires_at)
        rows.append(
            {
                "when": when(at, lang, tz),
                "what": t.get("event_" + e.event, e.event),
                "by": actor(e.actor, t, **names),
            }
        )
    return rows


async def client_map(
    services: Services, client_ids: Iterable[str], lang: str = "en"
) -> dict[str, ClientRecord]:
    """Each recipient, named in ``lang`` where it registered a name in it (RFC 7591 §2.2)."""
    out = {}
    for client_id in set(client_ids):
        client = await services.records.clients.get(client_id)
        if client is not None:
            out[client_id] = languages.localized(client, lang)[0]
    return out


async def client_in(services: Services, client_id: str, lang: str) -> ClientRecord | None:
    client = await services.records.clients.get(client_id)
    return languages.localized(client, lang)[0] if client is not None else None


def client_name(clients: Mapping[str, ClientRecord], client_id: str) -> str:
    client = clients.get(client_id)
    return client.client_name if client else client_id

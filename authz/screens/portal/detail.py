"""One consent's page: what is shared, every access (log and chart), the exact fields that leave
the bank, what happened to the consent, and its receipts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from authz.consent.model import Consent, ConsentStatus
from authz.consent.receipts import AccountLabel, account_labels, receipt_events
from authz.notices.dates import in_words
from authz.notices.store import DeletionRequest
from authz.screens import logos
from authz.screens.portal import chart, views
from authz.screens.portal.visit import HOME, Visit
from authz.store.base import AuditEvent
from config.policy import Policy

PAGE_SIZE = 50  # accesses per page of the log, newest first
DONE = ("revoked", "renewed")


async def consent_page(visit: Visit) -> Response:
    """GET /consumer/consents/{consent_id}[?page=n]."""
    services, t, lang = visit.services, visit.t, visit.lang
    consent = await visit.own_consent(visit.request.path_params["consent_id"])
    now = services.clock()
    client = await views.client_in(services, consent.client_id, visit.lang)
    name = client.client_name if client else consent.client_id
    provider = services.settings.provider_name
    events = await services.records.consents.events(consent.id)
    audit = await services.records.audit.of_consent(consent.id)
    labels = await account_labels(services.bank, consent.customer_id, consent.account_ids)
    page_no, pages = _page(visit, len(audit))
    newest_first = list(reversed(audit))
    shown = newest_first[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]
    tz = services.settings.display_timezone
    drawn = chart.daily((a.time for a in audit), now, lang=lang, tz=tz)
    end = views.ending(consent, events, now, t, client_name=name, provider=provider)
    current = views.status(consent, now)
    done = visit.request.query_params.get("done")
    here = f"{HOME}/consents/{quote(consent.id, safe='')}"
    deletion = await services.notices.deletions.get(consent.id)
    return visit.render(
        "portal/consent.html",
        here=here,
        nav="apps" if current is ConsentStatus.ACTIVE else "history",
        consent_id=consent.id,
        base=here,
        client_name=name,
        logo=logos.logo(client.logo_uri if client else None, name, services.settings.issuer),
        purpose=consent.purpose or (client.description if client else "") or "",
        state=t["status_" + current.value],
        active=current is ConsentStatus.ACTIVE,
        renew_due=views.renew_due(consent, now),
        clusters=views.clusters(services.policy, consent.clusters, lang),
        accounts=views.accounts(consent, labels, t, provider),
        granted=visit.when(consent.created_at),
        expires=visit.when(consent.expires_at) if consent.expires_at else "",
        duration=views.duration(consent, t),
        lookback=views.lookback(consent, t),
        ended={"when": visit.when(end.time), "by": end.by} if end else None,
        log=[_access_row(visit, a, labels, services.policy, end) for a in shown],
        log_total=len(audit),
        log_first=(page_no - 1) * PAGE_SIZE + 1,
        log_last=(page_no - 1) * PAGE_SIZE + len(shown),
        newer=f"{here}?page={page_no - 1}" if page_no > 1 else None,
        older=f"{here}?page={page_no + 1}" if page_no < pages else None,
        chart=drawn,
        chart_summary=t["chart_summary"].format(total=drawn.total, peak=drawn.peak),
        events=views.event_rows(
            events,
            consent,
            t,
            lang=lang,
            tz=services.settings.display_timezone,
            client_name=name,
            provider=provider,
        ),
        receipts=[
            {"n": n, "what": t.get("event_" + e.event, e.event), "when": visit.when(e.time)}
            for n, e in enumerate(receipt_events(events), start=1)
        ],
        done=t[done + "_done"].format(client=name, date=_end(visit, consent))
        if done in DONE
        else None,
        deletion=_deletion(deletion, t, lang, client=name, provider=provider),
        deletion_done=deletion is not None and deletion.confirmed_at is not None,
    )


def _deletion(
    request: DeletionRequest | None, t: Mapping[str, str], lang: str, **names: str
) -> str | None:
    """ "Deletion confirmed by X on <date>", or "Asked on <date>, not confirmed yet"."""
    if request is None:
        return None
    if request.confirmed_at is not None:
        return t["deletion_confirmed"].format(date=in_words(request.confirmed_at, lang), **names)
    key = "deletion_overdue" if request.overdue_told_at is not None else "deletion_waiting"
    return t[key].format(date=in_words(request.asked_at, lang), **names)


def _page(visit: Visit, total: int) -> tuple[int, int]:
    pages = max(1, -(-total // PAGE_SIZE))
    raw = visit.request.query_params.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    return min(max(number, 1), pages), pages


def _access_row(
    visit: Visit,
    event: AuditEvent,
    labels: Mapping[str, AccountLabel],
    policy: Policy,
    end: views.Ending | None,
) -> dict[str, Any]:
    return {
        "when": visit.when(event.time),
        "data": [c["title"] for c in views.clusters(policy, event.clusters, visit.lang)],
        "accounts": _account_names(event.account_ids, labels),
        "records": event.record_count,
        "blocked": _refusal(visit, event, end),
    }


def _refusal(visit: Visit, event: AuditEvent, end: views.Ending | None) -> str | None:
    """What a refused attempt was, in the consumer's words; None for an access that was served.

    The gate answers 401 to a consent no longer active (or an app the bank paused, or a token
    the app itself revoked), 403 to data outside the consent's clusters and 404 to an account
    outside it (docs/fdx.md §3)."""
    if event.status < 400:
        return None
    t = visit.t
    if event.status == 401:
        stopped = end is not None and event.time >= end.time
        return t["blocked_stopped"] if stopped else t["blocked_refused"]
    if event.status in (403, 404):
        return t["blocked_not_shared"]
    return t["not_completed"]


def _account_names(ids: Sequence[str], labels: Mapping[str, AccountLabel]) -> list[str]:
    out = []
    for account_id in ids:
        label = labels.get(account_id)
        if label is None or label.number is None:
            out.append(label.name if label else account_id)
        else:
            out.append(f"{label.name} {label.number}")
    return out


def _end(visit: Visit, consent: Consent) -> str:
    return visit.when(consent.expires_at) if consent.expires_at else ""

"""The portal's two lists: apps that can see the consumer's data now, and past connections."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from authz.consent import lifecycle
from authz.consent.model import Consent
from authz.consent.receipts import AccountLabel, account_labels
from authz.screens import logos
from authz.screens.portal import views
from authz.screens.portal.visit import HOME, Visit
from authz.store.base import ClientRecord

UNUSED_DAYS = 30  # a consent no access used for this long is flagged on its app's card


async def connected(visit: Visit) -> Response:
    """GET /consumer: one card per app, listing its consents that are active now."""
    services = visit.services
    now = services.clock()
    active = [
        c
        for c in await services.records.consents.find(customer_id=visit.customer_id)
        if c.is_active(now)
    ]
    clients = await views.client_map(services, (c.client_id for c in active), visit.lang)
    shared = sorted({a for c in active for a in c.account_ids})
    labels = await account_labels(services.bank, visit.customer_id, shared) if shared else {}
    by_app: dict[str, list[dict[str, Any]]] = {}
    for consent in active:
        item = await _card(visit, consent, clients.get(consent.client_id), labels, now)
        by_app.setdefault(consent.client_id, []).append(item)
    cards = [
        {
            "client_name": items[0]["client_name"],
            "logo": items[0]["logo"],
            "consents": items,
        }
        for items in by_app.values()
    ]
    unread = await services.notices.inbox.unread(visit.customer_id)
    return visit.render("portal/apps.html", here=HOME, nav="apps", cards=cards, unread=unread)


async def history(visit: Visit) -> Response:
    """GET /consumer/history: consents that ended (revoked, expired) or were refused, with when
    and by whom."""
    services = visit.services
    now = services.clock()
    ended = [
        c
        for c in await services.records.consents.find(customer_id=visit.customer_id)
        if not c.is_active(now)
    ]
    clients = await views.client_map(services, (c.client_id for c in ended), visit.lang)
    provider, policy, lang = services.settings.provider_name, services.policy, visit.lang
    rows = []
    for consent in ended:
        name = views.client_name(clients, consent.client_id)
        events = await services.records.consents.events(consent.id)
        end = views.ending(consent, events, now, visit.t, client_name=name, provider=provider)
        rows.append(
            {
                "id": consent.id,
                "client_name": name,
                "status": visit.t["status_" + views.status(consent, now).value],
                "granted": visit.day(consent.created_at),
                "ended": visit.when(end.time) if end else "",
                "by": end.by if end else "",
                "clusters": [c["title"] for c in views.clusters(policy, consent.clusters, lang)],
            }
        )
    return visit.render("portal/history.html", here=HOME + "/history", nav="history", rows=rows)


async def _card(
    visit: Visit,
    consent: Consent,
    client: ClientRecord | None,
    labels: dict[str, AccountLabel],
    now: float,
) -> dict[str, Any]:
    services = visit.services
    audit = await services.records.audit.of_consent(consent.id)
    last = max((a.time for a in audit if a.status < 400), default=None)  # served, not refused
    name = client.client_name if client else consent.client_id
    unused = None
    if now - (last if last is not None else consent.created_at) > UNUSED_DAYS * lifecycle.DAY:
        unused = visit.t["unused" if last is not None else "unused_never"].format(client=name)
    return {
        "id": consent.id,
        "client_name": client.client_name if client else consent.client_id,
        "logo": logos.logo(
            client.logo_uri if client else None,
            client.client_name if client else consent.client_id,
            services.settings.issuer,
        ),
        "purpose": consent.purpose or (client.description if client else "") or "",
        "clusters": views.clusters(services.policy, consent.clusters, visit.lang),
        "accounts": views.accounts(consent, labels, visit.t, services.settings.provider_name),
        "granted": visit.day(consent.created_at),
        "expires": visit.when(consent.expires_at) if consent.expires_at else "",
        "last_accessed": visit.when(last) if last is not None else visit.t["never"],
        "renew_due": views.renew_due(consent, now),
        "unused": unused,
    }

"""The consumer's own records as one JSON file: every consent with its history, and every data
access through it (docs/fdx.md §7). Nothing of any other customer, and not the bank's internal
customer id: the file names the consumer by the same pairwise subject as the receipts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from authz.access_tokens import pairwise_subject
from authz.consent.model import Consent, ConsentEvent
from authz.consent.receipts import SUBJECT_AUDIENCE, iso
from authz.screens.portal import views
from authz.screens.portal.visit import Visit
from authz.screens.render import security_headers
from authz.store.base import AuditEvent

FORMAT = "fdx-gateway.consumer-export.v1"


async def export(visit: Visit) -> Response:
    """GET /consumer/export.json, as a download."""
    services = visit.services
    customer_id = visit.customer_id
    now = services.clock()
    consents = await services.records.consents.find(customer_id=customer_id)
    clients = await views.client_map(services, (c.client_id for c in consents))
    body = {
        "format": FORMAT,
        "exportedAt": iso(now),
        "provider": services.settings.provider_name,
        "subject": pairwise_subject(services.secret, customer_id, SUBJECT_AUDIENCE),
        "consents": [
            _consent(
                c,
                views.client_name(clients, c.client_id),
                await services.records.consents.events(c.id),
                await services.records.audit.of_consent(c.id),
                now,
            )
            for c in consents
            if c.customer_id == customer_id  # the store filtered; never trust one line for it
        ],
    }
    headers = security_headers()
    headers["Content-Disposition"] = (
        f'attachment; filename="data-sharing-records-{_iso_day(now)}.json"'
    )
    return Response(
        orjson.dumps(body, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers=headers,
    )


def _consent(
    consent: Consent,
    client_name: str,
    events: list[ConsentEvent],
    accesses: list[AuditEvent],
    now: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "consentId": consent.id,
        "status": views.status(consent, now).value,
        "recipient": {"clientId": consent.client_id, "name": client_name},
        "purpose": consent.purpose,
        "createdTime": iso(consent.created_at),
        "updatedTime": iso(consent.updated_at),
        "expirationTime": iso(consent.expires_at) if consent.expires_at else None,
        "durationType": consent.duration_type.value,
        "durationPeriod": consent.duration_period,
        "lookbackPeriod": consent.lookback_period,
        "resources": [r.to_fdx() for r in consent.resources],
        "events": [
            {
                "time": iso(e.time),
                "event": e.event,
                "actor": e.actor,
                "reason": e.reason,
            }
            for e in events
        ],
        "accesses": [
            {
                "time": iso(a.time),
                "endpoint": a.endpoint,
                "accountIds": list(a.account_ids),
                "dataClusters": list(a.clusters),
                "recordCount": a.record_count,
                "status": a.status,
                "interactionId": a.interaction_id,
            }
            for a in accesses
            if a.consent_id == consent.id
        ],
    }
    return out


def _iso_day(ts: float) -> str:
    """A file name's date: machine order, so downloads sort by date."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")

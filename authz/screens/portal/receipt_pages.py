"""A consent receipt as the consumer gets it: a signed file (``application/jose``) to keep, and
a readable page stating the same facts."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from starlette.responses import Response

from authz.consent import receipts
from authz.screens.portal import views
from authz.screens.portal.visit import HOME, PortalError, Visit
from authz.screens.render import security_headers

_SAFE_NAME = re.compile(r"[^A-Za-z0-9-]")


async def _receipt(visit: Visit) -> receipts.Receipt:
    consent = await visit.own_consent(visit.request.path_params["consent_id"])
    number = int(visit.request.path_params["n"])
    found = await receipts.load_receipts(visit.services, consent)
    if not 1 <= number <= len(found):
        raise PortalError("not_found")
    return found[number - 1]


async def download(visit: Visit) -> Response:
    """GET /consumer/consents/{id}/receipts/{n}.jws: the compact JWS, as a file."""
    receipt = await _receipt(visit)
    token = receipts.sign(visit.services.keys, receipt.claims)
    name = _SAFE_NAME.sub("", str(receipt.claims["consentId"]))[:64] or "consent"
    headers = security_headers()
    headers["Content-Disposition"] = f'attachment; filename="receipt-{name}-{receipt.number}.jws"'
    return Response(token, media_type=receipts.MEDIA_TYPE, headers=headers)


async def show(visit: Visit) -> Response:
    """GET /consumer/consents/{id}/receipts/{n}: the same receipt, readable."""
    receipt = await _receipt(visit)
    c, t = receipt.claims, visit.t
    settings = visit.services.settings
    consent_path = f"{HOME}/consents/{quote(str(c['consentId']), safe='')}"
    here = f"{consent_path}/receipts/{receipt.number}"
    names = {"client_name": c["recipient"]["name"], "provider": settings.provider_name}
    return visit.render(
        "portal/receipt.html",
        here=here,
        nav="",
        title=t["receipt_title"].format(event=t.get("event_" + c["event"], c["event"])),
        claims=c,
        when=visit.when(receipt.event.time),
        actor=views.actor(c["actor"], t, **names),
        clusters=views.clusters(visit.services.policy, c["dataClusters"], visit.lang),
        accounts=c["accounts"],
        ends=visit.when(_ts(c)),
        jwks=f"{settings.issuer}/jwks",
        download=here + ".jws",
        back=consent_path,
        number=receipt.number,
    )


def _ts(claims: dict[str, object]) -> float:
    """``expirationTime`` back to a timestamp (ISO 8601 with Z, Python 3.11 reads it)."""
    return datetime.fromisoformat(str(claims["expirationTime"])).timestamp()

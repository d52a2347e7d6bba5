"""Stopping and renewing a consent from the portal: a confirmation page, then one POST.

Stopping is as easy as granting and is never throttled or made to depend on the bank: the POST
touches only the consent record (``lifecycle.revoke``), and the FDX gate reads that record on the
recipient's very next call. Renewing is a fresh authorization of the same scope, so its page
restates who, what and until when, as the consent screen did.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from authz.consent import lifecycle
from authz.consent.model import Consent
from authz.consent.receipts import account_labels
from authz.notices.store import DeletionRequest
from authz.notifications import message
from authz.screens import logos
from authz.screens.portal import views
from authz.screens.portal.visit import HOME, PortalError, Visit, redirect


async def confirm_revoke(visit: Visit) -> Response:
    """GET /consumer/consents/{id}/revoke: "Stop sharing with X?"."""
    consent = await visit.own_consent(visit.request.path_params["consent_id"])
    here = _base(consent)
    if not consent.is_active(visit.services.clock()):
        return redirect(here)  # nothing left to stop
    client = await views.client_in(visit.services, consent.client_id, visit.lang)
    return visit.render(
        "portal/revoke.html",
        here=here + "/revoke",
        nav="apps",
        client_name=client.client_name if client else consent.client_id,
        action=here + "/revoke",
        back=here,
        csrf=visit.csrf("revoke:" + consent.id),
    )


async def revoke(visit: Visit) -> Response:
    """POST /consumer/consents/{id}/revoke: the consumer ends the consent (FDX PartyType
    INDIVIDUAL, ConsentUpdateReason USER_ACTION); its refresh tokens die with it. With
    ``delete_data`` ticked (the default) the app is asked, in the signed revocation
    notification, to delete the data it already has, and the request is kept until it
    confirms."""
    consent_id = visit.request.path_params["consent_id"]
    form = await visit.form("revoke:" + consent_id)
    consent = await visit.own_consent(consent_id)
    delete = form.get("delete_data") == "yes"
    detail = "consumer portal" + ("; " + message.DELETION_ASKED if delete else "")
    services = visit.services
    try:
        revocation = await lifecycle.revoke(
            services,
            consent.id,
            actor=lifecycle.INDIVIDUAL,
            reason=lifecycle.USER_ACTION,
            detail=detail,
        )
    except lifecycle.RevocationConflict:
        raise PortalError("busy") from None
    if revocation.changed and delete:
        asked = DeletionRequest(
            consent.id, consent.client_id, consent.customer_id, asked_at=services.clock()
        )
        await services.notices.deletions.ask(asked)
    return redirect(_base(consent) + "?done=revoked")


async def confirm_renew(visit: Visit) -> Response:
    """GET /consumer/consents/{id}/renew: the same scope, restated, and the new end date."""
    services = visit.services
    consent = await visit.own_consent(visit.request.path_params["consent_id"])
    now = services.clock()
    if not (views.renewable(consent) and consent.is_active(now)):
        raise PortalError("not_renewable")
    client = await views.client_in(services, consent.client_id, visit.lang)
    labels = await account_labels(services.bank, consent.customer_id, consent.account_ids)
    here = _base(consent)
    return visit.render(
        "portal/renew.html",
        here=here + "/renew",
        nav="apps",
        client_name=client.client_name if client else consent.client_id,
        logo=logos.logo(
            client.logo_uri if client else None,
            client.client_name if client else consent.client_id,
            services.settings.issuer,
        ),
        purpose=consent.purpose,
        clusters=views.clusters(services.policy, consent.clusters, visit.lang),
        accounts=views.accounts(consent, labels, visit.t, services.settings.provider_name),
        duration=views.duration(consent, visit.t),
        lookback=views.lookback(consent, visit.t),
        expires=visit.when(consent.expires_at) if consent.expires_at else "",
        until=visit.when(views.renewed_until(consent, now, services)),
        action=here + "/renew",
        back=here,
        csrf=visit.csrf("renew:" + consent.id),
    )


async def renew(visit: Visit) -> Response:
    """POST /consumer/consents/{id}/renew."""
    consent_id = visit.request.path_params["consent_id"]
    await visit.form("renew:" + consent_id)
    consent = await visit.own_consent(consent_id)
    try:
        await lifecycle.renew(visit.services, consent.id, actor=lifecycle.INDIVIDUAL)
    except lifecycle.ConsentNotRenewable:
        raise PortalError("not_renewable") from None
    except lifecycle.TransitionConflict:
        raise PortalError("busy") from None
    return redirect(_base(consent) + "?done=renewed")


def _base(consent: Consent) -> str:
    return f"{HOME}/consents/{quote(consent.id, safe='')}"

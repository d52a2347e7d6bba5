"""The consent screen and the consumer's decision.

The screen discloses what CFPB 12 CFR §1033.411 asks for (docs/fdx.md §7): the recipient, its
purpose, the data provider, each data cluster in plain words (with the exact fields), the duration
and its end date, the look-back period and how to revoke. The consumer picks accounts and optional
clusters (nothing pre-ticked: consent is opt-in) and approves or denies; both are one click.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.base import Account
from adapters.errors import AdapterError
from authz.authorization import SignedIn, finish_interaction, refuse_interaction
from authz.consent import lifecycle
from authz.consent.model import DurationType
from authz.errors import OAuth2Error, RequestTooLargeError
from authz.forms import read_form
from authz.notices import dates
from authz.notices.notices import remember_language
from authz.registration import languages
from authz.screens import csrf, i18n, logos
from authz.screens.interaction import Interaction, Interactions
from authz.screens.pages import error_page, with_language
from authz.screens.render import page, security_headers
from authz.screens.session import Session, Sessions
from authz.services import Services
from authz.store.base import ClientRecord
from config.policy import Cluster

ACCOUNT = "account:"  # form field prefix: one checkbox per account (read_form refuses repeats)
CLUSTER = "cluster:"  # one checkbox per optional cluster


async def consent_page(
    services: Services,
    request: Request,
    interaction: Interaction,
    client: ClientRecord,
    session: Session,
    lang: str,
    *,
    status: int = 200,
    message: str | None = None,
    ticked: Iterable[str] = (),
) -> Response:
    settings = services.settings
    try:
        accounts = await open_accounts(services, session.customer_id)
    except AdapterError:
        return error_page(settings, lang, "bank_unavailable")
    client, untranslated = languages.localized(client, lang)  # RFC 7591 §2.2
    response = page(
        settings,
        "consent.html",
        lang,
        here=f"/oauth/interaction/{interaction.id}",
        status=status,
        form_targets=client.redirect_uris,
        client=client,
        untranslated=untranslated and lang != settings.languages[0],
        client_uri=_web_link(client.client_uri),
        logo=logos.logo(client.logo_uri, client.client_name, settings.issuer),
        purpose=_purpose(interaction, client),
        action=f"/oauth/interaction/{interaction.id}/consent",
        csrf=csrf.token(services.secret, session.id, interaction.id),
        message=message,
        ticked=frozenset(ticked),
        **disclosure(services, interaction, lang),
        accounts=[_account_view(a, lang) for a in accounts],
    )
    return with_language(request, response, settings)


def disclosure(services: Services, interaction: Interaction, lang: str) -> dict[str, Any]:
    """What the consumer is asked to share, for how long and how far back, in ``lang``."""
    settings, policy = services.settings, services.policy
    asked = interaction.request.consent
    t = i18n.text(lang)
    now = services.clock()
    clusters = [
        _cluster_view(c, lang, optional=c.name not in asked.clusters)
        for c in policy.ordered([*asked.clusters, *asked.optional_clusters])
    ]
    if asked.duration_type is DurationType.ONE_TIME:
        duration = t["duration_one_time"]
    elif asked.duration_type is DurationType.TIME_BOUND:
        days = (lifecycle.expiry(asked, now, settings) - now) // lifecycle.DAY
        duration = t["duration_time_bound"].format(days=int(days))
    else:
        duration = t["duration_persistent"]
    expires = dates.at(lifecycle.expiry(asked, now, settings), lang, settings.display_timezone)
    if asked.lookback_period is None:
        lookback = t["lookback_all"]
    else:
        start = dates.in_words(
            now - asked.lookback_period * lifecycle.DAY, lang, settings.display_timezone
        )
        lookback = t["lookback_from"].format(date=start)
    return {
        "clusters": clusters,
        "duration": duration,
        "expires": t["expires"].format(date=expires),
        "lookback": lookback,
    }


async def open_accounts(services: Services, customer_id: str) -> list[Account]:
    """The customer's accounts that may be shared: closed ones are not offered."""
    accounts = await services.bank.list_accounts(customer_id)
    return [
        a
        for a in accounts
        if isinstance(a.get("accountId"), str) and str(a.get("status", "")).upper() != "CLOSED"
    ]


async def decide(services: Services, request: Request) -> Response:
    """POST /oauth/interaction/{id}/consent: approve or deny."""
    settings = services.settings
    lang = i18n.choose(request, settings.languages)
    interactions = Interactions(services)
    interaction = await interactions.load(request.path_params["interaction_id"])
    if interaction is None:
        return error_page(settings, lang, "link_expired")
    session = await Sessions(services).current(request)
    if session is None:
        return error_page(settings, lang, "signed_out")
    if interaction.customer_id != session.customer_id:
        return error_page(settings, lang, "forbidden")
    client = await services.records.clients.get(interaction.request.client_id)
    if (
        client is None
        or client.status != "approved"
        or interaction.request.redirect_uri not in client.redirect_uris
    ):
        return error_page(settings, lang, "client_unavailable")
    try:
        form = await read_form(request, max_bytes=settings.max_body_bytes)
    except RequestTooLargeError:
        return error_page(settings, lang, "bad_request", status=413)
    except OAuth2Error:
        return error_page(settings, lang, "bad_request")
    if not csrf.valid(services.secret, session.id, interaction.id, form.get(csrf.FIELD)):
        return error_page(settings, lang, "forbidden")
    await remember_language(services, session.customer_id, lang)  # the grant notice's language
    decision = form.get("decision")
    if decision == "deny":
        return await _deny(services, interaction, client, lang)
    if decision != "approve":
        return error_page(settings, lang, "bad_request")
    return await _approve(services, request, interaction, client, session, lang, form)


async def _deny(
    services: Services, interaction: Interaction, client: ClientRecord, lang: str
) -> Response:
    """The refusal is recorded and the app told ``access_denied`` (authz/authorization.py). No
    extra step: refusing costs nothing."""
    if not await Interactions(services).finish(interaction):
        return error_page(services.settings, lang, "link_expired")
    pushed = interaction.request
    consent, event = lifecycle.deny(
        consent_id=str(uuid.uuid4()),
        request=pushed.consent,
        client_id=pushed.client_id,
        customer_id=str(interaction.customer_id),
        purpose=_purpose(interaction, client),
        now=services.clock(),
    )
    url = await refuse_interaction(services, pushed, consent, event)
    return _to_client(pushed.redirect_uri, url)


async def _approve(
    services: Services,
    request: Request,
    interaction: Interaction,
    client: ClientRecord,
    session: Session,
    lang: str,
    form: Mapping[str, str],
) -> Response:
    settings = services.settings
    asked = interaction.request.consent
    chosen = {k.removeprefix(ACCOUNT) for k in form if k.startswith(ACCOUNT)}
    optional = {k.removeprefix(CLUSTER) for k in form if k.startswith(CLUSTER)}
    try:
        accounts = [a["accountId"] for a in await open_accounts(services, session.customer_id)]
    except AdapterError:
        return error_page(settings, lang, "bank_unavailable")
    ticked = [k for k in form if k.startswith((ACCOUNT, CLUSTER))]
    problem = None
    if not chosen:
        problem = "pick_account"
    elif not chosen <= set(accounts) or not optional <= set(asked.optional_clusters):
        problem = "bad_choice"
    if problem is not None:
        return await consent_page(
            services, request, interaction, client, session, lang,
            status=400, message=i18n.text(lang)[problem], ticked=ticked,
        )  # fmt: skip
    if not await Interactions(services).finish(interaction):
        return error_page(settings, lang, "link_expired")
    consent, event = lifecycle.grant(
        consent_id=str(uuid.uuid4()),
        request=asked,
        requested_scope=interaction.request.scope,
        client_id=client.client_id,
        customer_id=session.customer_id,
        account_ids=[a for a in accounts if a in chosen],
        optional_clusters=optional,
        purpose=_purpose(interaction, client),
        now=services.clock(),
        settings=settings,
        policy=services.policy,
    )
    who = SignedIn(session.customer_id, session.auth_time, session.acr, session.amr)
    url = await finish_interaction(services, interaction.request, who, consent, event)
    return _to_client(interaction.request.redirect_uri, url)


def _to_client(redirect_uri: str, url: str) -> Response:
    """303 to ``url`` (on the client's ``redirect_uri``), which the page's CSP lets it follow."""
    return RedirectResponse(url, status_code=303, headers=security_headers([redirect_uri]))


def _purpose(interaction: Interaction, client: ClientRecord) -> str:
    return interaction.request.consent.purpose or client.description or ""


def _web_link(uri: str | None) -> str | None:
    """Only http(s) URLs become links or images (never ``javascript:`` or ``data:``)."""
    if uri and urlsplit(uri).scheme in ("https", "http") and urlsplit(uri).netloc:
        return uri
    return None


def _cluster_view(cluster: Cluster, lang: str, *, optional: bool) -> dict[str, Any]:
    wording = cluster.wording(lang)
    return {
        "name": cluster.name,
        "title": wording.title,
        "summary": wording.summary,
        "releases": list(wording.releases),
        "fields": [(obj, sorted(names)) for obj, names in sorted(cluster.fields.items())],
        "optional": optional,
    }


def _account_view(account: Account, lang: str) -> dict[str, str]:
    name = account.get("productName") or account.get("nickname") or account.get("description")
    return {
        "id": str(account["accountId"]),
        "name": str(name or ""),
        "nickname": str(account.get("nickname") or ""),
        "type": i18n.account_type(lang, str(account.get("accountType", ""))),
        "number": str(account.get("accountNumberDisplay") or ""),
    }


__all__ = ["consent_page", "decide", "disclosure", "open_accounts"]

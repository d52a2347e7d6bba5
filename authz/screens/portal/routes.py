"""The consumer portal's routes under /consumer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from authz.screens.portal import apps, changes, detail, export, inbox, receipt_pages, signin
from authz.screens.portal.visit import HOME, Handler, signed_in
from authz.services import Services

CONSENT = HOME + "/consents/{consent_id}"


def routes(services: Services) -> list[BaseRoute]:
    def bound(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        return partial(handler, services)

    def get(path: str, handler: Handler) -> Route:
        return Route(path, bound(handler), methods=["GET"])

    def post(path: str, handler: Handler) -> Route:
        return Route(path, bound(handler), methods=["POST"])

    return [
        get(HOME, signed_in(apps.connected, anonymous=signin.sign_in_page)),
        post(HOME + "/login", signed_in(signin.login, anonymous=signin.login)),
        post(HOME + "/login/otp", signed_in(signin.otp_login, anonymous=signin.otp_login)),
        get(HOME + "/signin", signed_in(signin.already_out, anonymous=signin.at_bank)),
        post(HOME + "/logout", signed_in(signin.logout, anonymous=signin.already_out)),
        get(HOME + "/history", signed_in(apps.history)),
        get(HOME + "/notices", signed_in(inbox.notices)),
        get(HOME + "/export.json", signed_in(export.export)),
        get(CONSENT, signed_in(detail.consent_page)),
        get(CONSENT + "/revoke", signed_in(changes.confirm_revoke)),
        post(CONSENT + "/revoke", signed_in(changes.revoke)),
        get(CONSENT + "/renew", signed_in(changes.confirm_renew)),
        post(CONSENT + "/renew", signed_in(changes.renew)),
        get(CONSENT + "/receipts/{n:int}.jws", signed_in(receipt_pages.download)),
        get(CONSENT + "/receipts/{n:int}", signed_in(receipt_pages.show)),
    ]

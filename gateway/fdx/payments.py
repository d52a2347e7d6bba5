"""BILLS: ``GET /payments``, ``GET /recurring-payments`` and
``GET /recurring-payments/{recurringPaymentId}/payments`` (FDX searchForPayments,
searchForRecurringPayments, getPaymentsForRecurringPayment): the upcoming bill information of
12 CFR 1033.211(c), read-only.

Payments are the customer's, not an account's, yet each is paid from one: only those whose
``fromAccountId`` is a consented account with BILLS are listed, and a payment's ``dueDate``
must lie inside the look-back window (upcoming ones always do). A recurring payment from an
account outside the consent is as unknown as one that does not exist (404/806).
"""

from __future__ import annotations

from datetime import date

from starlette.routing import Route

from adapters import capability
from adapters.base import Window
from authz.services import Services
from gateway.audit import AuditLog
from gateway.fdx.endpoint import Call, Served, fdx_route
from gateway.pagination import envelope, page_request
from gateway.projection import project_all
from gateway.responses import fdx_json

PAYMENTS = "GET /payments"
RECURRING = "GET /recurring-payments"
SPAWNED = "GET /recurring-payments/{recurringPaymentId}/payments"


async def list_payments(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    bank = capability.bills(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    page = await bank.list_payments(call.ctx.customer_id, accounts, _window(call), paging)
    items = project_all(page.items, call.services.policy.allowed_fields("payment", clusters))
    body = envelope(call.request, page, "payments", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


async def list_recurring_payments(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    bank = capability.bills(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    page = await bank.list_recurring_payments(call.ctx.customer_id, accounts, paging)
    allowed = call.services.policy.allowed_fields("recurring_payment", clusters)
    items = project_all(page.items, allowed)
    body = envelope(call.request, page, "recurringPayments", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


async def list_recurring_payment_payments(call: Call) -> Served:
    accounts, clusters = call.customer_scope()
    bank = capability.bills(call.services.bank)
    paging = page_request(call.query, call.services.settings)
    recurring_id = call.path["recurringPaymentId"]
    page = await bank.list_recurring_payment_payments(
        call.ctx.customer_id, recurring_id, accounts, _window(call), paging
    )
    items = project_all(page.items, call.services.policy.allowed_fields("payment", clusters))
    body = envelope(call.request, page, "payments", items)
    return Served(fdx_json(body), accounts, clusters, len(items))


def _window(call: Call) -> Window:
    """Due dates from the look-back's first day on, with no end: upcoming bills are the point."""
    return Window(call.earliest() or date.min, date.max)


def routes(services: Services, audit: AuditLog) -> list[Route]:
    return [
        fdx_route("/payments", PAYMENTS, list_payments, services, audit),
        fdx_route("/recurring-payments", RECURRING, list_recurring_payments, services, audit),
        fdx_route(
            "/recurring-payments/{recurringPaymentId}/payments",
            SPAWNED,
            list_recurring_payment_payments,
            services,
            audit,
        ),
    ]

"""Every FDX operation the gateway serves, one row each: the table the document is built from.

A row names the operation as the FDX 6.2 document does (method, path under ``/fdx/v6``), who may
call it, and the refusals it gives beyond those of its gate (``answers.py``). ``build.py`` copies
the operation from the FDX document, replaces its error responses with these answers (with the
gateway's own bodies as examples) and its security with the schemes ``access`` allows.

Adding an operation is one row here (``Operation("GET", "/accounts/{accountId}/x", Access.DATA)``
plus its own refusals, if any), then ``python -m gateway.openapi.build``;
``tests/gateway/test_openapi.py`` fails until the document and the routes agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.openapi.answers import (
    ALREADY_ENDED,
    BAD_META_QUERY,
    BAD_REVOCATION,
    BAD_SUBSCRIPTION,
    BAD_TAX_YEAR,
    CONSENT_GATE,
    DATA_GATE,
    DATES,
    NO_ACCOUNT,
    NO_CATEGORIES,
    NO_IMAGE,
    NO_PROGRAM,
    NO_RECURRING_PAYMENT,
    NO_STATEMENT,
    NO_TAX_FORM,
    NOT_ACCEPTABLE,
    NOT_SERVED,
    ONE_ACCOUNT,
    STATEMENT_PROCESSING,
    SUBSCRIPTION_GATE,
    Answer,
)
from gateway.openapi.answers import (
    NO_SUBSCRIPTION as NO_SUB,
)


class Access(StrEnum):
    DATA = "data"  # an access token of a consent, sender-constrained
    CONSENTS = "consents"  # the recipient's client-credentials token (fdx:consents:manage)
    SUBSCRIPTIONS = "subscriptions"  # the same kind of token with fdx:notifications:subscribe
    PUBLIC = "public"  # no token


@dataclass(frozen=True, slots=True)
class Operation:
    """One FDX operation. Its answers are the gate's refusals for its ``access`` (and, on a path
    naming one account, that account's), then ``extra``: the refusals of its own."""

    method: str
    path: str  # as in the FDX document: relative to /fdx/v6
    access: Access
    extra: tuple[Answer, ...] = ()

    @property
    def answers(self) -> tuple[Answer, ...]:
        gate: tuple[Answer, ...] = ()
        if self.access is Access.DATA:
            gate = DATA_GATE + (ONE_ACCOUNT if "{accountId}" in self.path else ())
        elif self.access is Access.CONSENTS:
            gate = CONSENT_GATE
        elif self.access is Access.SUBSCRIPTIONS:
            gate = SUBSCRIPTION_GATE
        return gate + self.extra


FDX_BASE = "/fdx/v6"

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/accounts", Access.DATA),
    Operation("GET", "/accounts/{accountId}", Access.DATA),
    Operation("GET", "/accounts/{accountId}/transactions", Access.DATA, DATES),
    Operation("GET", "/accounts/{accountId}/statements", Access.DATA, DATES),
    Operation(
        "GET",
        "/accounts/{accountId}/statements/{statementId}",
        Access.DATA,
        (NO_STATEMENT, STATEMENT_PROCESSING),
    ),
    Operation("GET", "/accounts/{accountId}/contact", Access.DATA),
    Operation("GET", "/accounts/{accountId}/payment-networks", Access.DATA),
    Operation("GET", "/customers/current", Access.DATA),
    Operation(
        "GET",
        "/accounts/{accountId}/transaction-images/{imageId}",
        Access.DATA,
        (NO_IMAGE, NOT_ACCEPTABLE, NOT_SERVED),
    ),
    Operation("GET", "/accounts/{accountId}/asset-transfer-networks", Access.DATA, (NOT_SERVED,)),
    Operation("GET", "/payments", Access.DATA, (NOT_SERVED,)),
    Operation("GET", "/recurring-payments", Access.DATA, (NOT_SERVED,)),
    Operation(
        "GET",
        "/recurring-payments/{recurringPaymentId}/payments",
        Access.DATA,
        (NO_RECURRING_PAYMENT, NOT_SERVED),
    ),
    Operation("GET", "/reward-programs", Access.DATA, (NOT_SERVED,)),
    Operation("GET", "/reward-programs/{rewardProgramId}", Access.DATA, (NO_PROGRAM, NOT_SERVED)),
    Operation(
        "GET",
        "/reward-programs/{rewardProgramId}/categories",
        Access.DATA,
        (NO_PROGRAM, NO_CATEGORIES, NOT_SERVED),
    ),
    Operation(
        "GET",
        "/tax-forms",
        Access.DATA,
        (NO_ACCOUNT, BAD_TAX_YEAR, NOT_ACCEPTABLE, NOT_SERVED),
    ),
    Operation(
        "GET", "/tax-forms/{taxFormId}", Access.DATA, (NO_TAX_FORM, NOT_ACCEPTABLE, NOT_SERVED)
    ),
    Operation("GET", "/consents/{consentId}", Access.CONSENTS),
    Operation("GET", "/consents/{consentId}/revocation", Access.CONSENTS),
    Operation(
        "PUT", "/consents/{consentId}/revocation", Access.CONSENTS, (BAD_REVOCATION, ALREADY_ENDED)
    ),
    Operation("POST", "/notification-subscriptions", Access.SUBSCRIPTIONS, (BAD_SUBSCRIPTION,)),
    Operation(
        "GET", "/notification-subscriptions/{subscriptionId}", Access.SUBSCRIPTIONS, (NO_SUB,)
    ),
    Operation(
        "DELETE", "/notification-subscriptions/{subscriptionId}", Access.SUBSCRIPTIONS, (NO_SUB,)
    ),
    Operation("GET", "/availability", Access.PUBLIC, (BAD_META_QUERY,)),
    Operation("GET", "/capability", Access.PUBLIC, (BAD_META_QUERY,)),
    Operation("GET", "/certification-metrics", Access.PUBLIC, (BAD_META_QUERY,)),
)

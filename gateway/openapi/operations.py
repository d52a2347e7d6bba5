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
    CONSENT_GATE,
    DATA_GATE,
    DATES,
    NO_STATEMENT,
    ONE_ACCOUNT,
    STATEMENT_PROCESSING,
    Answer,
)


class Access(StrEnum):
    DATA = "data"  # an access token of a consent, sender-constrained
    CONSENTS = "consents"  # the recipient's client-credentials token (fdx:consents:manage)
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
    Operation("GET", "/consents/{consentId}", Access.CONSENTS),
    Operation("GET", "/consents/{consentId}/revocation", Access.CONSENTS),
    Operation(
        "PUT", "/consents/{consentId}/revocation", Access.CONSENTS, (BAD_REVOCATION, ALREADY_ENDED)
    ),
    Operation("GET", "/availability", Access.PUBLIC, (BAD_META_QUERY,)),
    Operation("GET", "/capability", Access.PUBLIC, (BAD_META_QUERY,)),
)

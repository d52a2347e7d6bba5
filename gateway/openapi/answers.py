"""The error answers the OpenAPI document lists, taken from the classes that produce them.

Each ``Answer`` is one refusal an operation really gives: its HTTP status, its body's code and
message, the response headers that come with it, and when it happens. The FDX ones are read off
``gateway.errors`` and ``adapters.errors`` (status, code, message), so the document's examples
are the gateway's own bodies and cannot drift from them; the OAuth ones carry the RFC 6749 §5.2
``error`` value that ``authz.errors`` renders. ``build.py`` groups an operation's answers by
status into one response each, with one named example per answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters import errors as bank
from gateway.access import ManagementScopeRequired, SubscriptionScopeRequired
from gateway.errors import (
    AccountNotFound,
    ConsentInactive,
    ContentTypeNotSupported,
    FdxError,
    ImageNotFound,
    InsufficientScope,
    InvalidDate,
    InvalidDateRange,
    InvalidDpopProof,
    InvalidInput,
    InvalidToken,
    MissingToken,
    NotFound,
    StatementNotFound,
    SubsystemUnavailable,
    TaxYearNotSupported,
    UseDpopNonce,
)
from gateway.fdx.consents import ConsentConflict
from gateway.ratelimit import TooManyRequests

WWW_AUTHENTICATE = "WWW-Authenticate"
RETRY_AFTER = "Retry-After"
DPOP_NONCE = "DPoP-Nonce"


@dataclass(frozen=True, slots=True)
class Answer:
    """One refusal: ``status`` with the body ``{"code", "message"}`` (FDX) or ``{"error"}``
    (OAuth, ``code`` holding the error value), sent ``when``, with ``headers``."""

    name: str  # the example's key: the error class, or the OAuth error value
    status: int
    code: str
    message: str
    when: str
    headers: tuple[str, ...] = ()
    oauth: bool = False


def fdx(error: type[FdxError], when: str) -> Answer:
    """The answer ``error`` renders (gateway/errors.py), with the headers it always carries."""
    headers: list[str] = []
    if error.challenge is not None:
        headers.append(WWW_AUTHENTICATE)
    if issubclass(error, UseDpopNonce):
        headers.append(DPOP_NONCE)
    if issubclass(error, SubsystemUnavailable | TooManyRequests):
        headers.append(RETRY_AFTER)
    return Answer(error.__name__, error.status, error.code, error.message, when, tuple(headers))


def from_bank(error: type[bank.AdapterError], when: str) -> Answer:
    """The answer an adapter error is mapped to (adapters/errors.py ``FDX_ERRORS``)."""
    mapped = next(code for cls, code in bank.FDX_ERRORS if issubclass(error, cls))
    headers = (RETRY_AFTER,) if issubclass(error, bank.ScheduledMaintenance) else ()
    return Answer(error.__name__, mapped.status, mapped.code, mapped.message, when, headers)


def oauth(status: int, error: str, when: str, *headers: str) -> Answer:
    return Answer(error, status, error, error, when, headers, oauth=True)


# The gate in front of every data operation (gateway/access.py, gateway/fdx/endpoint.py).
BAD_QUERY = fdx(InvalidInput, "A query parameter is repeated, too long, or not valid.")
NO_TOKEN = fdx(MissingToken, "No `Authorization` header: the challenge names no error.")
BAD_TOKEN = fdx(
    InvalidToken,
    "The access token is malformed, expired, revoked, not sent as its binding demands, or its"
    " recipient is suspended.",
)
BAD_PROOF = fdx(
    InvalidDpopProof,
    "The DPoP proof is missing, malformed, replayed, or not for this method, URL or token.",
)
USE_NONCE = fdx(
    UseDpopNonce,
    "Server nonces are required: send the proof again with the `DPoP-Nonce` value as `nonce`.",
)
CONSENT_ENDED = fdx(ConsentInactive, "The consent was revoked or has expired.")
NOT_GRANTED = fdx(
    InsufficientScope, "The consent grants no data cluster that opens this operation."
)
RATE_LIMITED = fdx(
    TooManyRequests, "Over the published per-recipient or per-consent rate; see `Retry-After`."
)
UNAVAILABLE = fdx(SubsystemUnavailable, "The bank or a store the gateway needs is unavailable.")
MAINTENANCE = from_bank(bank.ScheduledMaintenance, "The bank is in a maintenance window.")
NO_CUSTOMER = from_bank(bank.CustomerNotFound, "The bank no longer knows the consumer.")

DATA_GATE = (
    BAD_QUERY,
    NO_TOKEN,
    BAD_TOKEN,
    BAD_PROOF,
    USE_NONCE,
    CONSENT_ENDED,
    NOT_GRANTED,
    RATE_LIMITED,
    UNAVAILABLE,
    MAINTENANCE,
    NO_CUSTOMER,
)

# What a data operation on one account adds.
NO_ACCOUNT = fdx(AccountNotFound, "The account is not in the consent, or does not exist.")
ACCOUNT_CLOSED = from_bank(bank.AccountClosed, "The bank reports the account closed.")
TYPE_NOT_SUPPORTED = from_bank(
    bank.AccountTypeNotSupported, "The bank does not serve this kind of account here."
)
ONE_ACCOUNT = (NO_ACCOUNT, ACCOUNT_CLOSED, TYPE_NOT_SUPPORTED)
BAD_DATE = fdx(InvalidDate, "`startTime` or `endTime` is not a date (YYYY-MM-DD).")
BAD_RANGE = fdx(InvalidDateRange, "The date range is not valid (start after end).")
DATES = (BAD_DATE, BAD_RANGE)
NO_STATEMENT = fdx(StatementNotFound, "No such statement on this account within the consent.")
STATEMENT_PROCESSING = from_bank(bank.StatementProcessing, "The statement is being prepared.")

# The Consent API's gate (gateway/access.py ``authorize_client``, gateway/fdx/consents.py).
MANAGEMENT_SCOPE = fdx(
    ManagementScopeRequired,
    "The token is not a client-credentials token with the `fdx:consents:manage` scope.",
)
NO_CONSENT = fdx(
    NotFound, "No consent of this recipient has this id (another's, unknown or refused)."
)
CONSENT_GATE = (
    NO_TOKEN,
    BAD_TOKEN,
    BAD_PROOF,
    USE_NONCE,
    MANAGEMENT_SCOPE,
    NO_CONSENT,
    UNAVAILABLE,
)
BAD_REVOCATION = fdx(
    InvalidInput, "The body is not a JSON ConsentRevocationRequest, or is too large."
)
ALREADY_ENDED = fdx(ConsentConflict, "The consent is already revoked or expired.")

# The §1033 covered-data operations (gateway/fdx/payments.py, rewards.py, images.py,
# tax_forms.py, transfer_networks.py).
NO_IMAGE = fdx(
    ImageNotFound,
    "No such image on this account, or its transaction is older than the look-back window.",
)
NOT_ACCEPTABLE = fdx(ContentTypeNotSupported, "`Accept` allows none of the types offered.")
NOT_SERVED = from_bank(
    bank.CategoryNotServed, "The bank's adapter does not serve this category of data."
)
NO_RECURRING_PAYMENT = from_bank(
    bank.RecurringPaymentNotFound,
    "No such recurring payment from an account of the consent.",
)
NO_PROGRAM = from_bank(bank.RewardProgramNotFound, "No such reward program of the consumer.")
NO_CATEGORIES = from_bank(bank.RewardCategoriesNotFound, "The reward program has no categories.")
NO_TAX_FORM = from_bank(bank.TaxFormNotFound, "No such tax form for the accounts of the consent.")
BAD_TAX_YEAR = fdx(TaxYearNotSupported, "`taxYear` is not a year from 2018 to 2050.")

# Notification subscriptions (gateway/fdx/subscriptions.py): the recipient's own token.
SUBSCRIPTION_SCOPE = fdx(
    SubscriptionScopeRequired,
    "The token is not a client-credentials token with the `fdx:notifications:subscribe` scope.",
)
NO_SUBSCRIPTION = fdx(
    NotFound, "No live subscription of this recipient has this id (another's, unknown, deleted)."
)
SUBSCRIPTION_GATE = (
    NO_TOKEN,
    BAD_TOKEN,
    BAD_PROOF,
    USE_NONCE,
    SUBSCRIPTION_SCOPE,
    UNAVAILABLE,
)
BAD_SUBSCRIPTION = fdx(
    InvalidInput,
    "The body is not a NotificationSubscription this gateway can honour: a type it emits"
    " (CONSENT_REVOKED, CONSENT_UPDATED), category CONSENT, an https callbackUrl at a public"
    " address, a DATA_RECIPIENT subscriber; or too many subscriptions.",
)

# The public meta operations (gateway/fdx/meta.py).
BAD_META_QUERY = fdx(InvalidInput, "`operationId` or `resultType` is not valid.")

# The OAuth endpoints (authz/errors.py renders every one as RFC 6749 §5.2 JSON).
INVALID_REQUEST = oauth(
    400,
    "invalid_request",
    "A parameter is missing, repeated or malformed, or the body is not a form.",
)
INVALID_CLIENT = oauth(
    401,
    "invalid_client",
    "Client authentication failed: the `private_key_jwt` assertion is missing, expired, replayed,"
    " not signed by a registered key, or its `aud` is not the issuer.",
)
INVALID_DPOP = oauth(
    400, "invalid_dpop_proof", "The DPoP proof is missing (fapi2), malformed or replayed."
)
OAUTH_NONCE = oauth(
    400,
    "use_dpop_nonce",
    "Server nonces are required: send the proof again with the `DPoP-Nonce` value.",
    DPOP_NONCE,
)
TOO_LARGE = oauth(413, "invalid_request", "The body is larger than `max_body_bytes`.")
OAUTH_UNAVAILABLE = oauth(
    503,
    "temporarily_unavailable",
    "A store the server needs is away; retry after `Retry-After` seconds.",
    RETRY_AFTER,
)
OAUTH_COMMON = (INVALID_REQUEST, INVALID_CLIENT, TOO_LARGE, OAUTH_UNAVAILABLE)

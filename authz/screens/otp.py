"""The second factor of the built-in sign-in: a TOTP code (RFC 6238) after the password.

When the bank adapter returns a customer with an ``otp_secret``, a right password opens no
session yet: ``start`` records a pending step (``Kind.OTP_STEP``, five minutes, bound to the
browser's login nonce like the password form) and the screen asks for the code. ``verify`` checks
it with pyotp against the current 30-second step and one step either side (RFC 6238 §5.2, clock
drift), and accepts each (customer, time step) once (``Kind.OTP_USED``: a code seen over a
shoulder or replayed is refused within its window). ``login.second_factor`` puts it behind the
same throttle as the password: a wrong code is a failed sign-in. On top of that, ``MAX_FAILURES``
consecutive wrong codes for one customer, from anywhere, lock that customer's second factor
for ``LOCK_TTL`` (NIST SP 800-63B §5.2.2).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

import pyotp

from adapters.base import Customer
from authz.screens.throttle import TooManyAttempts
from authz.services import Services
from authz.store.base import Kind

STEP_TTL = 300  # seconds to type the code
# NIST SP 800-63B §5.2.2: at most 100 consecutive failed attempts on one authenticator. The
# count lasts COUNT_TTL from its first failure and a right code clears it; reaching it locks
# the customer's second factor for LOCK_TTL (docs/security.md).
MAX_FAILURES = 100
COUNT_TTL = 30 * 86400
LOCK_TTL = 7 * 86400
PERIOD = 30  # RFC 6238 §4: the default time step, as authenticator apps use
DRIFT = 1  # steps accepted either side of the current one
AMR_BOTH = ("pwd", "otp")  # RFC 8176 §2
AMR_PASSWORD = ("pwd",)
_CODE = re.compile(r"^[0-9]{6}$")
_STEP = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class StepExpired(Exception):
    """The pending step is unknown, expired, or was started in another browser."""


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    customer_id: str
    username: str
    purpose: str  # the interaction id, or "portal"


async def start(
    services: Services, customer: Customer, username: str, purpose: str, browser_nonce: str
) -> Step:
    step = Step(secrets.token_urlsafe(32), customer.customer_id, username, purpose)
    payload = {
        "customer_id": step.customer_id,
        "username": username,
        "purpose": purpose,
        "browser": _digest(browser_nonce),
    }
    await services.state.put(Kind.OTP_STEP, step.id, payload, ttl=STEP_TTL)
    return step


async def load(services: Services, step_id: str, purpose: str, browser_nonce: str | None) -> Step:
    raw = await services.state.get(Kind.OTP_STEP, step_id) if _STEP.match(step_id) else None
    if (
        raw is None
        or raw.get("purpose") != purpose
        or browser_nonce is None
        or not secrets.compare_digest(str(raw.get("browser")), _digest(browser_nonce))
    ):
        raise StepExpired(step_id)
    return Step(step_id, str(raw["customer_id"]), str(raw["username"]), purpose)


async def check(services: Services, step: Step, code: str) -> Customer | None:
    """The customer when ``code`` is right and not used before; None otherwise. Raises
    ``TooManyAttempts`` while the customer's second factor is locked (``MAX_FAILURES``)."""
    state = services.state
    if await state.get(Kind.LOGIN_FAILURES, _key("otp-lock", step.customer_id)) is not None:
        raise TooManyAttempts(step.username)
    code = code.replace(" ", "")
    customer = await services.bank.get_customer(step.customer_id)
    counter = _matching_step(customer.otp_secret, code, services.clock())
    if counter is None or not await state.add_once(
        Kind.OTP_USED, f"{customer.customer_id}:{counter}", ttl=PERIOD * (2 * DRIFT + 2)
    ):
        await _failed(services, step.customer_id)
        return None
    await state.delete(Kind.OTP_STEP, step.id)
    await state.delete(Kind.LOGIN_FAILURES, _key("otp", step.customer_id))
    return customer


async def _failed(services: Services, customer_id: str) -> None:
    """One more consecutive wrong code; at ``MAX_FAILURES`` the second factor locks for
    ``LOCK_TTL`` and the count starts again."""
    count_key = _key("otp", customer_id)
    if await services.state.incr(Kind.LOGIN_FAILURES, count_key, ttl=COUNT_TTL) >= MAX_FAILURES:
        lock_key = _key("otp-lock", customer_id)
        await services.state.put(Kind.LOGIN_FAILURES, lock_key, {}, ttl=LOCK_TTL)
        await services.state.delete(Kind.LOGIN_FAILURES, count_key)


def _key(what: str, customer_id: str) -> str:
    # Under Kind.LOGIN_FAILURES beside the throttle's "pair", "user" and "lock" keys; the
    # JSON-quoted customer id cannot collide with them.
    return f"{what} {json.dumps(customer_id)}"


def _matching_step(secret: str | None, code: str, now: float) -> int | None:
    if not secret or not _CODE.match(code):
        return None
    totp = pyotp.TOTP(secret, interval=PERIOD)
    current = int(now) // PERIOD
    for offset in (0, -DRIFT, DRIFT):
        expected = totp.generate_otp(current + offset)
        if secrets.compare_digest(expected, code):
            return current + offset
    return None


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()

"""CoreClient's policy over an in-memory transport: no socket, the fake core is a function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from adapters.errors import (
    AccountClosed,
    AccountNotFound,
    BankTimeout,
    BankUnavailable,
    ScheduledMaintenance,
)
from adapters.http import HttpCoreConfig
from adapters.http.breaker import State
from adapters.http.client import CoreClient
from adapters.http.transport import AnswerTooLarge, MockTransport, RawAnswer, Sent

pytestmark = pytest.mark.anyio

Handler = Callable[[Sent], Awaitable[RawAnswer]]


def scripted(*steps: RawAnswer | Exception) -> tuple[Handler, list[Sent]]:
    """A core that plays ``steps`` in order (the last one again after that); what it was sent."""
    seen: list[Sent] = []

    async def handler(sent: Sent) -> RawAnswer:
        seen.append(sent)
        step = steps[min(len(seen), len(steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step

    return handler, seen


def client(handler: Handler, waits: list[float] | None = None, **config: object) -> CoreClient:
    async def sleep(seconds: float) -> None:
        (waits if waits is not None else []).append(seconds)

    options = {"base_url": "https://core.invalid", "backoff": 0.1, "backoff_max": 1.0, **config}
    return CoreClient(
        HttpCoreConfig(**options),  # type: ignore[arg-type]
        errors={"account_closed": AccountClosed},
        draw=lambda: 0.5,
        sleep=sleep,
        wall_clock=lambda: 1_000.0,
        transport=MockTransport(handler),
    )


OK = RawAnswer(200, b'{"ok": true}', etag='"v1"')


async def test_a_2xx_answer_carries_its_body_and_strong_etag() -> None:
    """The target goes to the transport as built; the answer's ETag is kept when strong."""
    handler, seen = scripted(OK)

    answer = await client(handler).get("customers/c1/accounts?limit=5", AccountNotFound)

    assert (b'{"ok": true}', '"v1"') == (answer.body, answer.etag)
    assert [("GET", "customers/c1/accounts?limit=5")] == [(s.method, s.target) for s in seen]


async def test_a_get_is_retried_after_a_502_and_a_timeout_with_back_off() -> None:
    """1 + 2 retries; waits grow (0.05, 0.1 at draw 0.5); the breaker stays closed."""
    handler, seen = scripted(RawAnswer(502), TimeoutError("slow"), OK)
    waits: list[float] = []
    core = client(handler, waits, retries=2)

    await core.get("x", AccountNotFound)

    assert (3, [0.05, 0.1], State.CLOSED) == (len(seen), waits, core.breaker.state)


async def test_timeouts_past_the_retries_are_bank_timeout() -> None:
    handler, seen = scripted(TimeoutError("slow"))

    with pytest.raises(BankTimeout):
        await client(handler, retries=1).get("x", AccountNotFound)

    assert 2 == len(seen)


async def test_an_unreachable_core_is_bank_unavailable_naming_the_cause_type_only() -> None:
    """A connection failure is retried, then BankUnavailable; the message names no address."""
    cause = ConnectionRefusedError("refused by 10.0.0.7:8443")
    handler, seen = scripted(cause)

    with pytest.raises(BankUnavailable) as raised:
        await client(handler, retries=1).get("x", AccountNotFound)

    assert type(raised.value) is BankUnavailable
    assert "10.0.0.7" not in str(raised.value)
    assert 2 == len(seen)


async def test_an_answer_too_large_is_unavailable_and_not_retried() -> None:
    """The core answered (too much): BankUnavailable at once, and the breaker counts an answer."""
    handler, seen = scripted(AnswerTooLarge("over 10 bytes read"))
    core = client(handler, retries=3)

    with pytest.raises(BankUnavailable, match="max_response_bytes"):
        await core.get("x", AccountNotFound)

    assert (1, State.CLOSED) == (len(seen), core.breaker.state)


async def test_a_post_is_never_retried() -> None:
    """RFC 9110 §9.2.2: only idempotent methods are retried."""
    handler, seen = scripted(RawAnswer(503))

    with pytest.raises(BankUnavailable):
        await client(handler, retries=3).post_json("login", {"u": "a"}, AccountNotFound, "bad")

    assert [("POST", {"u": "a"})] == [(s.method, s.payload) for s in seen]


@pytest.mark.parametrize(
    ("answer", "seconds"),
    [
        (RawAnswer(503, retry_after="120"), 120),
        (RawAnswer(503, retry_after="Thu, 01 Jan 1970 00:18:10 GMT"), 90),
        (RawAnswer(503, b'{"maintenance": true, "retry_after": 42}'), 42),
    ],
    ids=["seconds", "http-date", "body"],
)
async def test_maintenance_is_not_retried_and_says_when(answer: RawAnswer, seconds: int) -> None:
    handler, seen = scripted(answer)

    with pytest.raises(ScheduledMaintenance) as raised:
        await client(handler, retries=3).get("x", AccountNotFound)

    assert (seconds, 1) == (raised.value.retry_after, len(seen))


async def test_404_is_the_callers_missing_error_and_a_dialect_code_its_own() -> None:
    handler, _ = scripted(RawAnswer(404), RawAnswer(409, b'{"error": "account_closed"}'))
    core = client(handler)

    with pytest.raises(AccountNotFound):
        await core.get("x", AccountNotFound)
    with pytest.raises(AccountClosed):
        await core.get("x", AccountNotFound)


async def test_a_304_answers_a_conditional_get_only() -> None:
    """RFC 9110 §13.1.2: with If-None-Match a 304 is an empty answer; without, an outage."""
    handler, seen = scripted(RawAnswer(304))
    core = client(handler, retries=0)

    answer = await core.get("x", AccountNotFound, etag='"v1"')
    with pytest.raises(BankUnavailable):
        await core.get("x", AccountNotFound)

    assert answer.body is None
    assert {"If-None-Match": '"v1"'} == seen[0].headers


async def test_the_breaker_opens_and_then_no_call_goes_out() -> None:
    handler, seen = scripted(RawAnswer(500))
    core = client(handler, retries=0, breaker_failures=2)

    for _ in range(2):
        with pytest.raises(BankUnavailable):
            await core.get("x", AccountNotFound)
    with pytest.raises(BankUnavailable, match="circuit open"):
        await core.get("x", AccountNotFound)

    assert (2, State.OPEN) == (len(seen), core.breaker.state)


async def test_aclose_closes_the_transport() -> None:
    transport = MockTransport(scripted(OK)[0])
    core = CoreClient(HttpCoreConfig(base_url="https://core.invalid"), transport=transport)

    await core.aclose()

    assert transport.closed

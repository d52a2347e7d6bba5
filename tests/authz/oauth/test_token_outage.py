"""The token endpoint when the record store fails mid-request: a 503 the client can retry, and
the retry is served, never taken for a replay (RFC 6749 §4.1.2, RFC 9700 §4.14.2).

``FailingRecords`` is the memory record store with a switch: a method named in ``failures``
raises ``RecordsUnavailable`` (what the PostgreSQL store raises) either before doing anything
(``"before"``: the server was away) or after doing it (``"after"``: the commit happened but its
acknowledgement was lost).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any, Literal, TypeVar, cast

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from adapters.base import BankAdapter
from authz.consent.model import Consent, ConsentEvent, ConsentStatus, DurationType
from authz.endpoints import oauth_routes
from authz.errors import OAuth2Error, handle_oauth_error
from authz.keys import SigningKeys
from authz.services import Services
from authz.store.base import (
    Kind,
    Payload,
    RecordsUnavailable,
    RefreshToken,
    StateUnavailable,
)
from authz.store.memory import MemoryConsents, MemoryRefreshTokens, MemoryStateStore, memory_records
from authz.token import hash_token
from config.policy import load_policy
from config.settings import Settings
from gateway.errors import ExceptionHandler
from gateway.outage import outage_handlers
from tests.authz.oauth.conftest import (
    CLIENT_ID,
    ISSUER,
    OTHER_ID,
    FakeBank,
    FakeClock,
    Harness,
    client_record,
    new_key,
    run,
)

When = Literal["before", "after"]
T = TypeVar("T")


class FailingRecords:
    """The memory record store, failing on demand like a PostgreSQL that restarts: ``records``
    is the store the gateway is given, ``failures`` says which call fails and when."""

    def __init__(self) -> None:
        plain = memory_records()
        self.failures: dict[str, When] = {}
        self.calls: list[str] = []
        self.on_put_refresh_token: Callable[[], Awaitable[None]] | None = None
        self.plain_tokens = plain.refresh_tokens  # the store itself, never failing
        self.data = plain.consents._d  # type: ignore[attr-defined]
        self.records = replace(
            plain,
            refresh_tokens=_FailingTokens(self, self.data),
            consents=_FailingConsents(self, self.data),
        )

    async def call(self, name: str, do: Callable[..., Awaitable[T]], *args: Any, **kw: Any) -> T:
        self.calls.append(name)
        when = self.failures.get(name)
        if when == "before":
            raise RecordsUnavailable(f"{name}: connection refused (test)")
        result = await do(*args, **kw)
        if when == "after":
            raise RecordsUnavailable(f"{name}: connection lost before the commit was seen (test)")
        return result


class _FailingTokens(MemoryRefreshTokens):
    def __init__(self, owner: FailingRecords, data: Any) -> None:
        super().__init__(data)
        self._owner = owner

    async def put(self, token: RefreshToken) -> None:
        if self._owner.on_put_refresh_token is not None:
            await self._owner.on_put_refresh_token()
        await self._owner.call("put_refresh_token", super().put, token)

    async def use(self, token_hash: str, now: float) -> tuple[RefreshToken | None, bool]:
        return await self._owner.call("use_refresh_token", super().use, token_hash, now)


class _FailingConsents(MemoryConsents):
    def __init__(self, owner: FailingRecords, data: Any) -> None:
        super().__init__(data)
        self._owner = owner

    async def update(self, consent: Consent, event: ConsentEvent, *, expected_version: int) -> bool:
        return await self._owner.call(
            "update_consent", super().update, consent, event, expected_version=expected_version
        )


class FailingState(MemoryStateStore):
    """The memory state store, failing ``consume``/``get`` on demand like a Redis whose answer
    is lost ("after": the use happened) or that is away ("before")."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock=clock)
        self.failures: dict[str, When] = {}

    async def consume(self, kind: Kind, key: str, *, at: float | None = None) -> Payload | None:
        when = self.failures.get("consume")
        if when == "before":
            raise StateUnavailable("consume: connection refused (test)")
        result = await super().consume(kind, key, at=at)
        if when == "after":
            raise StateUnavailable("consume: no answer in time (test)")
        return result

    async def get(self, kind: Kind, key: str) -> Payload | None:
        # "get" fails the read-back only: the token endpoint's first look at the code (the
        # consume's failure comes after it) is answered.
        if kind is Kind.CODE and "get" in self.failures and "looked" in self.failures:
            raise StateUnavailable("get: connection refused (test)")
        if kind is Kind.CODE and "get" in self.failures:
            self.failures["looked"] = "before"
        return await super().get(kind, key)


@pytest.fixture
def flaky() -> Iterator[tuple[Harness, FailingRecords]]:
    clock = FakeClock()
    settings = Settings(issuer=ISSUER, profile="sandbox")
    records = FailingRecords()
    services = Services.build(
        settings,
        policy=load_policy(),
        records=records.records,
        state=FailingState(clock),
        bank=cast(BankAdapter, FakeBank()),
        keys=SigningKeys.generate(),
        secret=b"k" * 32,
        clock=clock,
    )
    key, other = new_key("client-key-1"), new_key("other-key-1")
    run(records.records.clients.put, client_record(CLIENT_ID, key))
    run(records.records.clients.put, client_record(OTHER_ID, other))
    handlers: dict[Any, ExceptionHandler] = {
        OAuth2Error: handle_oauth_error,
        **outage_handlers(settings),
    }
    app = Starlette(routes=oauth_routes(services), exception_handlers=handlers)
    with TestClient(app, base_url=ISSUER) as http:
        yield Harness(services, clock, http, key, other), records


def _assert_retry_later(response: Any) -> None:
    """RFC 6749 §5.2 shape, 503 and Retry-After: the client retries instead of giving up."""
    assert 503 == response.status_code, response.text
    assert "temporarily_unavailable" == response.json()["error"]
    assert response.headers["retry-after"].isdigit()
    assert "no-store" == response.headers["cache-control"]


def _live_refresh_tokens(records: FailingRecords, consent_id: str) -> list[RefreshToken]:
    return [
        t
        for t in records.data.refresh.values()
        if t.consent_id == consent_id and t.used_at is None and t.revoked_at is None
    ]


@pytest.mark.parametrize("when", ["before", "after"], ids=["server-away", "lost-commit-ack"])
def test_a_code_exchange_that_cannot_store_its_refresh_token_can_be_retried(
    flaky: tuple[Harness, FailingRecords], when: When
) -> None:
    """The failed attempt answers 503 and leaves the code unused; the retry gets the tokens."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())
    records.failures["put_refresh_token"] = when

    _assert_retry_later(oauth.exchange(code, verifier))
    records.failures.clear()
    retry = oauth.exchange(code, verifier)

    assert 200 == retry.status_code, retry.text
    assert retry.json()["refresh_token"]
    assert ConsentStatus.ACTIVE is oauth.get_consent().status
    assert 200 == oauth.refresh(retry.json()["refresh_token"]).status_code


def test_a_one_time_code_exchange_that_cannot_end_the_session_can_be_retried(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """ONE_TIME's consent update ("used") failing leaves the code unused for the retry."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent(duration=DurationType.ONE_TIME))
    records.failures["update_consent"] = "before"

    _assert_retry_later(oauth.exchange(code, verifier))
    records.failures.clear()
    retry = oauth.exchange(code, verifier)

    assert 200 == retry.status_code, retry.text
    assert ConsentStatus.ACTIVE is oauth.get_consent().status


def test_the_code_is_still_single_use_after_a_failed_attempt(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """Once the retry was served, a third presentation is a replay and revokes the consent."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())
    records.failures["put_refresh_token"] = "after"
    oauth.exchange(code, verifier)
    records.failures.clear()
    served = oauth.exchange(code, verifier).json()

    replay = oauth.exchange(code, verifier)

    assert 400 == replay.status_code
    assert "invalid_grant" == replay.json()["error"]
    assert ConsentStatus.REVOKED is oauth.get_consent().status
    assert 400 == oauth.refresh(served["refresh_token"]).status_code
    assert [] == _live_refresh_tokens(records, "consent-1")


def test_a_replayed_code_is_refused_before_anything_is_stored(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """A code already used is seen as such on the look, so the replay writes no new token."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())
    assert 200 == oauth.exchange(code, verifier).status_code
    records.calls.clear()

    replay = oauth.exchange(code, verifier)

    assert 400 == replay.status_code
    assert "put_refresh_token" not in records.calls
    assert ConsentStatus.REVOKED is oauth.get_consent().status


def test_the_request_that_loses_the_code_to_a_concurrent_one_revokes_everything(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """Two requests pass the checks; the one whose use of the code comes second is a replay:
    it answers invalid_grant, and the consent ends with every refresh token, its own too."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())

    async def the_other_request_wins() -> None:
        records.on_put_refresh_token = None
        await oauth.services.state.consume(Kind.CODE, code)

    records.on_put_refresh_token = the_other_request_wins

    loser = oauth.exchange(code, verifier)

    assert 400 == loser.status_code
    assert "already used" in loser.json()["error_description"]
    assert ConsentStatus.REVOKED is oauth.get_consent().status
    assert [] == _live_refresh_tokens(records, "consent-1")


@pytest.mark.parametrize("when", ["before", "after"], ids=["server-away", "lost-commit-ack"])
def test_a_refresh_that_cannot_store_the_new_token_can_be_retried(
    flaky: tuple[Harness, FailingRecords], when: When
) -> None:
    """Rotation stores the new token before using the old one: a failure on the way leaves the
    presented token unused, so the retry rotates it rather than revoking the consent."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())
    first = oauth.exchange(code, verifier).json()["refresh_token"]
    records.failures["put_refresh_token"] = when

    _assert_retry_later(oauth.refresh(first))
    records.failures.clear()
    retry = oauth.refresh(first)

    assert 200 == retry.status_code, retry.text
    assert ConsentStatus.ACTIVE is oauth.get_consent().status
    stored = run(records.plain_tokens.get, hash_token(first))
    assert stored is not None
    assert stored.used_at is not None
    assert 200 == oauth.refresh(retry.json()["refresh_token"]).status_code


def test_a_refresh_whose_use_fails_leaves_the_old_token_usable(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """The use itself failing (server away) changes nothing: the retry is served."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())
    first = oauth.exchange(code, verifier).json()["refresh_token"]
    records.failures["use_refresh_token"] = "before"

    _assert_retry_later(oauth.refresh(first))
    records.failures.clear()

    assert 200 == oauth.refresh(first).status_code
    assert ConsentStatus.ACTIVE is oauth.get_consent().status


def test_a_refresh_whose_use_was_committed_but_not_acknowledged_is_served(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """The use committed and its answer was lost: read back as used at this request's own
    instant, it is this request's use, so the tokens are sent instead of a 503 whose retry
    would be taken for a replay."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())
    first = oauth.exchange(code, verifier).json()["refresh_token"]
    records.failures["use_refresh_token"] = "after"

    response = oauth.refresh(first)
    records.failures.clear()

    assert 200 == response.status_code, response.text
    assert ConsentStatus.ACTIVE is oauth.get_consent().status
    assert 200 == oauth.refresh(response.json()["refresh_token"]).status_code


def test_a_refresh_token_used_at_another_instant_is_not_taken_for_ours(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """The read-back finds the token used, but not by this request (a concurrent use after
    this one's look): the outage stands, 503, and no tokens are sent."""
    oauth, records = flaky
    code, verifier = oauth.code(oauth.consent())
    first = oauth.exchange(code, verifier).json()["refresh_token"]

    async def a_concurrent_use() -> None:
        records.on_put_refresh_token = None
        await records.plain_tokens.use(hash_token(first), oauth.clock() - 1)

    records.on_put_refresh_token = a_concurrent_use
    records.failures["use_refresh_token"] = "before"

    _assert_retry_later(oauth.refresh(first))


def test_a_code_use_whose_answer_redis_lost_is_served(
    flaky: tuple[Harness, FailingRecords],
) -> None:
    """Redis used the code and its answer was lost: read back with this request's own stamp,
    the use was this request's, so the tokens go out (not a 503 whose retry would be taken
    for a replay and revoke the consent)."""
    oauth, _ = flaky
    state = cast(FailingState, oauth.services.state)
    code, verifier = oauth.code(oauth.consent())
    state.failures["consume"] = "after"

    response = oauth.exchange(code, verifier)
    state.failures.clear()

    assert 200 == response.status_code, response.text
    assert ConsentStatus.ACTIVE is oauth.get_consent().status
    assert 200 == oauth.refresh(response.json()["refresh_token"]).status_code
    assert 400 == oauth.exchange(code, verifier).status_code, "still used once only"


@pytest.mark.parametrize("reads", ["answer", "fail"], ids=["read-back-unused", "read-back-fails"])
def test_a_code_use_that_did_not_happen_or_cannot_be_confirmed_stays_a_503(
    flaky: tuple[Harness, FailingRecords], reads: str
) -> None:
    """Redis away for the use: the read-back finds the code unused (or cannot read at all):
    503, and with Redis back the retry is served."""
    oauth, _ = flaky
    state = cast(FailingState, oauth.services.state)
    code, verifier = oauth.code(oauth.consent())
    state.failures["consume"] = "before"
    if reads == "fail":
        state.failures["get"] = "before"

    _assert_retry_later(oauth.exchange(code, verifier))
    state.failures.clear()

    assert 200 == oauth.exchange(code, verifier).status_code
    assert ConsentStatus.ACTIVE is oauth.get_consent().status

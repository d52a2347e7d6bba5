"""HttpBank against a real bank core on 127.0.0.1: data, auth, failures, retries and the breaker."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from email.utils import format_datetime

import pytest

from adapters.base import BankAdapter, PageRequest, Window
from adapters.composite import CompositeBank
from adapters.errors import (
    AccountClosed,
    AccountNotFound,
    BankTimeout,
    BankUnavailable,
    ScheduledMaintenance,
    StatementNotFound,
    fdx_code_for,
)
from adapters.http import HttpBank, HttpCoreConfig
from adapters.http.breaker import State
from tests.adapters.http.conftest import TODAY, Core, start_core

pytestmark = pytest.mark.anyio

EVERYTHING = Window(date(2000, 1, 1), TODAY)
TXNS = "/customers/{customer}/accounts/{account}/transactions"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _alice(bank: BankAdapter) -> str:
    customer = await bank.authenticate("alice", "sandbox-alice")
    assert customer is not None
    return customer.customer_id


async def _checking(bank: BankAdapter, customer_id: str) -> str:
    accounts = await bank.list_accounts(customer_id)
    return str(next(a["accountId"] for a in accounts if a["accountType"] == "CHECKING"))


async def test_http_bank_satisfies_the_adapter_protocol(core: Core) -> None:
    """HttpBank is a BankAdapter."""
    adapter: BankAdapter = core.adapter()

    assert isinstance(adapter, BankAdapter)


async def test_it_answers_exactly_what_the_bank_behind_the_core_answers(core: Core) -> None:
    """Through HTTP and the mapping, every object equals the sandbox's own, in process."""
    http, sandbox = core.adapter(), core.bank
    for who in ("alice", "bob"):
        customer = await sandbox.authenticate(who, f"sandbox-{who}")
        assert customer is not None
        cid = customer.customer_id
        assert customer == await http.authenticate(who, f"sandbox-{who}")
        assert await sandbox.get_customer_info(cid) == await http.get_customer_info(cid)
        accounts = await sandbox.list_accounts(cid)
        assert list(accounts) == list(await http.list_accounts(cid))
        for account in accounts:
            aid = account["accountId"]
            page = PageRequest(limit=40)
            mine = await sandbox.list_transactions(cid, aid, EVERYTHING, page)
            theirs = await http.list_transactions(cid, aid, EVERYTHING, page)
            assert (list(mine.items), mine.next_offset, mine.total) == (
                list(theirs.items),
                theirs.next_offset,
                theirs.total,
            )
            assert await sandbox.get_contact(cid, aid) == await http.get_contact(cid, aid)
            assert account == await http.get_account(cid, aid)


async def test_statements_arrive_as_the_same_pdf(core: Core) -> None:
    """A statement document comes through byte for byte with its media type."""
    http = core.adapter()
    cid = await _alice(http)
    aid = await _checking(http, cid)
    statements = await http.list_statements(cid, aid, EVERYTHING, PageRequest(limit=1))

    document = await http.get_statement(cid, aid, statements.items[0]["statementId"])

    expected = await core.bank.get_statement(cid, aid, statements.items[0]["statementId"])
    assert (expected.content, "application/pdf") == (document.content, document.media_type)


async def test_wrong_credentials_are_refused_without_an_error(core: Core) -> None:
    """A wrong password is None, as the Protocol says, not an exception."""
    http = core.adapter()

    assert await http.authenticate("alice", "wrong") is None


async def test_the_bearer_token_goes_with_every_call(core: Core) -> None:
    """With a token configured, each request carries ``Authorization: Bearer`` and is served."""
    core.behaviour.token = "core-secret-token"
    http = core.adapter(bearer_token="core-secret-token")

    cid = await _alice(http)
    await http.list_accounts(cid)

    assert core.behaviour.authorizations == ["Bearer core-secret-token"] * 2


async def test_a_refused_token_is_an_outage_not_a_wrong_password(core: Core) -> None:
    """If the core refuses our own credentials, sign-in fails loudly (503), never as "wrong"."""
    core.behaviour.token = "core-secret-token"
    http = core.adapter(bearer_token="another-token")

    with pytest.raises(BankUnavailable):
        await http.authenticate("alice", "sandbox-alice")


async def test_unknown_account_and_statement_are_not_found(core: Core) -> None:
    """A 404 becomes the error of what was asked for: account 701, statement 1104."""
    http = core.adapter()
    cid = await _alice(http)
    aid = await _checking(http, cid)

    with pytest.raises(AccountNotFound) as account:
        await http.list_transactions(cid, "acc_nope", EVERYTHING, PageRequest())
    with pytest.raises(StatementNotFound) as statement:
        await http.get_statement(cid, aid, "stm_nope")

    assert ("701", "1104") == (fdx_code_for(account.value).code, fdx_code_for(statement.value).code)


async def test_a_slow_core_times_out_after_its_retries(core: Core) -> None:
    """A core slower than the timeout: BankTimeout (FDX 501) after 1 + retries attempts."""
    http = core.adapter(timeout=0.05, retries=2)
    cid = await _alice(http)
    aid = await _checking(http, cid)
    core.behaviour.always, core.behaviour.release = "slow", asyncio.Event()
    before = core.behaviour.requests[TXNS]

    with pytest.raises(BankTimeout) as raised:
        await http.list_transactions(cid, aid, EVERYTHING, PageRequest())

    assert 3 == core.behaviour.requests[TXNS] - before
    assert "501" == fdx_code_for(raised.value).code


async def test_a_flapping_core_is_retried_with_full_jitter(core: Core) -> None:
    """503, 502, then OK: served after two retries, waiting draw × base × 2^attempt each time."""
    http = core.adapter(backoff=0.1, backoff_max=1.0, retries=3, draw=lambda: 0.5)
    cid = await _alice(http)
    aid = await _checking(http, cid)
    core.behaviour.script.extend([503, 502])

    page = await http.list_transactions(cid, aid, EVERYTHING, PageRequest(limit=5))

    assert len(page.items) == 5
    assert http.sleeps == [0.05, 0.1]  # type: ignore[attr-defined]
    assert http.client.breaker.state is State.CLOSED


async def test_retries_stop_at_the_configured_count(core: Core) -> None:
    """A core failing every time is asked 1 + retries times, then BankUnavailable."""
    http = core.adapter(retries=1)
    cid = await _alice(http)
    core.behaviour.always = 503
    before = sum(core.behaviour.requests.values())

    with pytest.raises(BankUnavailable):
        await http.list_accounts(cid)

    assert 2 == sum(core.behaviour.requests.values()) - before


async def test_a_500_and_a_post_are_not_retried(core: Core) -> None:
    """Only idempotent reads after a transient failure are retried: not a 500, not a login."""
    http = core.adapter(retries=3, breaker_failures=100)
    cid = await _alice(http)
    core.behaviour.always = 500
    before = sum(core.behaviour.requests.values())

    with pytest.raises(BankUnavailable):
        await http.list_accounts(cid)
    core.behaviour.always = 503
    with pytest.raises(BankUnavailable):
        await http.authenticate("alice", "sandbox-alice")

    assert 2 == sum(core.behaviour.requests.values()) - before


async def test_malformed_json_is_unavailable_and_not_retried(core: Core) -> None:
    """A body that is not JSON: BankUnavailable, asked once."""
    http = core.adapter(retries=3)
    cid = await _alice(http)
    core.behaviour.script.append("malformed")
    before = sum(core.behaviour.requests.values())

    with pytest.raises(BankUnavailable):
        await http.list_accounts(cid)

    assert 1 == sum(core.behaviour.requests.values()) - before


async def test_json_of_the_wrong_shape_is_unavailable(core: Core) -> None:
    """Valid JSON the dialect cannot read is BankUnavailable, never a KeyError."""
    http = core.adapter()
    cid = await _alice(http)
    http.paths = type(http.paths)(accounts="customers/{customer}")  # a customer, not accounts

    with pytest.raises(BankUnavailable):
        await http.list_accounts(cid)


async def test_a_dropped_connection_is_unavailable(core: Core) -> None:
    """The core resets the connection mid-request: BankUnavailable after the retries."""
    http = core.adapter(retries=1)
    cid = await _alice(http)
    core.behaviour.always = "reset"

    with pytest.raises(BankUnavailable):
        await http.list_accounts(cid)


async def test_a_core_that_is_not_there_is_unavailable() -> None:
    """Nothing listens on the port: BankUnavailable, not an aiohttp exception."""
    running, stop = await start_core()
    url = running.url
    await stop()

    async def no_wait(seconds: float) -> None:
        return None

    http = HttpBank(HttpCoreConfig(base_url=url, retries=1), sleep=no_wait)
    try:
        with pytest.raises(BankUnavailable):
            await http.list_accounts("cus_x")
    finally:
        await http.aclose()


@pytest.mark.parametrize(
    ("header", "retry_after"),
    [("120", 120), (None, 300), ("date", 90)],
    ids=["retry-after-seconds", "json-flag-only", "retry-after-http-date"],
)
async def test_maintenance_is_scheduled_with_its_retry_after(
    core: Core, header: str | None, retry_after: int
) -> None:
    """503 with Retry-After (seconds or a date) or {"maintenance": true}: FDX 503, not retried."""
    clock = FakeClock()
    http = core.adapter(retries=3)
    http.client._wall_clock = clock
    cid = await _alice(http)
    if header == "date":
        header = format_datetime(datetime.fromtimestamp(clock.now + 90, UTC), usegmt=True)
    core.behaviour.retry_after = header
    core.behaviour.script.append("maintenance")
    before = sum(core.behaviour.requests.values())

    with pytest.raises(ScheduledMaintenance) as raised:
        await http.list_accounts(cid)

    assert retry_after == raised.value.retry_after
    assert "503" == fdx_code_for(raised.value).code
    assert 1 == sum(core.behaviour.requests.values()) - before


async def test_a_closed_account_code_in_the_body_is_account_closed(core: Core) -> None:
    """The core's 409 {"error": "account_closed"} becomes AccountClosed (FDX 705)."""
    http = core.adapter()
    cid = await _alice(http)
    aid = await _checking(http, cid)

    async def closed(*_: object) -> None:
        raise AccountClosed("closed")

    core.bank.list_transactions = closed  # type: ignore[method-assign,assignment]

    with pytest.raises(AccountClosed) as raised:
        await http.list_transactions(cid, aid, EVERYTHING, PageRequest())

    assert "705" == fdx_code_for(raised.value).code


async def test_the_breaker_opens_fails_fast_and_recovers(core: Core) -> None:
    """After N failures no call reaches the core; after reset_after one probe closes it again."""
    clock = FakeClock()
    http = core.adapter(retries=0, breaker_failures=3, breaker_reset=10.0, clock=clock)
    cid = await _alice(http)
    core.behaviour.always = 503
    for _ in range(3):
        with pytest.raises(BankUnavailable):
            await http.list_accounts(cid)
    asked = sum(core.behaviour.requests.values())

    with pytest.raises(BankUnavailable, match="circuit open"):
        await http.list_accounts(cid)
    assert asked == sum(core.behaviour.requests.values())
    opened = http.client.breaker.state

    core.behaviour.always = None
    clock.now += 10.0
    half_open = http.client.breaker.state
    await http.list_accounts(cid)

    assert (opened, half_open, http.client.breaker.state) == (
        State.OPEN,
        State.HALF_OPEN,
        State.CLOSED,
    )


async def test_a_failed_probe_opens_the_breaker_again(core: Core) -> None:
    """Half-open and the probe fails: open again for another reset_after."""
    clock = FakeClock()
    http = core.adapter(retries=0, breaker_failures=1, breaker_reset=5.0, clock=clock)
    cid = await _alice(http)
    core.behaviour.always = 503
    with pytest.raises(BankUnavailable):
        await http.list_accounts(cid)
    clock.now += 5.0

    with pytest.raises(BankUnavailable, match="HTTP 503"):
        await http.list_accounts(cid)

    assert http.client.breaker.state is State.OPEN


async def test_one_session_and_kept_alive_connections(core: Core) -> None:
    """Sequential calls share one ClientSession and reuse its pooled connection."""
    http = core.adapter()
    cid = await _alice(http)
    session = http.client._session
    for _ in range(5):
        await http.list_accounts(cid)

    assert session is http.client._session
    assert session is not None
    connector = session.connector
    assert connector is not None
    assert 1 == sum(len(c) for c in connector._conns.values())  # one idle, reused


async def test_a_slow_core_does_not_stall_calls_to_another() -> None:
    """While core A holds a request, core B answers; A's call is still waiting."""
    slow, stop_slow = await start_core()
    fast, stop_fast = await start_core()
    try:
        a, b = slow.adapter(timeout=30), fast.adapter()
        cid = await _alice(a)
        slow.behaviour.release = asyncio.Event()
        slow.behaviour.always = "slow"
        waiting = asyncio.ensure_future(a.list_accounts(cid))
        await asyncio.sleep(0)

        for _ in range(3):
            assert await b.list_accounts(cid)

        assert not waiting.done()
        slow.behaviour.release.set()
        assert await waiting
    finally:
        await stop_slow()
        await stop_fast()


async def test_a_failing_core_does_not_take_the_others_accounts_down() -> None:
    """A composite of two HTTP cores: with cards down, deposits' transactions are still served."""
    deposits, stop_deposits = await start_core()
    cards, stop_cards = await start_core()
    try:
        bank = CompositeBank(
            {"deposits": deposits.adapter(), "cards": cards.adapter(retries=0)}, "deposits"
        )
        cid = await _alice(bank)
        accounts = await bank.list_accounts(cid)
        first = accounts[0]["accountId"]
        cards.behaviour.always = 503

        with pytest.raises(BankUnavailable):
            await bank.list_accounts(cid)
        page = await bank.list_transactions(cid, first, EVERYTHING, PageRequest(limit=3))
        assert len(page.items) == 3
        assert {t["accountId"] for t in page.items} == {first}
    finally:
        await stop_deposits()
        await stop_cards()


async def test_aclose_closes_the_session(core: Core) -> None:
    """After aclose the pool is gone; the next call opens a fresh one."""
    http = core.adapter()
    cid = await _alice(http)
    session = http.client._session

    await http.aclose()

    assert session is not None
    assert session.closed
    assert await http.list_accounts(cid)


async def test_an_answer_over_max_response_bytes_is_unavailable(core: Core) -> None:
    """A statement PDF larger than the cap: BankUnavailable (FDX 503/501), asked once, and the
    same document under a cap it fits comes through."""
    small = core.adapter(max_response_bytes=1024, retries=3)
    cid = await _alice(core.adapter())
    aid = await _checking(core.adapter(), cid)
    statements = await core.adapter().list_statements(cid, aid, EVERYTHING, PageRequest(limit=1))
    statement_id = statements.items[0]["statementId"]
    before = sum(core.behaviour.requests.values())

    with pytest.raises(BankUnavailable) as refused:
        await small.get_statement(cid, aid, statement_id)

    assert 1 == sum(core.behaviour.requests.values()) - before
    code = fdx_code_for(refused.value)
    assert (503, "501") == (code.status, code.code)
    document = await core.adapter().get_statement(cid, aid, statement_id)
    assert len(document.content) > 1024


async def test_a_chunked_or_compressed_answer_is_counted_as_it_is_read() -> None:
    """No Content-Length (chunked) and gzip that expands past the cap: refused while reading;
    the same bodies under the cap arrive whole and decompressed."""
    import gzip

    from aiohttp import web

    big = b"[" + b"0," * 40_000 + b"0]"
    assert len(gzip.compress(big)) < 10_000 < len(big)  # the zipped body is declared small

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(big), 4096):
            await response.write(big[start : start + 4096])
        await response.write_eof()
        return response

    async def zipped(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(big),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )

    app = web.Application()
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/zipped", zipped)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"
    tight = HttpBank(HttpCoreConfig(base_url=base, max_response_bytes=10_000, retries=0))
    roomy = HttpBank(HttpCoreConfig(base_url=base, retries=0))
    try:
        for path in ("chunked", "zipped"):
            with pytest.raises(BankUnavailable):
                await tight.client.get(path, StatementNotFound)
            answer = await roomy.client.get(path, StatementNotFound)
            assert big == answer.body
    finally:
        await tight.aclose()
        await roomy.aclose()
        await runner.cleanup()

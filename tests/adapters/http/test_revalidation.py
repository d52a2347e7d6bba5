"""Conditional requests between HttpBank and a real core on 127.0.0.1 (RFC 9110 §13.1.2).

With ``etag_cache_entries`` set, the adapter keeps what it mapped with the answer's ETag, sends
If-None-Match, and on 304 reuses the mapped objects. Every call still reaches the core."""

from __future__ import annotations

import pytest
from aiohttp import web

from adapters.base import PageRequest
from adapters.errors import AccountNotFound, BankUnavailable, ScheduledMaintenance
from adapters.http import HttpBank, HttpCoreConfig
from tests.adapters.http.conftest import Core
from tests.adapters.http.test_bank import EVERYTHING, FakeClock, _alice, _checking

pytestmark = pytest.mark.anyio

ON = {"etag_cache_entries": 100}


def _sent(core: Core) -> list[str | None]:
    """The If-None-Match of each request the core received, in order."""
    return [condition for _, condition in core.behaviour.conditions]


async def test_an_unchanged_answer_is_confirmed_by_304_and_served_identically(core: Core) -> None:
    """The second call carries the first answer's ETag, the core answers 304, and the adapter
    returns the same FDX page, equal to the sandbox's own, without a body crossing the wire."""
    http = core.adapter(**ON)
    cid = await _alice(http)
    aid = await _checking(http, cid)
    core.behaviour.conditions.clear()

    first = await http.list_transactions(cid, aid, EVERYTHING, PageRequest(limit=40))
    second = await http.list_transactions(cid, aid, EVERYTHING, PageRequest(limit=40))

    expected = await core.bank.list_transactions(cid, aid, EVERYTHING, PageRequest(limit=40))
    assert (list(expected.items), expected.next_offset, expected.total) == (
        list(second.items),
        second.next_offset,
        second.total,
    )
    assert first == second
    assert core.behaviour.not_modified == 1
    held = _sent(core)
    assert held[0] is None
    assert held[1] is not None
    assert held[1].startswith('"')


async def test_every_call_still_reaches_the_core(core: Core) -> None:
    """No freshness shortcut: three calls, three requests, each confirmed by the core."""
    http = core.adapter(**ON)
    cid = await _alice(http)
    before = sum(core.behaviour.requests.values())

    for _ in range(3):
        await http.list_accounts(cid)

    assert sum(core.behaviour.requests.values()) - before == 3
    assert core.behaviour.not_modified == 2


async def test_a_changed_answer_is_mapped_again(core: Core) -> None:
    """When the core's data changes, its ETag changes, it answers 200, and the new body is
    mapped; the answer kept before is never served."""
    http = core.adapter(**ON)
    cid = await _alice(http)
    aid = await _checking(http, cid)
    before = await http.get_account(cid, aid)
    sandbox_account = await core.bank.get_account(cid, aid)
    sandbox_account["nickname"] = "Renamed at the bank"

    after = await http.get_account(cid, aid)

    assert after["nickname"] == "Renamed at the bank"
    assert before.get("nickname") != after["nickname"]
    assert core.behaviour.not_modified == 0


async def test_no_if_none_match_crosses_to_another_customer(core: Core) -> None:
    """Alice's answers are kept under her URLs: Bob's first request carries no validator."""
    http = core.adapter(**ON)
    alice = await _alice(http)
    bob_customer = await http.authenticate("bob", "sandbox-bob")
    assert bob_customer is not None
    await http.list_accounts(alice)
    await http.list_accounts(alice)
    core.behaviour.conditions.clear()

    await http.list_accounts(bob_customer.customer_id)

    assert [(path.split("/")[2], tag) for path, tag in core.behaviour.conditions] == [
        (bob_customer.customer_id, None)
    ]


async def test_customer_and_customer_info_are_kept_apart(core: Core) -> None:
    """Two mappings of one URL (a Customer, a CustomerInfo) are two entries, never confused."""
    http = core.adapter(**ON)
    cid = await _alice(http)

    customer = await http.get_customer(cid)
    info = await http.get_customer_info(cid)
    again = await http.get_customer(cid)

    assert (customer, again) == (await core.bank.get_customer(cid),) * 2
    assert info == await core.bank.get_customer_info(cid)


async def test_errors_and_maintenance_are_not_hidden_by_a_kept_answer(core: Core) -> None:
    """A kept answer is only reused on a 304: maintenance, a missing account or a broken core
    are raised as without the cache, and the kept answer is dropped."""
    http = core.adapter(**ON, retries=0)
    cid = await _alice(http)
    aid = await _checking(http, cid)
    await http.get_account(cid, aid)

    core.behaviour.script.append("maintenance")
    with pytest.raises(ScheduledMaintenance):
        await http.get_account(cid, aid)
    core.behaviour.script.append(404)
    with pytest.raises(AccountNotFound):
        await http.get_account(cid, aid)
    core.behaviour.script.append(500)
    with pytest.raises(BankUnavailable):
        await http.get_account(cid, aid)

    core.behaviour.conditions.clear()
    assert await http.get_account(cid, aid) == await core.bank.get_account(cid, aid)
    assert _sent(core) == [None]


async def test_an_unasked_304_is_an_outage(core: Core) -> None:
    """A 304 to a request that held no validator is the core's mistake: BankUnavailable."""
    http = core.adapter(**ON, retries=0)
    cid = await _alice(http)
    core.behaviour.script.append(304)

    with pytest.raises(BankUnavailable):
        await http.list_accounts(cid)


async def test_weak_etags_are_not_kept(core: Core) -> None:
    """A weak validator (W/) promises an equivalent answer, not the same bytes: the adapter
    does not reuse objects mapped from another body, so it sends no If-None-Match."""
    core.behaviour.etags = "weak"
    http = core.adapter(**ON)
    cid = await _alice(http)
    core.behaviour.conditions.clear()

    first = await http.list_accounts(cid)
    second = await http.list_accounts(cid)

    assert first == second
    assert _sent(core) == [None, None]
    assert http.cache is not None
    assert len(http.cache) == 0


async def test_a_core_without_etags_works_as_before(core: Core) -> None:
    """No ETag, nothing kept: every call is a plain GET mapped afresh."""
    core.behaviour.etags = "off"
    http = core.adapter(**ON)
    cid = await _alice(http)
    aid = await _checking(http, cid)
    core.behaviour.conditions.clear()

    pages = [await http.list_transactions(cid, aid, EVERYTHING, PageRequest()) for _ in range(2)]

    expected = await core.bank.list_transactions(cid, aid, EVERYTHING, PageRequest())
    assert [list(p.items) for p in pages] == [list(expected.items)] * 2
    assert _sent(core) == [None, None]


async def test_the_cache_is_off_by_default(core: Core) -> None:
    """Without the option nothing is kept, even from a core that sends ETags."""
    http = core.adapter()
    cid = await _alice(http)
    core.behaviour.conditions.clear()

    await http.list_accounts(cid)
    await http.list_accounts(cid)

    assert http.cache is None
    assert _sent(core) == [None, None]


async def test_an_answer_is_kept_at_most_max_age(core: Core) -> None:
    """Past ``etag_cache_max_age`` the answer is gone: the next call is a plain GET, even
    though every 304 in between confirmed it."""
    clock = FakeClock()
    http = core.adapter(**ON, etag_cache_max_age=30.0, clock=clock)
    cid = await _alice(http)
    await http.list_accounts(cid)
    clock.now += 20
    await http.list_accounts(cid)  # a 304: it does not extend the answer's life
    core.behaviour.conditions.clear()

    clock.now += 11
    await http.list_accounts(cid)

    assert _sent(core) == [None]


async def test_aclose_forgets_every_answer(core: Core) -> None:
    """Closing the adapter drops what it kept."""
    http = core.adapter(**ON)
    await http.list_accounts(await _alice(http))
    assert http.cache is not None
    assert len(http.cache) > 0

    await http.aclose()

    assert (len(http.cache), http.cache.bytes) == (0, 0)


async def test_cookies_from_the_core_never_travel_with_a_later_call() -> None:
    """One session serves every customer, so a cookie the core sets is not sent back."""
    seen: list[str | None] = []

    async def accounts(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.json_response({"accounts": []})
        response.set_cookie("session", "alice-was-here")
        return response

    app = web.Application()
    app.router.add_get("/customers/{customer}/accounts", accounts)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    http = HttpBank(HttpCoreConfig(base_url=f"http://localhost:{port}"))
    try:
        await http.list_accounts("alice")
        await http.list_accounts("bob")
    finally:
        await http.aclose()
        await runner.cleanup()

    assert seen == [None, None]

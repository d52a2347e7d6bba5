"""The conformance kit: good adapters pass it, each kind of broken adapter fails the right check."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.base import (
    Account,
    Page,
    PageRequest,
    TaxStatement,
    Transaction,
    TransactionImage,
    Window,
)
from adapters.composite import CompositeBank
from adapters.conformance import CHECKS, Probe, Status, find_spec, run_checks
from adapters.conformance.cli import main
from adapters.conformance.schemas import BUNDLED
from adapters.errors import BankUnavailable
from adapters.sandbox import SandboxBank
from tests.adapters.http.conftest import TODAY, Core, start_core

pytestmark = pytest.mark.anyio

PROBE = Probe("alice", "sandbox-alice", "bob", "sandbox-bob")
SPEC = find_spec()


async def _verdicts(bank: object, **kwargs: object) -> dict[str, Status]:
    report = await run_checks(bank, PROBE, spec=SPEC, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return {o.check: o.status for o in report.outcomes}


@pytest.fixture
async def core() -> AsyncIterator[Core]:
    running, stop = await start_core()
    try:
        yield running
    finally:
        await stop()


def expected(status: Status = Status.PASSED) -> dict[str, Status]:
    verdicts = dict.fromkeys(CHECKS, status)
    if SPEC is None:
        verdicts["schemas"] = Status.SKIPPED
    return verdicts


async def test_the_sandbox_bank_passes_every_check() -> None:
    """The embedded sandbox keeps the whole contract."""
    assert expected() == await _verdicts(SandboxBank(today=TODAY))


async def test_the_http_adapter_passes_every_check_against_a_loopback_core(core: Core) -> None:
    """The HTTP adapter in front of a real core on 127.0.0.1 keeps the whole contract."""
    assert expected() == await _verdicts(core.adapter())


async def test_a_composite_bank_passes_every_check() -> None:
    """Two systems combined (opaque ids, routed calls) keep the whole contract."""
    members = {"deposits": SandboxBank(today=TODAY), "cards": SandboxBank(today=TODAY)}

    assert expected() == await _verdicts(CompositeBank(members, "deposits", id_key=b"k"))


async def test_without_the_fdx_document_the_schema_check_is_skipped_not_passed() -> None:
    """No spec: "schemas" is SKIP, the run still passes, and the report says why."""
    report = await run_checks(SandboxBank(today=TODAY), PROBE, only=["schemas"], today=TODAY)

    assert [o.status for o in report.outcomes] == [Status.SKIPPED]
    assert report.passed
    assert "SKIP  schemas" in report.render()
    assert "FDX_OPENAPI" in report.render()


async def test_the_report_gives_p50_and_max_latency_per_call() -> None:
    """Each adapter method called appears with its count, p50 and max in milliseconds."""
    report = await run_checks(SandboxBank(today=TODAY), PROBE, only=["errors"], today=TODAY)

    methods = {lat.method: lat for lat in report.latencies}
    assert {"authenticate", "get_account", "get_statement"} <= set(methods)
    assert all(lat.calls >= 1 and lat.max_ms >= lat.p50_ms >= 0 for lat in methods.values())
    assert "p50 ms" in report.render()


class Leaky(SandboxBank):
    """Shows the full account number in the account."""

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        accounts = []
        for a in await super().list_accounts(customer_id):
            networks = await self.list_payment_networks(customer_id, a["accountId"], PageRequest())
            number = networks.items[0]["identifier"] if networks.items else None
            accounts.append({**a, "accountNumberDisplay": number} if number else a)
        return accounts


class Overlapping(SandboxBank):
    """Each page's cursor points one item back: an item appears on two pages."""

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        found = await super().list_transactions(customer_id, account_id, window, page)
        if found.next_offset is None:
            return found
        return replace(found, next_offset=str(int(found.next_offset) - 1))


class ExclusiveEnd(SandboxBank):
    """Treats the window's end day as exclusive."""

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        end = max(window.start, window.end - timedelta(days=1))
        if window.start == window.end:
            return Page((), total=0)
        return await super().list_transactions(
            customer_id, account_id, Window(window.start, end), page
        )


class Forgetful(SandboxBank):
    """Mints new transaction ids on every call."""

    counter = itertools.count()

    async def list_transactions(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[Transaction]:
        found = await super().list_transactions(customer_id, account_id, window, page)
        n = next(self.counter)
        return replace(
            found, items=[{**t, "transactionId": f"{t['transactionId']}-{n}"} for t in found.items]
        )


class Leaking(SandboxBank):
    """Lets a foreign exception out and answers for unknown accounts."""

    async def get_contact(self, customer_id: str, account_id: str) -> dict[str, object]:
        raise KeyError(account_id)

    async def get_account(self, customer_id: str, account_id: str) -> Account:
        try:
            return await super().get_account(customer_id, account_id)
        except Exception:
            return {"accountId": account_id, "accountCategory": "DEPOSIT_ACCOUNT"}

    async def list_statements(
        self, customer_id: str, account_id: str, window: Window, page: PageRequest
    ) -> Page[dict[str, object]]:
        raise BankUnavailable("not the right error for an unknown account")


class Unschemed(SandboxBank):
    """Uses a category FDX does not know."""

    async def list_accounts(self, customer_id: str) -> Sequence[Account]:
        return [
            {**a, "accountCategory": "BANK_ACCOUNT"}
            for a in await super().list_accounts(customer_id)
        ]


class Mislabelled(SandboxBank):
    """Says its check images are TIFF while sending PNG bytes."""

    async def get_transaction_image(
        self, customer_id: str, account_id: str, image_id: str
    ) -> TransactionImage:
        found = await super().get_transaction_image(customer_id, account_id, image_id)
        return replace(found, media_type="image/tiff")


class YearBlind(SandboxBank):
    """Ignores the tax-year filter and answers for accounts it was not given."""

    async def list_tax_forms(
        self,
        customer_id: str,
        account_ids: Sequence[str],
        tax_year: int | None,
        page: PageRequest,
    ) -> Page[TaxStatement]:
        every = list(self.data.customers[customer_id].account_ids)
        return await super().list_tax_forms(customer_id, every, None, page)


@pytest.mark.parametrize(
    ("bank", "failed"),
    [
        (Leaky, {"masking"}),
        (Overlapping, {"pagination"}),
        (ExclusiveEnd, {"date-windows"}),
        (Forgetful, {"stable-ids", "pagination", "date-windows"}),
        (Leaking, {"errors", "masking", "schemas"}),
        (Unschemed, {"accounts", "schemas"}),
        (Mislabelled, {"images"}),
        (YearBlind, {"tax-forms"}),
    ],
    ids=["unmasked", "overlapping-pages", "exclusive-end", "unstable-ids", "wrong-errors",
         "bad-category", "mislabelled-images", "tax-year-ignored"],
)  # fmt: skip
async def test_each_broken_adapter_fails_the_check_it_breaks(
    bank: type[SandboxBank], failed: set[str]
) -> None:
    """The kit catches the fault and names it; checks it does not touch still pass."""
    verdicts = await _verdicts(bank(today=TODAY))

    if SPEC is None:
        failed = failed - {"schemas"}
    assert failed == {name for name, status in verdicts.items() if status is Status.FAILED}


async def test_a_refused_probe_login_stops_the_run_with_one_failure() -> None:
    """Without a login nothing can be checked: one failure that says so, nothing more."""
    report = await run_checks(SandboxBank(today=TODAY), Probe("alice", "wrong"), today=TODAY)

    assert [(o.check, o.status) for o in report.outcomes] == [("authentication", Status.FAILED)]
    assert "probe login was refused" in report.render()
    assert not report.passed


def test_the_command_prints_the_report_and_exits_zero_on_success(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``python -m adapters.conformance sandbox`` uses the demo logins and exits 0."""
    code = main(["sandbox", "--only", "errors,masking"])

    printed = capsys.readouterr().out
    assert code == 0
    assert "PASS  errors" in printed
    assert "PASSED: 2 passed, 0 failed, 0 skipped" in printed


def test_the_gateway_command_runs_the_kit(capsys: pytest.CaptureFixture[str]) -> None:
    """``fdxgw adapter check sandbox`` is the same kit under the operator's command."""
    from gateway.cli import main as fdxgw

    code = fdxgw(["adapter", "check", "sandbox", "--only", "authentication", "--json"])

    printed = capsys.readouterr().out
    assert code == 0
    assert '"status": "PASS"' in printed


def test_the_command_exits_one_when_a_check_fails(tmp_path: Path) -> None:
    """A faulty sandbox (every call of alice's fails) fails the run: exit 1."""
    (tmp_path / "faults.toml").write_text('[[faults]]\ncustomer = "alice"\nerror = "unavailable"\n')
    (tmp_path / "adapters.toml").write_text(f'[sandbox]\nfaults = "{tmp_path / "faults.toml"}"\n')

    assert main(["sandbox", "--config", str(tmp_path / "adapters.toml"), "--only", "errors"]) == 1


@pytest.mark.parametrize(
    "argv",
    [["nosuchbank"], ["sandbox", "--only", "vibes"], ["http"]],
    ids=["unknown-adapter", "unknown-check", "no-login-for-a-real-bank"],
)
def test_the_command_exits_two_when_it_cannot_start(argv: list[str]) -> None:
    """Unknown adapters or checks, or no test login for a non-sandbox bank: exit 2."""
    assert main(argv) == 2


def test_the_spec_is_found_from_the_environment_or_the_shared_copy(tmp_path: Path) -> None:
    """$FDX_OPENAPI wins over the shared copy; a missing file is not "found"."""
    spec = tmp_path / "fdx.json"
    spec.write_text("{}")

    assert find_spec(None, {"FDX_OPENAPI": str(spec)}) == spec
    assert find_spec(str(tmp_path / "none.json"), {}) == (BUNDLED if BUNDLED.is_file() else None)

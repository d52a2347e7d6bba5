"""Run the checks over an adapter and gather the report."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

from adapters.base import BankAdapter
from adapters.conformance.checks import CHECKS, Probe, Subject
from adapters.conformance.report import Outcome, Report, Status
from adapters.conformance.timing import Timed


async def run_checks(
    adapter: BankAdapter,
    probe: Probe,
    *,
    spec: Path | None = None,
    only: Iterable[str] | None = None,
    today: date | None = None,
    max_accounts: int = 20,
) -> Report:
    """Every check (or ``only`` those) over ``adapter``, logged in as ``probe``. The adapter
    is not closed: whoever opened it closes it."""
    names = list(CHECKS) if only is None else list(only)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s): {', '.join(unknown)} (known: {', '.join(CHECKS)})")
    timed = Timed(adapter)
    subject = Subject(
        timed, probe, today or datetime.now(UTC).date(), spec=spec, max_accounts=max_accounts
    )
    outcomes: list[Outcome] = []
    for name in names:
        outcome = await CHECKS[name](subject)
        outcomes.append(outcome)
        if outcome.status is Status.FAILED and not subject.signed_in:
            break  # without a login nothing else can run
    return Report(adapter.name, tuple(outcomes), timed.latencies())

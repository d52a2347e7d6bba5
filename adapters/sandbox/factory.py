"""The sandbox's entry in the adapter registry: options → a ready ``SandboxBank``.

Options (the ``[sandbox]`` table of the adapter configuration, all optional)::

    seed = 2026                          # another seed, another bank
    today = "2026-05-14"                 # freeze the bank's "today" (default: the real date)
    faults = "config/demo/faults.toml"   # fault injection plan (adapters/sandbox/faults.py)
"""

from __future__ import annotations

from datetime import date

from adapters.base import AdapterOptions, BankAdapter
from adapters.sandbox.bank import SandboxBank
from adapters.sandbox.faults import FaultyBank, read_plan, resolve

OPTIONS = frozenset({"seed", "today", "faults"})


def create(options: AdapterOptions) -> BankAdapter:
    unknown = set(options) - OPTIONS
    if unknown:
        raise ValueError(f"sandbox: unknown option(s) {', '.join(sorted(unknown))}")
    seed = options.get("seed", 2026)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"sandbox: seed must be a whole number, got {seed!r}")
    today = options.get("today")
    day = today if isinstance(today, date) else date.fromisoformat(today) if today else None
    bank = SandboxBank(seed=seed, today=day)
    faults = options.get("faults")
    return with_faults(bank, faults) if faults else bank


def with_faults(bank: SandboxBank, path: str) -> FaultyBank:
    """``bank`` behind the fault plan in ``path``, names resolved against its customers."""
    data = bank.data
    customers = {username: r.customer.customer_id for username, r in data.logins.items()}
    accounts = {a: (r.owner, str(r.account["accountType"])) for a, r in data.accounts.items()}
    return FaultyBank(bank, resolve(read_plan(path), customers, accounts))

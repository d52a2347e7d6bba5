"""The adapter conformance kit: prove a BankAdapter keeps the gateway's contract.

    fdxgw adapter check NAME            (or: python -m adapters.conformance NAME)

or, in a bank's own tests, subclass ``adapters.conformance.suite.AdapterConformance``.
"""

from __future__ import annotations

from adapters.conformance import categories  # noqa: F401 (registers the category checks)
from adapters.conformance.checks import CHECKS, Probe
from adapters.conformance.report import Latency, Outcome, Report, Status
from adapters.conformance.runner import run_checks
from adapters.conformance.schemas import find_spec

__all__ = [
    "CHECKS",
    "Latency",
    "Outcome",
    "Probe",
    "Report",
    "Status",
    "find_spec",
    "run_checks",
]

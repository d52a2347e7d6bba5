"""The conformance kit as a pytest suite a bank imports into its own tests::

    # tests/test_conformance.py of the bank's adapter package
    import pytest
    from adapters.conformance.suite import AdapterConformance
    from adapters.conformance import Probe
    from acme_bank import AcmeBank

    class TestAcmeBank(AdapterConformance):
        @pytest.fixture
        def conformance_probe(self) -> Probe:
            return Probe("test-user", "test-password")

        @pytest.fixture
        async def conformance_adapter(self):
            bank = AcmeBank(...)
            yield bank
            await bank.aclose()

Every check becomes one test (``test_conformance[pagination]`` …); a check that cannot run
(no FDX schema document) is skipped with the reason, never passed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from adapters.base import BankAdapter
from adapters.conformance.checks import CHECKS, Probe
from adapters.conformance.report import Status
from adapters.conformance.runner import run_checks
from adapters.conformance.schemas import find_spec
from config.settings import Settings


class AdapterConformance:
    """Subclass it and provide the ``conformance_adapter`` and ``conformance_probe`` fixtures;
    override ``conformance_today`` to pin the adapter's "today"."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def conformance_spec(self) -> Path | None:
        openapi = Settings.load().openapi  # FDX_OPENAPI, read through the one settings loader
        return find_spec(openapi or None)

    @pytest.fixture
    def conformance_today(self) -> date | None:
        return None

    @pytest.mark.anyio
    @pytest.mark.parametrize("check", list(CHECKS))
    async def test_conformance(
        self,
        check: str,
        conformance_adapter: BankAdapter,
        conformance_probe: Probe,
        conformance_spec: Path | None,
        conformance_today: date | None,
    ) -> None:
        """The adapter keeps this part of the contract."""
        report = await run_checks(
            conformance_adapter,
            conformance_probe,
            spec=conformance_spec,
            only=[check],
            today=conformance_today,
        )
        (outcome,) = report.outcomes
        if outcome.status is Status.SKIPPED:
            pytest.skip(outcome.detail)
        assert outcome.status is Status.PASSED, report.render()

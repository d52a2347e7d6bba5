"""The pytest suite a bank imports, run here over the sandbox and over the HTTP adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest

from adapters.base import BankAdapter
from adapters.conformance import Probe
from adapters.conformance.suite import AdapterConformance
from adapters.sandbox import SandboxBank
from tests.adapters.http.conftest import TODAY, start_core


class TestSandboxConformance(AdapterConformance):
    """What a bank writes in its own tests, with the sandbox as the bank."""

    @pytest.fixture
    def conformance_probe(self) -> Probe:
        return Probe("alice", "sandbox-alice", "bob", "sandbox-bob")

    @pytest.fixture
    def conformance_today(self) -> date | None:
        return TODAY

    @pytest.fixture
    def conformance_adapter(self) -> BankAdapter:
        return SandboxBank(today=TODAY)


class TestHttpConformance(AdapterConformance):
    """The same suite over the HTTP adapter and a core on 127.0.0.1."""

    @pytest.fixture
    def conformance_probe(self) -> Probe:
        return Probe("carol", "sandbox-carol")

    @pytest.fixture
    def conformance_today(self) -> date | None:
        return TODAY

    @pytest.fixture
    async def conformance_adapter(self) -> AsyncIterator[BankAdapter]:
        core, stop = await start_core()
        try:
            yield core.adapter()
        finally:
            await stop()


class TestHttpRevalidatingConformance(TestHttpConformance):
    """The same suite with the adapter keeping answers for If-None-Match (etag_cache_*)."""

    @pytest.fixture
    async def conformance_adapter(self) -> AsyncIterator[BankAdapter]:
        core, stop = await start_core()
        try:
            yield core.adapter(etag_cache_entries=1000)
        finally:
            await stop()

"""A real bank core on 127.0.0.1 (aiohttp.web) for the HTTP adapter's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from adapters.http import HttpBank, HttpCoreConfig
from adapters.http.reference_core import Behaviour, ReferenceCore, serve
from adapters.sandbox import SandboxBank

TODAY = date(2026, 5, 14)


@dataclass
class Core:
    """A running reference core: its URL, its misbehaviour switches and its bank."""

    url: str
    behaviour: Behaviour
    bank: SandboxBank
    adapters: list[HttpBank] = field(default_factory=list)

    def adapter(self, **options: Any) -> HttpBank:
        """An HttpBank in front of this core, with fast retries and no real waiting."""
        sleeps: list[float] = []
        extra = {k: options.pop(k) for k in ("draw", "sleep", "clock", "dialect") if k in options}
        config = HttpCoreConfig(**{"base_url": self.url, "backoff": 0.001, **options})

        async def no_wait(seconds: float) -> None:
            sleeps.append(seconds)

        bank = HttpBank(config, **{"sleep": no_wait, **extra})
        bank.sleeps = sleeps  # type: ignore[attr-defined]
        self.adapters.append(bank)
        return bank


async def start_core(bank: SandboxBank | None = None) -> tuple[Core, Callable[[], Any]]:
    behaviour = Behaviour()
    sandbox = bank or SandboxBank(today=TODAY)
    runner, port = await serve(ReferenceCore(sandbox, behaviour))
    core = Core(f"http://127.0.0.1:{port}", behaviour, sandbox)

    async def stop() -> None:
        for adapter in core.adapters:
            await adapter.aclose()
        if behaviour.release is not None:
            behaviour.release.set()
        await runner.cleanup()

    return core, stop


@pytest.fixture
async def core() -> AsyncIterator[Core]:
    running, stop = await start_core()
    try:
        yield running
    finally:
        await stop()

"""The whole app (``create_app``) over memory stores and the fake bank, for the operator tools'
tests: the FDX harness's helpers (grant, register, get), with every route of the gateway."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from authz.services import Services
from config.settings import Settings
from gateway.app import create_app
from tests.gateway.conftest import Harness


class FullHarness(Harness):
    def __init__(self, bank: Any = None, **settings: Any) -> None:
        super().__init__(bank)
        self.settings = Settings(**{"profile": "sandbox", **settings})
        self.services = Services.build(
            self.settings,
            policy=self.services.policy,
            records=self.records,
            state=self.state,
            bank=self.bank,
            keys=self.services.keys,
            clock=self.clock,
        )
        self.app = create_app(self.settings, services=self.services)
        self.client = TestClient(self.app, raise_server_exceptions=False)

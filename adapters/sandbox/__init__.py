"""The sandbox bank: a synthetic, deterministic bank behind the ``BankAdapter`` seam."""

from __future__ import annotations

from adapters.sandbox.bank import SandboxBank

__all__ = ["SandboxBank"]

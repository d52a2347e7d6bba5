"""Shares the contract suites' fake clock with the implementation-specific tests."""

from tests.contracts.conftest import clock

__all__ = ["clock"]

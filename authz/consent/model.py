"""The consent model, kept in ``authz.records`` (the bottom floor, below the store); these names
stay importable from here for the consent rules and their callers."""

from __future__ import annotations

from authz.records import Consent, ConsentEvent, ConsentResource, ConsentStatus, DurationType

__all__ = ["Consent", "ConsentEvent", "ConsentResource", "ConsentStatus", "DurationType"]

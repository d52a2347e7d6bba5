"""Retention of the audit trail: keep at least ``audit_retention_days`` (three years by
default, 12 CFR 1033.351), delete what is older, and keep the chain verifiable from an anchor."""

from __future__ import annotations

from authz.store.base import Records
from config.settings import Settings

DAY = 86400


def cutoff(settings: Settings, now: float) -> float:
    return now - settings.audit_retention_days * DAY


async def prune(records: Records, settings: Settings, now: float) -> int:
    """Delete links (and data-access records) older than the retention period; returns how many
    links went. The last deleted link becomes the anchor ``verify_chain`` starts from."""
    return await records.audit.prune(cutoff(settings, now))

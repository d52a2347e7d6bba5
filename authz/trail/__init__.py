"""The audit trail (docs/fdx.md §7): verify its hash chain, export it, prune it by retention."""

from __future__ import annotations

from authz.trail.export import export_customer, export_range
from authz.trail.retention import cutoff, prune
from authz.trail.verify import Broken, Verification, verify_chain

__all__ = [
    "Broken",
    "Verification",
    "cutoff",
    "export_customer",
    "export_range",
    "prune",
    "verify_chain",
]

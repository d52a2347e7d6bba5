"""In-process stores: the default ``StateStore`` of a single node, and the record families in
dicts (tests, ``memory://``)."""

from __future__ import annotations

from authz.store.memory.outbox import MemoryOutbox
from authz.store.memory.records import (
    MemoryAudit,
    MemoryClients,
    MemoryConsents,
    MemoryRefreshTokens,
    memory_records,
)
from authz.store.memory.secrets import MemorySecrets
from authz.store.memory.state import MemoryStateStore

__all__ = [
    "MemoryAudit",
    "MemoryClients",
    "MemoryConsents",
    "MemoryOutbox",
    "MemoryRefreshTokens",
    "MemorySecrets",
    "MemoryStateStore",
    "memory_records",
]

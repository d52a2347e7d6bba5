"""The bank's decisions about recipients: approve, suspend, reinstate (CLI and admin API).

A registered recipient starts ``pending`` and may do nothing until the bank approves it. A
suspended one is refused everywhere on its next request (client authentication and the FDX
gate both read the status live) while its consents are kept as they are, so reinstating it
restores exactly what the consumers granted. Every change is recorded on the client with its time
(CFPB §1033.351: denials are recorded with a reason).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from authz.store.base import ClientRecord, Records

if TYPE_CHECKING:
    from authz.services import RecipientObserver

MAX_HISTORY = 50


class Status(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"
    DELETED = "deleted"  # deregistered by the recipient (RFC 7592 §2.3); final


class RecipientError(Exception):
    """Unknown recipient, or a change its status does not allow; the message says which."""


# action → (statuses it applies to, resulting status)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "approve": (frozenset({Status.PENDING}), Status.APPROVED),
    "suspend": (frozenset({Status.PENDING, Status.APPROVED}), Status.SUSPENDED),
    "reinstate": (frozenset({Status.SUSPENDED}), Status.APPROVED),
}


async def list_recipients(records: Records) -> list[ClientRecord]:
    """Every registered recipient, deregistered ones included, by client_id."""
    return await records.clients.all()


async def change_status(
    records: Records,
    client_id: str,
    action: str,
    *,
    now: float,
    reason: str | None = None,
    observers: Sequence[RecipientObserver] = (),
) -> ClientRecord:
    """Apply ``action`` (approve | suspend | reinstate) and return the stored record; then tell
    ``observers`` (consumers hear of a suspension or a reinstatement)."""
    if action not in TRANSITIONS:
        raise RecipientError(f"unknown action {action!r}")
    client = await records.clients.get(client_id)
    if client is None:
        raise RecipientError(f"no recipient {client_id!r}")
    sources, target = TRANSITIONS[action]
    if client.status not in sources:
        raise RecipientError(f"cannot {action} a recipient that is {client.status}")
    entry = {"status": target.value, "time": now, "action": action}
    if reason:
        entry["reason"] = reason[:500]
    history = [*client.extra.get("status_history", []), entry][-MAX_HISTORY:]
    changed = replace(
        client, status=target.value, extra={**client.extra, "status_history": history}
    )
    await records.clients.put(changed)
    for observer in observers:
        await observer.recipient_changed(client, changed)
    return changed


async def approve(records: Records, client_id: str, *, now: float) -> ClientRecord:
    return await change_status(records, client_id, "approve", now=now)


async def suspend(
    records: Records, client_id: str, *, now: float, reason: str | None = None
) -> ClientRecord:
    return await change_status(records, client_id, "suspend", now=now, reason=reason)


async def reinstate(records: Records, client_id: str, *, now: float) -> ClientRecord:
    return await change_status(records, client_id, "reinstate", now=now)

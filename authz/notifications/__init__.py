"""Signed FDX consent notifications to recipients (docs/fdx.md §4): queued, delivered, retried."""

from __future__ import annotations

from authz.notifications.message import build, sign
from authz.notifications.notifier import Notifier
from authz.notifications.sender import Outcome, Refused, Sender, check_url
from authz.notifications.sweeper import Sweeper, SweepResult
from authz.notifications.worker import DeliveryWorker, backoff

__all__ = [
    "DeliveryWorker",
    "Notifier",
    "Outcome",
    "Refused",
    "Sender",
    "SweepResult",
    "Sweeper",
    "backoff",
    "build",
    "check_url",
    "sign",
]

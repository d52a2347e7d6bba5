"""What the consent transitions use (``authz.consent.lifecycle``): the records, the clock, the
settings and the observers told of every stored change, and nothing else of the gateway's
services (``authz.services.Services`` has these four, so it is passed as is)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from authz.records import Consent, ConsentEvent
from authz.store.base import Records
from config.settings import Settings


class ConsentObserver(Protocol):
    async def consent_changed(self, consent: Consent, event: ConsentEvent) -> None:
        """``consent`` as stored after ``event``; must not block (enqueue, don't deliver)."""


class ConsentBook(Protocol):
    @property
    def records(self) -> Records: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def observers(self) -> Sequence[ConsentObserver]: ...


__all__ = ["ConsentBook", "ConsentObserver"]

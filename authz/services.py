"""The parts every endpoint needs, built once (``gateway.services.build_services``), passed down."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from adapters.base import BankAdapter
from adapters.capability import withheld_clusters
from authz.access_tokens import AccessTokens
from authz.bank_provider import BankProvider
from authz.consent.book import ConsentObserver
from authz.keys import SigningKeys
from authz.notices.store import NoticeRecords
from authz.notices.store.memory import open_memory
from authz.sender import SenderConstraint
from authz.store.base import ClientRecord, Records, StateStore
from authz.subscriptions.memory import MemorySubscriptionStore
from authz.subscriptions.store import SubscriptionStore
from config.policy import Policy
from config.settings import Settings

Clock = Callable[[], float]


class RecipientObserver(Protocol):
    async def recipient_changed(self, before: ClientRecord, after: ClientRecord) -> None:
        """A recipient's registration or status changed (``after`` as stored); must not block
        and must not raise."""


@dataclass(frozen=True, slots=True, eq=False)
class Services:
    settings: Settings
    policy: Policy
    records: Records
    state: StateStore
    bank: BankAdapter
    keys: SigningKeys
    tokens: AccessTokens
    clock: Clock
    secret: bytes  # signs session cookies and CSRF values, keys pairwise subjects
    # Sender-constrained tokens (DPoP, mTLS) and the profile that requires them (authz/sender.py).
    senders: SenderConstraint
    # Told of every consent change after it is stored (notifications, caches). Each must return
    # at once: a slow receiver must never delay the consumer's action.
    observers: list[ConsentObserver] = field(default_factory=list)
    # Recipients' notification subscriptions (authz/subscriptions): a record family of its own.
    subscriptions: SubscriptionStore = field(default_factory=MemorySubscriptionStore)
    # The bank's OpenID Provider that signs consumers in, when settings.login is "oidc".
    bank_login: BankProvider | None = None
    # Told of every change to a recipient's registration or status (notices to consumers).
    recipient_observers: list[RecipientObserver] = field(default_factory=list)
    # Consumer notices (authz/notices): the email outbox, the portal's inbox, the language each
    # consumer last used, deletion requests; record families of their own.
    notices: NoticeRecords = field(default_factory=open_memory)

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        policy: Policy,
        records: Records,
        state: StateStore,
        bank: BankAdapter,
        keys: SigningKeys,
        secret: bytes | None = None,
        observers: list[ConsentObserver] | None = None,
        subscriptions: SubscriptionStore | None = None,
        clock: Clock = time.time,
        bank_login: BankProvider | None = None,
        notices: NoticeRecords | None = None,
    ) -> Services:
        tokens = AccessTokens(
            keys,
            issuer=settings.issuer,
            audience=settings.resource_audience,
            ttl=settings.access_token_ttl,
            clock=clock,
        )
        secret = secret if secret is not None else secrets.token_bytes(32)
        return cls(
            settings=settings,
            # What the bank's adapter cannot serve is never offered, granted or opened
            # (adapters/capability.py): read here, once, for every user of the policy.
            policy=policy.served_by(withheld_clusters(bank)),
            records=records,
            state=state,
            bank=bank,
            keys=keys,
            tokens=tokens,
            clock=clock,
            secret=secret,
            senders=SenderConstraint.build(settings, state=state, clock=clock, secret=secret),
            observers=list(observers or ()),
            subscriptions=subscriptions or MemorySubscriptionStore(),
            bank_login=bank_login
            if bank_login is not None or settings.login != "oidc"
            else BankProvider(settings, clock=clock),
            notices=notices if notices is not None else open_memory(),
        )

"""A sign-in / consent screen in progress: the pushed request it serves and who is answering.

Created by /oauth/authorize once the request_uri has been consumed, so the browser only ever holds
an opaque id; bound to the customer at sign-in; consumed (single use) by the consumer's decision.

The interaction itself is written once (``start``) and used once (``finish``); who signed in is
kept beside it, under its own key (``bind``). A sign-in that finishes late (the bank answered
slowly while the same interaction was decided in another tab) so never rewrites the used
interaction as unused, which would have allowed a second decision, and a second code, from one
pushed request.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass, replace

from authz.pushed import PushedRequest
from authz.services import Services
from authz.store.base import Kind, Payload

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


@dataclass(frozen=True, slots=True)
class Interaction:
    id: str
    request: PushedRequest
    customer_id: str | None
    expires_at: float


class Interactions:
    def __init__(self, services: Services) -> None:
        self._state = services.state
        self._clock = services.clock
        self._ttl = services.settings.interaction_ttl

    async def start(self, request: PushedRequest) -> Interaction:
        now = self._clock()
        interaction = Interaction(secrets.token_urlsafe(24), request, None, now + self._ttl)
        await self._state.put(
            Kind.INTERACTION, interaction.id, _payload(interaction), ttl=self._ttl
        )
        return interaction

    async def load(self, interaction_id: str) -> Interaction | None:
        """None when unknown, expired, already decided, or not even shaped like an id."""
        if not _ID.match(interaction_id):
            return None
        # Both reads in one round trip on Redis (the store pipelines one turn's commands).
        payload, signed_in = await asyncio.gather(
            self._state.get(Kind.INTERACTION, interaction_id),
            self._state.get(Kind.INTERACTION, _customer_key(interaction_id)),
        )
        if payload is None or "consumed_at" in payload:
            return None
        return Interaction(
            id=interaction_id,
            request=PushedRequest.from_dict(payload["request"]),
            # An interaction bound before this layout (a rolling upgrade) held it inside.
            customer_id=payload.get("customer_id")
            if signed_in is None
            else signed_in["customer_id"],
            expires_at=float(payload["expires_at"]),
        )

    async def bind(self, interaction: Interaction, customer_id: str) -> Interaction:
        """Record who signed in, beside the interaction (never rewriting it); the binding
        keeps the interaction's original deadline."""
        bound = replace(interaction, customer_id=customer_id)
        ttl = max(1.0, interaction.expires_at - self._clock())
        key = _customer_key(bound.id)
        await self._state.put(Kind.INTERACTION, key, {"customer_id": customer_id}, ttl=ttl)
        return bound

    async def finish(self, interaction: Interaction) -> bool:
        """Atomically use the interaction up; False if another request already did (a double
        submit, or a replay), in which case nothing may be granted. The used interaction stays
        until its TTL, marked ``consumed_at``, which ``load`` and a second ``finish`` refuse:
        the one atomic consume is the whole decision, with no delete after it."""
        payload = await self._state.consume(Kind.INTERACTION, interaction.id)
        return payload is not None and "consumed_at" not in payload


def _payload(interaction: Interaction) -> Payload:
    return {"request": interaction.request.to_dict(), "expires_at": interaction.expires_at}


def _customer_key(interaction_id: str) -> str:
    # "." is outside the ids' alphabet (_ID), so no interaction id can name a binding.
    return f"{interaction_id}.customer"

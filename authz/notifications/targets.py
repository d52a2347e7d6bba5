"""Where a queued notification goes: the recipient's registered ``notification_uri``, or the
``callbackUrl`` of one of its notification subscriptions (authz/subscriptions).

The outbox row names its target through its id, so the outbox itself is unchanged: a delivery
for a subscription has the id ``<subscriptionId>.<uuid>`` (subscription ids are ours and start
``SUBSCRIPTION_PREFIX``, and contain no dot); any other id goes to the registered URI.
"""

from __future__ import annotations

import secrets

SUBSCRIPTION_PREFIX = "nsub_"


def new_subscription_id() -> str:
    return SUBSCRIPTION_PREFIX + secrets.token_hex(12)


def delivery_id(subscription_id: str | None, unique: str) -> str:
    """The outbox id of a delivery to ``subscription_id`` (None: the registered URI)."""
    return unique if subscription_id is None else f"{subscription_id}.{unique}"


def subscription_of(delivery_id: str) -> str | None:
    """The subscription a delivery is for, or None when it goes to the registered URI."""
    if not delivery_id.startswith(SUBSCRIPTION_PREFIX) or "." not in delivery_id:
        return None
    return delivery_id.split(".", 1)[0]

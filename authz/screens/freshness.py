"""Whether a consumer's session is recent enough for what the app asked (OIDC Core §3.1.2.1).

``max_age``: the consumer signed in at most that many seconds ago. ``prompt=login``: the
consumer signed in again for this request, i.e. after the app pushed it. Otherwise the consumer
signs in again, at the built-in form or at the bank's OP, and the gateway's ID token carries
that new sign-in's ``auth_time``. ``prompt=none`` never reaches a screen: a consent screen
always follows sign-in, so the app is told ``login_required`` or ``consent_required`` at once.
"""

from __future__ import annotations

from authz.requests import PushedRequest
from authz.screens.session import Session


def recent_enough(session: Session, pushed: PushedRequest, now: float) -> bool:
    if pushed.max_age is not None and now - session.auth_time > pushed.max_age:
        return False
    return "login" not in pushed.prompt or session.auth_time >= pushed.created_at


def signed_in_after(pushed: PushedRequest) -> float | None:
    """With ``prompt=login``, the time before which a sign-in does not count."""
    return pushed.created_at if "login" in pushed.prompt else None

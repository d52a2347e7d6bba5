"""The bank operator's admin API (``api.py``), its credential (``token.py``), and the consent
and key views it shares with ``fdxgw`` (``consents.py``, ``keys.py``)."""

from __future__ import annotations

from gateway.admin.api import admin_routes
from gateway.admin.token import AdminToken, hash_token, new_token, write_token_hash

__all__ = ["AdminToken", "admin_routes", "hash_token", "new_token", "write_token_hash"]

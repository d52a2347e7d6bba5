"""The consumer portal (/consumer): connected apps, access logs, revoke, renew, history,
receipts and the consumer's own export, in English and Japanese, without JavaScript.

``routes(services)`` returns its routes; ``gateway.app`` mounts them beside the screens' (whose
/static mount serves ``portal.css``).
"""

from authz.screens.portal.routes import routes

__all__ = ["routes"]

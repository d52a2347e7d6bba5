"""Consumer-facing screens: /oauth/authorize, sign-in at the bank, and the consent screen (en/ja).

``routes(services)`` returns every route, static files included; ``gateway.app`` mounts them.
"""

from authz.screens.routes import routes

__all__ = ["routes"]

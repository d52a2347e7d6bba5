"""The OpenAPI document of the gateway's FDX surface, for recipients' developers.

``build.py`` trims the FDX 6.2 OpenAPI document down to the operations this gateway serves (and
the components they reference) and writes ``fdx-gateway.openapi.json``, which is committed: the
running gateway serves it from the package, never from ``../shared``. ``document.py`` loads it
and fills in the deployment's server URL; ``page.py`` renders it as plain HTML at ``/docs``.
"""

from __future__ import annotations

from gateway.openapi.document import DOCUMENT_FILE, load_document, served_document
from gateway.openapi.page import render_page

__all__ = ["DOCUMENT_FILE", "load_document", "render_page", "served_document"]

"""The OpenAPI document of what a recipient's code calls: the FDX API and the OAuth endpoints.

``operations.py`` and ``oauth.py`` hold one row per operation, ``answers.py`` the refusals they
list (read off the error classes); ``build.py`` copies the FDX operations from the FDX 6.2
OpenAPI document, adds the OAuth ones, and writes ``fdx-gateway.openapi.json``, which is
committed: the running gateway serves it from the package and never reads the FDX document.
``document.py`` loads it and narrows it to the deployment (server URL, accepted token schemes,
registration on or off); ``page.py`` renders it as plain HTML at ``/docs``.
"""

from __future__ import annotations

from gateway.openapi.document import DOCUMENT_FILE, load_document, served_document
from gateway.openapi.page import render_page

__all__ = ["DOCUMENT_FILE", "load_document", "render_page", "served_document"]

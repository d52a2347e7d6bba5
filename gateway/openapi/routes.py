"""``GET /fdx/v6/openapi.json`` (inside the FDX mount) and ``GET /docs`` (the rendered page).

Both are public and built once per app: the document with this gateway's server URL, encoded,
and the page rendered from it."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from config.settings import Settings
from gateway.openapi.document import served_document
from gateway.openapi.page import render_page

CACHE = "public, max-age=300"


def openapi_route(settings: Settings) -> Route:
    body = orjson.dumps(served_document(settings))

    async def openapi(request: Request) -> Response:
        return Response(body, media_type="application/json", headers={"cache-control": CACHE})

    return Route("/openapi.json", openapi, methods=["GET"])


def docs_route(settings: Settings) -> Route:
    page = render_page(served_document(settings), title=f"{settings.provider_name} FDX API")
    # The page has no script at all; the policy says so, so an injection could not add one.
    headers = {
        "cache-control": CACHE,
        "content-security-policy": (
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
        ),
    }

    async def docs(request: Request) -> Response:
        return HTMLResponse(page, headers=headers)

    return Route("/docs", docs, methods=["GET"])

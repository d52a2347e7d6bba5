"""FDX JSON responses: orjson bytes (stdlib json costs ~15x more on a 33 KB page, performance.md),
never cached (the body is personal data, RFC 9111 §5.2.2.5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

NO_STORE = "no-store"


def fdx_json(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    all_headers = {"cache-control": NO_STORE, **headers} if headers else {"cache-control": NO_STORE}
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=all_headers
    )

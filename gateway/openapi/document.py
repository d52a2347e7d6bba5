"""The committed OpenAPI document, loaded once, and as one deployment serves it.

The committed document lists every way a token may be presented and every operation the
gateway can serve; ``served_document`` narrows it to this deployment: its issuer as the server,
only the security alternatives its settings accept (unbound Bearer tokens only under the sandbox
profile, certificate-bound ones only behind an mTLS proxy), and the registration operations only
where dynamic registration is on.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from authz.registration.statement import registry_file
from config.settings import Settings

DOCUMENT_FILE = Path(__file__).with_name("fdx-gateway.openapi.json")
FDX_PREFIX = "/fdx/v6"
REGISTRATION_PREFIX = "/register"
METHODS = ("get", "put", "post", "delete", "patch")


@lru_cache(maxsize=1)
def load_document() -> dict[str, Any]:
    """The document as committed (read-only by convention: callers copy before changing)."""
    document: dict[str, Any] = json.loads(DOCUMENT_FILE.read_text(encoding="utf-8"))
    return document


def served_document(settings: Settings, *, registration: bool | None = None) -> dict[str, Any]:
    """The document as this deployment serves it (``registration``: whether ``/register`` is
    routed; by default, whether a registry is configured)."""
    if registration is None:
        registration = registry_file(settings) is not None
    schemes = accepted_schemes(settings)
    document = copy.deepcopy(load_document())
    document["servers"] = [{"url": settings.issuer}]
    paths = document["paths"]
    if not registration:
        for path in [p for p in paths if p.startswith(REGISTRATION_PREFIX)]:
            del paths[path]
    for op in _all(paths):
        op["security"] = [r for r in op.get("security", []) if set(r) <= schemes]
    used = {name for op in _all(paths) for alternative in op["security"] for name in alternative}
    defined = document["components"]["securitySchemes"]
    document["components"]["securitySchemes"] = {k: v for k, v in defined.items() if k in used}
    return document


def _all(paths: dict[str, Any]) -> list[dict[str, Any]]:
    return [op for item in paths.values() for method, op in item.items() if method in METHODS]


def accepted_schemes(settings: Settings) -> set[str]:
    """The security schemes of the document this deployment's settings accept."""
    schemes = {"dpop", "dpopProof", "registrationToken"}
    if settings.mtls_client_cert_header:
        schemes.add("mtlsBearer")  # RFC 8705, behind a proxy that forwards the certificate
    if settings.profile == "sandbox":
        schemes.add("bearer")
    return schemes


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the document."""
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in METHODS
    }


def fdx_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path under /fdx/v6, operation) of the FDX operations, in document order; our
    own extensions (``x-fdxgw-extension``) are not FDX operations and have no FDX id."""
    return [
        (method, path.removeprefix(FDX_PREFIX), op)
        for path, item in document["paths"].items()
        if path.startswith(FDX_PREFIX + "/")
        for method, op in item.items()
        if method in METHODS and not op.get("x-fdxgw-extension")
    ]

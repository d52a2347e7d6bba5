"""The committed OpenAPI document, loaded once, with this deployment's server URL."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DOCUMENT_FILE = Path(__file__).with_name("fdx-gateway.openapi.json")


@lru_cache(maxsize=1)
def load_document() -> dict[str, Any]:
    """The document as committed (read-only by convention: callers copy before changing)."""
    document: dict[str, Any] = json.loads(DOCUMENT_FILE.read_text(encoding="utf-8"))
    return document


def served_document(issuer: str) -> dict[str, Any]:
    """The document as served: its one server is this gateway's FDX base URL."""
    return {**load_document(), "servers": [{"url": f"{issuer}/fdx/v6"}]}


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in the document."""
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }

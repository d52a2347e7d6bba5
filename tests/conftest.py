"""Fixtures shared by every test package."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPEC_CANDIDATES = (
    os.environ.get("FDX_OPENAPI", ""),
    str(ROOT.parent / "shared" / "fdx" / "fdx-api-6.2.openapi3.json"),
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _spec_path() -> str:
    """The FDX 6.2 OpenAPI document's path, or "" when there is none (``make mutation`` hands
    it to the suite it runs from a copy of the tree)."""
    return next((c for c in SPEC_CANDIDATES if c and Path(c).is_file()), "")


@cache
def _spec() -> dict[str, Any] | None:
    path = _spec_path()
    if not path:
        return None
    return json.loads(Path(path).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


FdxValidate = Callable[[Any, str], None]


@pytest.fixture
def fdx_validate() -> FdxValidate:
    """``fdx_validate(body, "Transactionsentity")`` fails the test with every schema error.

    The FDX 6.2 OpenAPI document is read from $FDX_OPENAPI or ../shared/fdx/; CI always has it.
    Elsewhere the test is skipped, saying why.
    """
    spec = _spec()
    if spec is None:
        pytest.skip(
            "FDX 6.2 OpenAPI document not found (set FDX_OPENAPI or provide ../shared/fdx/)"
        )
    from openapi_schema_validator import OAS30Validator

    def validate(body: Any, schema: str) -> None:
        assert schema in spec["components"]["schemas"], f"no schema {schema}"
        validator = OAS30Validator(
            {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}
        )
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]
        assert errors == [], f"{schema}: " + "; ".join(errors[:10])

    return validate

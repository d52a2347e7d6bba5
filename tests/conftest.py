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


@cache
def _spec() -> dict[str, Any] | None:
    for candidate in SPEC_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return json.loads(Path(candidate).read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    return None


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

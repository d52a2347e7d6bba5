"""The FDX 6.2 OpenAPI schemas, when the document is at hand.

FDX licenses that document and the project does not ship it: it is read from $FDX_OPENAPI, or
from a folder shared/fdx/ beside the checkout, where development machines and CI keep it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT.parent / "shared" / "fdx" / "fdx-api-6.2.openapi3.json"

# accountCategory → (account schema, transaction schema) of the category's own FDX types.
BY_CATEGORY = {
    "DEPOSIT_ACCOUNT": ("DepositAccountentity", "DepositTransactionentity"),
    "LOC_ACCOUNT": ("LineofCreditAccountentity", "LineofCreditTransactionentity"),
    "LOAN_ACCOUNT": ("LoanAccountentity", "LoanTransactionentity"),
    "INVESTMENT_ACCOUNT": ("InvestmentAccountentity", "InvestmentTransactionentity"),
    "INSURANCE_ACCOUNT": ("InsuranceAccountentity", "InsuranceTransactionentity"),
    "ANNUITY_ACCOUNT": ("AnnuityAccountentity", None),
    "COMMERCIAL_ACCOUNT": ("CommercialAccountentity", "CommercialTransactionentity"),
    "DIGITAL_WALLET": ("DigitalWalletaccountentity", "DigitalWalletTransactionentity"),
}

Validate = Callable[[Any, str], list[str]]


def find_spec(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Path | None:
    """The first of: ``explicit``, ``$FDX_OPENAPI`` (from ``environ``), the shared copy."""
    for candidate in (explicit, (environ or {}).get("FDX_OPENAPI"), str(BUNDLED)):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@cache
def validator(path: Path) -> Validate:
    """``validate(value, "Transactionsentity")`` → the schema errors (empty when valid)."""
    from openapi_schema_validator import OAS30Validator

    spec: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    components = spec["components"]
    compiled: dict[str, Any] = {}

    def validate(value: Any, schema: str) -> list[str]:
        if schema not in components["schemas"]:
            return [f"no schema {schema} in {path.name}"]
        if schema not in compiled:
            ref = {"$ref": f"#/components/schemas/{schema}", "components": components}
            compiled[schema] = OAS30Validator(ref)
        return [
            f"{schema} {list(e.absolute_path)}: {e.message[:160]}"
            for e in compiled[schema].iter_errors(value)
        ]

    return validate

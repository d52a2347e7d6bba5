"""Write ``fdx-gateway.openapi.json``: the FDX 6.2 OpenAPI document trimmed to what we serve.

    python -m gateway.openapi.build [--spec ../shared/fdx/fdx-api-6.2.openapi3.json]

Each operation in ``OPERATIONS`` is copied from the FDX document with its parameters and
responses, then adjusted to this gateway: who may call it (a consent's data clusters from
``config/clusters.toml``, the Consent API's client-credentials scope, or nobody for the public
meta endpoints), and ``x-fapi-interaction-id`` optional (we make one when it is missing). Every
component the operations reference, directly or through other components, is kept; nothing else.
``tests/gateway/test_openapi.py`` checks the result against the app's routes, both ways.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.policy import Policy, load_policy
from gateway.openapi.document import DOCUMENT_FILE

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = ROOT.parent / "shared" / "fdx" / "fdx-api-6.2.openapi3.json"
CONSENTS_SCOPE = "fdx:consents:manage"


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    access: str  # "data" (a consent's access token) | "consents" (client credentials) | "public"


OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/accounts", "data"),
    Operation("GET", "/accounts/{accountId}", "data"),
    Operation("GET", "/accounts/{accountId}/transactions", "data"),
    Operation("GET", "/accounts/{accountId}/statements", "data"),
    Operation("GET", "/accounts/{accountId}/statements/{statementId}", "data"),
    Operation("GET", "/accounts/{accountId}/contact", "data"),
    Operation("GET", "/accounts/{accountId}/payment-networks", "data"),
    Operation("GET", "/customers/current", "data"),
    Operation("GET", "/consents/{consentId}", "consents"),
    Operation("GET", "/consents/{consentId}/revocation", "consents"),
    Operation("PUT", "/consents/{consentId}/revocation", "consents"),
    Operation("GET", "/availability", "public"),
    Operation("GET", "/capability", "public"),
)

INFO_DESCRIPTION = """\
The FDX v6.2 API as this gateway serves it. Data operations need an access token obtained with \
the consumer's consent: pushed authorization request (RFC 9126) with FDX `authorization_details`, \
`private_key_jwt` client authentication, PKCE, then the token endpoint; the authorization \
server's metadata is at `/.well-known/oauth-authorization-server`. A token reaches only the \
accounts and data clusters the consumer granted, and every response carries only the fields of \
those clusters. The Consent API takes a client-credentials token with the scope \
`fdx:consents:manage`. The meta operations (`/availability`, `/capability`) are public. Errors \
use the FDX shape `{"code", "message", "debugMessage"}`."""


# Our extensions of the Consent API, each drawn from the FDX operation it resembles.
DELETION = Operation("PUT", "/consents/{consentId}/deletion", "consents")
DELETION_DESCRIPTION = """\
Confirm that the data of an ended consent was deleted (an extension of this gateway, not part of \
FDX). When consumers stop sharing they may ask the recipient to delete the data it already has; \
the signed `CONSENT_REVOKED` notification then carries a `deletionRequest` link to this path. \
The recipient calls it, without a body, once the data is gone; the consumer sees the \
confirmation in the bank's portal. Idempotent: the first confirmation's time is kept."""


def build(spec: dict[str, Any], policy: Policy) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        source = spec["paths"][op.path][op.method.lower()]
        paths.setdefault(op.path, {})[op.method.lower()] = _adjust(source, op, policy)
    paths[DELETION.path] = {"put": _deletion(spec, policy)}
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    while pending:
        kind, name = pending.pop()
        if name in components.get(kind, {}):
            continue
        item = spec["components"][kind][name]
        components.setdefault(kind, {})[name] = item
        pending.extend(_refs(item))
    components["securitySchemes"] = {
        "bearerAuth": spec["components"]["securitySchemes"]["bearerAuth"]
    }
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": "FDX API (gateway)",
            "version": spec["info"]["version"],
            "description": INFO_DESCRIPTION,
        },
        "servers": [{"url": "/fdx/v6"}],
        "security": [{"bearerAuth": []}],
        "paths": {p: paths[p] for p in sorted(paths)},
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }


def _adjust(source: dict[str, Any], op: Operation, policy: Policy) -> dict[str, Any]:
    out = copy.deepcopy(source)
    out.pop("servers", None)  # the FDX portal's mock servers; ours is the document's server
    for param in out.get("parameters", []):
        if param.get("name") == "x-fapi-interaction-id":
            param["required"] = False
            param["description"] = (
                "Unique identifier for this interaction; echoed in the response, and made by the"
                " gateway when missing"
            )
    if op.access == "public":
        out["security"] = []
        note = "Public: no token is needed."
    elif op.access == "consents":
        out["security"] = [{"bearerAuth": []}]
        note = f"Needs a client-credentials access token with the scope `{CONSENTS_SCOPE}`."
    else:
        out["security"] = [{"bearerAuth": []}]
        clusters = sorted(
            name
            for name, cluster in policy.clusters.items()
            if f"{op.method} {op.path}" in cluster.endpoints
        )
        scopes = ", ".join(f"`{policy.scope_for(c)}`" for c in clusters)
        note = (
            "Needs an access token of a consent that grants, on the account asked about, one of"
            f" the data clusters {', '.join(clusters)} (scopes {scopes}); only the fields of the"
            " granted clusters are returned."
        )
        out["x-fdx-data-clusters"] = clusters
    out["description"] = f"{out.get('description', '').rstrip()}\n\n{note}".strip()
    return out


def _deletion(spec: dict[str, Any], policy: Policy) -> dict[str, Any]:
    """PUT /consents/{consentId}/deletion, shaped like the FDX revocation it follows: the same
    parameters and error responses, no body, 204, and no 409 (confirming again is fine)."""
    source = copy.deepcopy(spec["paths"]["/consents/{consentId}/revocation"]["put"])
    source.pop("requestBody", None)
    source["responses"].pop("409", None)
    source.update(
        summary="confirmConsentDataDeletion",
        operationId="confirmConsentDataDeletion",
        description=DELETION_DESCRIPTION,
    )
    source["x-fdxgw-extension"] = True
    return _adjust(source, DELETION, policy)


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            _, _, kind, name = ref.split("/", 3)
            yield kind, name
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway.openapi.build")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="FDX 6.2 OpenAPI JSON")
    parser.add_argument("--out", type=Path, default=DOCUMENT_FILE)
    args = parser.parse_args(argv)
    spec = json.loads(args.spec.read_text(encoding="utf-8"))
    document = build(spec, load_policy())
    text = json.dumps(document, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out} ({len(document['paths'])} paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

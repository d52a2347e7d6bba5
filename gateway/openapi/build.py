"""Write ``fdx-gateway.openapi.json``: what a recipient's developer needs to call this gateway.

    python -m gateway.openapi.build [--spec FDX-6.2-OPENAPI.json]

Two tables drive it, one row per operation:

- ``operations.OPERATIONS``, the FDX operations: each is copied from the FDX 6.2 document with
  its parameters and success response, then made ours: its path under ``/fdx/v6``, who may call
  it (a consent's data clusters from ``config/clusters.toml``, the Consent API's
  client-credentials scope, or nobody for the public meta operations), the security schemes that
  carry such a token, ``x-fapi-interaction-id`` optional (we make one when it is missing), and
  every refusal the row lists, grouped by status, each with the gateway's own body as example.
- ``oauth.OAUTH_OPERATIONS``, the authorization server's endpoints, written here.

Every component the operations reference, directly or through other components, is kept;
nothing else. The document's server is the issuer (``document.served_document`` fills it in),
so generated clients call ``/fdx/v6/…`` and ``/oauth/…`` on one base URL.
``tests/gateway/test_openapi.py`` checks the result against the app's routes, both ways, and
validates it as OpenAPI 3.0.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from config.policy import Policy, load_policy
from gateway.openapi.answers import DPOP_NONCE, RETRY_AFTER, WWW_AUTHENTICATE, Answer
from gateway.openapi.document import DOCUMENT_FILE
from gateway.openapi.oauth import (
    DPOP_HEADER,
    OAUTH_OPERATIONS,
    PATH_PARAMETERS,
    SCHEMAS,
    OAuthOperation,
)
from gateway.openapi.operations import FDX_BASE, OPERATIONS, Access, Operation

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = ROOT.parent / "shared" / "fdx" / "fdx-api-6.2.openapi3.json"
CONSENTS_SCOPE = "fdx:consents:manage"
SUBSCRIPTIONS_SCOPE = "fdx:notifications:subscribe"
INTERACTION_ID = "x-fapi-interaction-id"
ANNOTATIONS = frozenset({"description", "example", "title"})
# FDX parameters the gateway refuses whatever their value, left out of what it publishes:
# updatedSince takes a nextUpdateId, and the gateway issues none (docs/fdx.md §1).
REFUSED_PARAMETERS = frozenset({"updatedSince"})

# RFC 9449 §7.1: a DPoP-bound token is sent as `Authorization: DPoP <token>` together with a
# `DPoP` proof header; OpenAPI 3.0 says "both" by naming two schemes in one requirement.
# RFC 8705 §3: a certificate-bound token is an ordinary Bearer token sent over mutual TLS.
# `document.served_document` keeps only the alternatives the deployment accepts.
SENDER_CONSTRAINED: list[dict[str, list[str]]] = [
    {"dpop": [], "dpopProof": []},
    {"mtlsBearer": []},
    {"bearer": []},
]
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "dpop": {
        "type": "http",
        "scheme": "DPoP",  # OpenAPI 3.0 allows bearerFormat with "bearer" only
        "description": "RFC 9449: a DPoP-bound access token (`token_type` `DPoP` at the token"
        " endpoint), sent as `Authorization: DPoP <access_token>`, always together with a"
        " `DPoP` proof (scheme `dpopProof`). The fapi2 profile accepts no unbound token.",
    },
    "dpopProof": {
        "type": "apiKey",
        "in": "header",
        "name": "DPoP",
        "description": "RFC 9449 §4: a fresh proof JWT per request (`typ` `dpop+jwt`, ES256 or"
        " PS256, the public key as `jwk`) with `htm` the method, `htu` the URL without query,"
        " `iat` now, a unique `jti`, `ath` the base64url SHA-256 of the access token, and"
        " `nonce` when the server sent `DPoP-Nonce`. Accepted algorithms: the metadata's"
        " `dpop_signing_alg_values_supported`.",
    },
    "mtlsBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "RFC 8705: a certificate-bound access token (`cnf.x5t#S256`), sent as"
        " `Authorization: Bearer <access_token>` over mutual TLS with the same client"
        " certificate. Listed only where the gateway sits behind an mTLS proxy.",
    },
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An unbound access token (RFC 6750). Listed only under the sandbox"
        " profile; the fapi2 profile refuses it.",
    },
    "registrationToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "RFC 7592: the registration access token from the last registration answer.",
    },
}
HEADERS: dict[str, dict[str, Any]] = {
    WWW_AUTHENTICATE: {
        "description": "RFC 6750 §3 / RFC 9449 §7.1 challenge: `DPoP` (with `algs`) for a"
        " DPoP token or where only sender-constrained tokens are accepted, else `Bearer`.",
        "schema": {"type": "string"},
        "example": 'DPoP error="invalid_token", algs="ES256 PS256"',
    },
    RETRY_AFTER: {
        "description": "RFC 9110 §10.2.3: seconds to wait before retrying.",
        "schema": {"type": "integer"},
        "example": 5,
    },
    DPOP_NONCE: {
        "description": "RFC 9449 §8, §9: the server nonce to put in the next DPoP proof.",
        "schema": {"type": "string"},
    },
    INTERACTION_ID: {
        "description": "FAPI interaction id: the request's, or one the gateway made.",
        "schema": {"type": "string"},
    },
}

INFO_DESCRIPTION = """\
The FDX v6.2 API as this gateway serves it, and the OAuth 2.0 endpoints that give access to it \
(FAPI 2.0). A data operation needs an access token of a consumer's consent: push the \
authorization request (`POST /oauth/par`, RFC 9126) with FDX `authorization_details` and PKCE, \
send the consumer's browser to `/oauth/authorize`, then exchange the code at `POST /oauth/token`. \
Clients authenticate with `private_key_jwt` (RFC 7523). Tokens are sender-constrained: send a \
`DPoP` proof (RFC 9449) at the token endpoint and with every call (`Authorization: DPoP \
<token>` plus a fresh `DPoP` header), or, where the bank runs mutual TLS, use the client \
certificate (RFC 8705). The metadata is at `/.well-known/oauth-authorization-server`. A token \
reaches only the accounts and data clusters the consumer granted, and a response carries only \
their fields. The Consent API takes a client-credentials token with the scope \
`fdx:consents:manage`. `/fdx/v6/availability`, `/fdx/v6/capability` and \
`/fdx/v6/certification-metrics` are public. FDX errors \
are `{"code", "message", "debugMessage"}`; OAuth errors `{"error", "error_description"}`."""


# Our extension of the Consent API (docs/fdx.md §4), drawn from the FDX revocation it follows:
# the same parameters and refusals, no body, 204, and no 409 (confirming again is fine).
DELETION = Operation("PUT", "/consents/{consentId}/deletion", Access.CONSENTS)
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
        paths.setdefault(FDX_BASE + op.path, {})[op.method.lower()] = _fdx(source, op, policy)
    paths[FDX_BASE + DELETION.path] = {"put": _fdx(_deletion(spec), DELETION, policy)}
    for oop in OAUTH_OPERATIONS:
        paths.setdefault(oop.path, {})[oop.method.lower()] = _oauth(oop)
    components: dict[str, dict[str, Any]] = {}
    pending = [ref for ref in _refs(paths) if ref[1] not in SCHEMAS]
    while pending:
        kind, name = pending.pop()
        if name in components.get(kind, {}):
            continue
        item = spec["components"][kind][name]
        components.setdefault(kind, {})[name] = item
        pending.extend(_refs(item))
    paths = _plain(paths)
    components = _plain(components)
    schemas = components.setdefault("schemas", {})
    clash = set(schemas) & set(SCHEMAS)
    if clash:
        raise ValueError(f"schema names taken by the FDX document: {sorted(clash)}")
    schemas.update(SCHEMAS)
    components["headers"] = HEADERS
    components["securitySchemes"] = SECURITY_SCHEMES
    return {
        "openapi": spec["openapi"],
        "info": {
            "title": "FDX API (gateway)",
            "version": spec["info"]["version"],
            "description": INFO_DESCRIPTION,
        },
        "servers": [{"url": "/"}],
        "paths": {p: paths[p] for p in sorted(paths)},
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }


def _fdx(source: dict[str, Any], op: Operation, policy: Policy) -> dict[str, Any]:
    out = copy.deepcopy(source)
    out.pop("servers", None)  # the FDX portal's mock servers; ours is the document's server
    if "parameters" in out:
        kept = [p for p in out["parameters"] if p.get("name") not in REFUSED_PARAMETERS]
        out["parameters"] = kept
    for param in out.get("parameters", []):
        if param.get("name") == INTERACTION_ID:
            param["required"] = False
            param["description"] = (
                "Unique identifier for this interaction; echoed in the response, and made by the"
                " gateway when missing"
            )
    success = {k: v for k, v in out["responses"].items() if k.startswith("2")}
    for response in success.values():
        for content in response.get("content", {}).values():
            schema = content.setdefault("schema", {})
            if not set(schema) - ANNOTATIONS:
                # A statement's image: say it is bytes, which generators then return as such.
                schema.update({"type": "string", "format": "binary"})
    out["responses"] = {**success, **_responses(op.answers)}
    if op.access is Access.PUBLIC:
        out["security"] = []
        note = "Public: no token is needed."
    elif op.access is Access.CONSENTS:
        out["security"] = copy.deepcopy(SENDER_CONSTRAINED)
        note = (
            "Needs the recipient's client-credentials access token (`grant_type`"
            f" `client_credentials`, scope `{CONSENTS_SCOPE}`), sender-constrained like any"
            " other."
        )
    elif op.access is Access.SUBSCRIPTIONS:
        out["security"] = copy.deepcopy(SENDER_CONSTRAINED)
        note = (
            "Needs the recipient's client-credentials access token (`grant_type`"
            f" `client_credentials`, scope `{SUBSCRIPTIONS_SCOPE}`), sender-constrained like any"
            " other. The gateway emits CONSENT_REVOKED and CONSENT_UPDATED (category CONSENT),"
            " each signed and retried like its other notifications."
        )
    else:
        out["security"] = copy.deepcopy(SENDER_CONSTRAINED)
        clusters = sorted(
            name
            for name, cluster in policy.clusters.items()
            if f"{op.method} {op.path}" in cluster.endpoints
        )
        scopes = ", ".join(f"`{policy.scope_for(c)}`" for c in clusters)
        where = (
            "on the account asked about"
            if "{accountId}" in op.path or op.path == "/accounts"
            else "on one or more accounts (only data tied to those accounts is returned)"
        )
        note = (
            f"Needs an access token of a consent that grants, {where}, one of the data clusters"
            f" {', '.join(clusters)} (scopes {scopes}); only the fields of the granted clusters"
            " are returned."
        )
        out["x-fdx-data-clusters"] = clusters
    out["description"] = f"{out.get('description', '').rstrip()}\n\n{note}".strip()
    return out


def _deletion(spec: dict[str, Any]) -> dict[str, Any]:
    source: dict[str, Any] = copy.deepcopy(spec["paths"]["/consents/{consentId}/revocation"]["put"])
    source.pop("requestBody", None)
    source.update(
        summary="confirmConsentDataDeletion",
        operationId="confirmConsentDataDeletion",
        description=DELETION_DESCRIPTION,
    )
    source["x-fdxgw-extension"] = True
    return source


def _oauth(op: OAuthOperation) -> dict[str, Any]:
    parameters = [PATH_PARAMETERS[name] for name in op.path_parameters]
    if op.dpop:
        parameters.append(DPOP_HEADER)
    out: dict[str, Any] = {
        "tags": list(op.tags),
        "operationId": op.operation_id,
        "summary": op.summary,
        "description": op.description,
        "security": copy.deepcopy(SENDER_CONSTRAINED) if op.resource else list(op.security),
    }
    if parameters:
        out["parameters"] = copy.deepcopy(parameters)
    if op.body is not None:
        media, schema = op.body
        out["requestBody"] = {
            "required": True,
            "content": {media: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    out["responses"] = {**copy.deepcopy(op.success), **_responses(op.answers)}
    return out


def _responses(answers: Iterable[Answer]) -> dict[str, Any]:
    """One response per status: every answer with that status is a named example of it."""
    by_status: dict[int, list[Answer]] = {}
    for answer in answers:
        by_status.setdefault(answer.status, []).append(answer)
    return {str(status): _response(group) for status, group in sorted(by_status.items())}


def _response(group: list[Answer]) -> dict[str, Any]:
    oauth = group[0].oauth
    schema = "OAuthError" if oauth else "Error1"
    examples: dict[str, Any] = {}
    headers: dict[str, Any] = {} if oauth else {INTERACTION_ID: _header(INTERACTION_ID)}
    for answer in group:
        if answer.name in examples:
            raise ValueError(f"{answer.status} lists {answer.name} twice")
        examples[answer.name] = {"summary": answer.when, "value": _body(answer)}
        headers.update({h: _header(h) for h in answer.headers})
    out: dict[str, Any] = {
        "description": " ".join(dict.fromkeys(a.when for a in group)),
        "content": {
            "application/json": {
                "schema": {"$ref": f"#/components/schemas/{schema}"},
                "examples": examples,
            }
        },
    }
    if headers:
        out["headers"] = dict(sorted(headers.items()))
    return out


def _body(answer: Answer) -> dict[str, str]:
    if answer.oauth:
        return {"error": answer.code, "error_description": answer.when}
    return {"code": answer.code, "message": answer.message, "debugMessage": answer.message}


def _header(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _plain(node: Any) -> Any:
    """``node`` with every ``allOf`` of one reference plus annotations (the FDX document's way
    of describing a use of a type) replaced by the bare reference. Generators (and OpenAPI 3.0
    itself, which ignores a reference's siblings) take the referenced type's own description;
    openapi-python-client refuses such an ``allOf`` when the type is not an object."""
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if not isinstance(node, dict):
        return node
    parts = node.get("allOf")
    if isinstance(parts, list) and set(node) <= ANNOTATIONS | {"allOf"}:
        kept = [p for p in parts if not (isinstance(p, dict) and set(p) <= ANNOTATIONS)]
        if len(kept) == 1 and set(kept[0]) == {"$ref"}:
            return dict(kept[0])
    return {k: _plain(v) for k, v in node.items()}


def _refs(node: Any) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/") and "/headers/" not in ref:
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

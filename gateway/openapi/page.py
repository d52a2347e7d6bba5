"""The OpenAPI document as one readable HTML page (``GET /docs``), rendered on the server.

No script and nothing from a CDN: the page is the document's operations (parameters, responses
and who may call them) and its schemas (properties, types, enums), linked to one another, with
a small inline stylesheet. Every value from the document is escaped.
"""

from __future__ import annotations

from html import escape
from typing import Any

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;
color:#1b1b1b}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}h3{margin:2rem 0 .3rem}
code,.path{font-family:ui-monospace,monospace}.method{display:inline-block;min-width:3.5rem;
font-weight:700;color:#fff;background:#2b5c8a;border-radius:3px;padding:0 .4rem;text-align:center}
.method.put{background:#8a5a2b}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}.note{background:#f6f8fa;border-left:4px solid #2b5c8a;padding:.5rem 1rem}
nav ul{columns:2}
"""


def render_page(document: dict[str, Any], *, title: str) -> str:
    """The whole page for ``document`` (as served: its server URL filled in)."""
    info = document["info"]
    server = document.get("servers", [{}])[0].get("url", "")
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width,initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>FDX API version {escape(str(info['version']))}. Base URL: <code>{escape(server)}"
        '</code>. Machine-readable: <a href="/fdx/v6/openapi.json">openapi.json</a>.</p>',
        f"<p class=note>{_text(info.get('description', ''))}</p>",
        "<nav><h2>Operations</h2><ul>",
    ]
    ops = list(_operations(document))
    for method, path, op in ops:
        parts.append(
            f'<li><a href="#{_anchor(op)}"><span class="method {method}">{method.upper()}'
            f"</span> <span class=path>{escape(path)}</span></a></li>"
        )
    parts.append("</ul></nav>")
    parts.append(_security_schemes(document))
    for method, path, op in ops:
        parts.append(_operation(method, path, op))
    parts.append("<h2>Schemas</h2>")
    for name, schema in document.get("components", {}).get("schemas", {}).items():
        parts.append(_schema(name, schema))
    parts.append("</body></html>")
    return "".join(parts)


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
    ]


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    out = [
        f'<h3 id="{_anchor(op)}"><span class="method {method}">{method.upper()}</span> '
        f"<span class=path>{escape(path)}</span> <small>{escape(op.get('operationId', ''))}"
        "</small></h3>",
        *(f"<p>{_text(part)}</p>" for part in _paragraphs(op)),
        f"<p><b>Authorization:</b> {_requirements(op.get('security'))}</p>",
    ]
    body = op.get("requestBody", {}).get("content", {})
    for media_type, content in body.items():
        out.append(
            f"<p><b>Body</b> (<code>{escape(media_type)}</code>): "
            f"{_type(content.get('schema', {}))}</p>"
        )
    params = op.get("parameters", [])
    if params:
        out.append("<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th>"
                   "<th>description</th></tr>")  # fmt: skip
        for p in params:
            out.append(
                f"<tr><td><code>{escape(p.get('name', ''))}</code></td>"
                f"<td>{escape(p.get('in', ''))}</td><td>{'yes' if p.get('required') else ''}</td>"
                f"<td>{_type(p.get('schema', {}))}</td>"
                f"<td>{_text(p.get('description', ''))}</td></tr>"
            )
        out.append("</table>")
    out.append("<table><tr><th>status</th><th>body</th><th>description</th></tr>")
    for status, response in op.get("responses", {}).items():
        media: dict[str, Any] = response.get("content", {})
        first: dict[str, Any] = next(iter(media.values()), {})
        schema: dict[str, Any] = first.get("schema", {})
        out.append(
            f"<tr><td>{escape(status)}</td><td>{_type(schema) if schema else ''}</td>"
            f"<td>{_text(response.get('description', ''))}{_examples(first)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _paragraphs(op: dict[str, Any]) -> list[str]:
    text = str(op.get("description", op.get("summary", "")))
    return [part for part in text.split("\n\n") if part.strip()]


def _security_schemes(document: dict[str, Any]) -> str:
    schemes = document.get("components", {}).get("securitySchemes", {})
    out = ["<h2>Authorization</h2><table><tr><th>scheme</th><th>how</th></tr>"]
    for name, scheme in schemes.items():
        out.append(
            f'<tr><td id="scheme-{escape(name)}"><code>{escape(name)}</code></td>'
            f"<td>{_text(scheme.get('description', ''))}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def _requirements(security: list[dict[str, Any]] | None) -> str:
    """OpenAPI security: any one requirement (an alternative), each needing all its schemes."""
    if not security:
        return "none (public)"
    return " <i>or</i> ".join(
        " + ".join(f'<a href="#scheme-{escape(n)}"><code>{escape(n)}</code></a>' for n in r)
        for r in security
    )


def _examples(content: dict[str, Any]) -> str:
    """The error codes a response's examples show, FDX (``code``) or OAuth (``error``)."""
    items = []
    for name, example in content.get("examples", {}).items():
        value = example.get("value", {})
        if not isinstance(value, dict) or not ({"code", "error"} & set(value)):
            continue  # a success example: the schema link says enough
        shown = value.get("code", value.get("error", ""))
        message = value.get("message", "")
        summary = example.get("summary", "")
        items.append(
            f"<li><code>{escape(str(shown))}</code> {escape(str(message))} "
            f"<small>({escape(name)})</small>: {_text(summary)}</li>"
        )
    return f"<ul>{''.join(items)}</ul>" if items else ""


def _schema(name: str, schema: dict[str, Any]) -> str:
    out = [f'<h3 id="schema-{escape(name)}">{escape(name)}</h3>']
    if schema.get("description"):
        out.append(f"<p>{_text(schema['description'])}</p>")
    if "enum" in schema:
        values = ", ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"])
        out.append(f"<p>One of: {values}</p>")
    for key in ("allOf", "oneOf", "anyOf"):
        if key in schema:
            out.append(f"<p>{key}: {', '.join(_type(s) for s in schema[key])}</p>")
    props = schema.get("properties", {})
    if props:
        required = set(schema.get("required", []))
        out.append("<table><tr><th>property</th><th>type</th><th>description</th></tr>")
        for prop, sub in props.items():
            mark = " <small>(required)</small>" if prop in required else ""
            out.append(
                f"<tr><td><code>{escape(prop)}</code>{mark}</td><td>{_type(sub)}</td>"
                f"<td>{_text(_description(sub))}</td></tr>"
            )
        out.append("</table>")
    return "".join(out)


def _type(schema: dict[str, Any]) -> str:
    """A short, linked description of a schema's type."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for key in ("allOf", "oneOf", "anyOf"):
        if key in schema:
            inner = [_type(s) for s in schema[key] if "$ref" in s or "type" in s]
            return (" | " if key != "allOf" else " & ").join(inner) or "object"
    kind = str(schema.get("type", "object"))
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "format" in schema:
        return f"{escape(kind)} ({escape(str(schema['format']))})"
    return escape(kind)


def _description(schema: dict[str, Any]) -> str:
    if schema.get("description"):
        return str(schema["description"])
    for part in schema.get("allOf", []):
        if part.get("description"):
            return str(part["description"])
    return ""


def _text(value: Any) -> str:
    """Escaped text with the document's `code` spans kept readable."""
    parts = escape(str(value)).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _anchor(op: dict[str, Any]) -> str:
    return "op-" + escape(str(op.get("operationId", "")))

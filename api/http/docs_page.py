"""The API reference page (``GET /docs``), rendered server-side from the OpenAPI document.

``render_reference(document)`` turns the app's own OpenAPI document into one
self-contained HTML page: every operation grouped by tag, with its method,
path, summary, description, the roles a token needs (the ``x-roles``
extension, see ``api.http.deps.document_roles``), parameters, request body
(its schema, size cap and worked examples, folded) and response codes, then
every component schema (members with their rules and example values; a
``oneOf`` as its alternatives). No script, no external
resource: the only links are fragments within the page, the styles are
inline, and every text from the document is HTML-escaped. Descriptions are
Markdown; only inline code, bold, paragraphs and bullet lists are rendered,
everything else shows as plain text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = ["CONTENT_SECURITY_POLICY", "operation_anchor", "render_reference", "schema_anchor"]

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
"""The page's CSP: nothing but its own inline styles may load."""

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_UNTAGGED = "other"
_REF_PREFIX = "#/components/schemas/"
_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_CODE = re.compile(r"``(.+?)``|`([^`]+)`")  # Markdown and docstring (reST) literals
_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_CONSTRAINTS = (
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minimum", "min"),
    ("maximum", "max"),
    ("exclusiveMinimum", "greater than"),
    ("exclusiveMaximum", "less than"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("pattern", "pattern"),
    ("format", "format"),
    ("default", "default"),
)

_STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 64rem;
  padding: 1rem 2rem 4rem; color: #1b1f24; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 2px solid #d0d7de; margin-top: 2.5rem; }
h3 { margin: 0; font-size: 1.05rem; }
code, .path { font-family: ui-monospace, monospace; font-size: 0.92em; }
code { background: #f3f4f6; padding: 0 0.25em; border-radius: 3px; }
.operation { border: 1px solid #d0d7de; border-radius: 6px; margin: 1rem 0; padding: 0.8rem 1rem; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; font-weight: 700;
  color: #fff; border-radius: 4px; padding: 0 0.4rem; margin-right: 0.5rem; background: #57606a; }
.method-get { background: #0969da; } .method-post { background: #1a7f37; }
.method-put, .method-patch { background: #9a6700; } .method-delete { background: #cf222e; }
.roles { color: #57606a; margin: 0.3rem 0; }
table { border-collapse: collapse; width: 100%; margin: 0.4rem 0 0.8rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
h4 { margin: 0.8rem 0 0.2rem; font-size: 0.95rem; }
td p { margin: 0 0 0.3rem; } td p:last-child { margin-bottom: 0; }
pre { background: #f6f8fa; border-radius: 4px; padding: 0.5rem 0.8rem; overflow-x: auto; }
details { margin: 0.3rem 0; } summary { cursor: pointer; }
nav li { margin-bottom: 0.3rem; } .muted { color: #57606a; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _anchor(*parts: str) -> str:
    return "-".join(_ANCHOR_UNSAFE.sub("-", part).strip("-") for part in parts)


def operation_anchor(method: str, path: str) -> str:
    """The fragment id of operation ``method path`` on the page."""
    return _anchor("op", method.lower(), path)


def schema_anchor(name: str) -> str:
    """The fragment id of component schema ``name`` on the page."""
    return _anchor("schema", name)


def _inline(text: str) -> str:
    escaped = _e(text)
    escaped = _CODE.sub(lambda m: f"<code>{m.group(1) or m.group(2)}</code>", escaped)
    return _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", escaped)


def _markdown(text: str | None) -> str:
    """A small, safe subset of Markdown: paragraphs, bullet lists, inline code, bold."""
    if not text:
        return ""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        if lines and all(line.startswith(("- ", "* ")) for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "".join(blocks)


def _ref_name(ref: str) -> str:
    return ref[len(_REF_PREFIX) :] if ref.startswith(_REF_PREFIX) else ref


def _type_html(schema: Mapping[str, Any] | None) -> str:
    """A compact type expression; component references link to their schema."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = _ref_name(str(schema["$ref"]))
        return f'<a href="#{schema_anchor(name)}">{_e(name)}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            joiner = " &amp; " if key == "allOf" else " | "
            return joiner.join(_type_html(sub) for sub in schema[key])
    if "const" in schema:
        return f"<code>{_e(_json_literal(schema['const']))}</code>"
    if "enum" in schema:
        return " | ".join(f"<code>{_e(_json_literal(v))}</code>" for v in schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_type_html({**schema, "type": k}) for k in kind)
    if kind == "array":
        return f"array of {_type_html(schema.get('items'))}"
    if kind == "object" and "additionalProperties" in schema:
        values = schema["additionalProperties"]
        if isinstance(values, Mapping):
            return f"map of {_type_html(values)}"
    return _e(kind) if kind else "any"


def _json_literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def _constraints(schema: Mapping[str, Any]) -> str:
    parts = []
    for key, label in _CONSTRAINTS:
        if key in schema:
            parts.append(f"{label} <code>{_e(_json_literal(schema[key]))}</code>")
    for sub in schema.get("anyOf", ()):
        if isinstance(sub, Mapping) and sub.get("type") != "null":
            inner = _constraints(sub)
            if inner:
                parts.append(inner)
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        parts.append(f"example <code>{_e(_json_literal(examples[0]))}</code>")
    return "; ".join(parts)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _parameters(parameters: Sequence[Mapping[str, Any]]) -> str:
    if not parameters:
        return ""
    rows = [
        (
            f"<code>{_e(p.get('name', ''))}</code>",
            _e(p.get("in", "")),
            "yes" if p.get("required") else "no",
            _type_html(p.get("schema")),
            _markdown(p.get("description") or p.get("schema", {}).get("description"))
            + _constraints(p.get("schema", {})),
        )
        for p in parameters
    ]
    return "<h4>Parameters</h4>" + _table(("name", "in", "required", "type", "description"), rows)


def _content(content: Mapping[str, Any] | None) -> str:
    if not content:
        return '<span class="muted">no body</span>'
    return "<br>".join(
        f"<code>{_e(media)}</code>: {_type_html(entry.get('schema'))}"
        for media, entry in content.items()
    )


def _size(octets: int) -> str:
    mib, rest = divmod(octets, 1024 * 1024)
    return f"{mib} MiB" if mib and not rest else f"{octets:,} bytes"


def _examples(content: Mapping[str, Any] | None) -> str:
    """Each named example of a body, folded: its summary, then the JSON to send."""
    parts = []
    for entry in (content or {}).values():
        for name, example in (entry.get("examples") or {}).items():
            value = json.dumps(example.get("value"), ensure_ascii=False, indent=2)
            parts.append(
                f"<details><summary><code>{_e(name)}</code> {_e(example.get('summary', ''))}"
                f"</summary>{_markdown(example.get('description'))}"
                f"<pre><code>{_e(value)}</code></pre></details>"
            )
    return "<h4>Examples</h4>" + "".join(parts) if parts else ""


def _request_body(body: Mapping[str, Any] | None, caps: Mapping[str, int]) -> str:
    if not body:
        return ""
    required = " (required)" if body.get("required") else " (optional)"
    cap = caps.get(str(body.get("x-body-limit", "standard")))
    limit = f"<br>At most {_size(cap)}." if cap is not None else ""
    return (
        f"<h4>Request body{required}</h4><p>{_content(body.get('content'))}{limit}</p>"
        f"{_examples(body.get('content'))}"
    )


def _responses(responses: Mapping[str, Any]) -> str:
    rows = [
        (
            f"<code>{_e(status)}</code>",
            _markdown(response.get("description")),
            _content(response.get("content")),
        )
        for status, response in sorted(responses.items())
    ]
    return "<h4>Responses</h4>" + _table(("status", "description", "body"), rows)


def _roles(operation: Mapping[str, Any]) -> str:
    names = {str(p.get("name", "")).lower() for p in operation.get("parameters", [])}
    # The declaration headers are optional in the schema but checked by the route.
    personal = (
        " Touches personal data: <code>X-Purpose</code> and <code>X-Legal-Basis</code> "
        "are required."
        if "x-purpose" in names
        else ""
    )
    if not operation.get("security"):
        return f'<p class="roles">No token: public route.{personal}</p>'
    roles = operation.get("x-roles")
    if not roles:
        return f'<p class="roles">Bearer token of an API client.{personal}</p>'
    listed = ", ".join(f"<code>{_e(role)}</code>" for role in roles)
    return (
        f'<p class="roles">Bearer token of a client with one of the roles: {listed}.{personal}</p>'
    )


def _operation(
    method: str, path: str, operation: Mapping[str, Any], caps: Mapping[str, int]
) -> str:
    summary = operation.get("summary") or ""
    return (
        f'<section class="operation" id="{operation_anchor(method, path)}">'
        f'<h3><span class="method method-{_e(method)}">{_e(method.upper())}</span>'
        f'<span class="path">{_e(path)}</span></h3>'
        f"<p><strong>{_e(summary)}</strong></p>"
        f"{_roles(operation)}"
        f"{_markdown(operation.get('description'))}"
        f"{_parameters(operation.get('parameters', []))}"
        f"{_request_body(operation.get('requestBody'), caps)}"
        f"{_responses(operation.get('responses', {}))}"
        "</section>"
    )


def _grouped(document: Mapping[str, Any]) -> dict[str, list[tuple[str, str, Mapping[str, Any]]]]:
    groups: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {
        str(tag["name"]): [] for tag in document.get("tags", [])
    }
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if operation is not None:
                tag = (operation.get("tags") or [_UNTAGGED])[0]
                groups.setdefault(str(tag), []).append((method, path, operation))
    return {tag: operations for tag, operations in groups.items() if operations}


def _schema(name: str, schema: Mapping[str, Any]) -> str:
    parts = [f'<section id="{schema_anchor(name)}"><h3>{_e(name)}</h3>']
    parts.append(_markdown(schema.get("description")))
    properties: Mapping[str, Any] = schema.get("properties", {})
    if properties:
        required = set(schema.get("required", []))
        rows = [
            (
                f"<code>{_e(prop)}</code>",
                _type_html(sub),
                "yes" if prop in required else "no",
                _markdown(sub.get("description")) + _constraints(sub),
            )
            for prop, sub in properties.items()
        ]
        parts.append(_table(("member", "type", "required", "description"), rows))
        if schema.get("additionalProperties") is False:
            parts.append('<p class="muted">No other members are accepted.</p>')
    elif "oneOf" in schema:
        parts.append(f"<p>One of: {_type_html(schema)}</p>")
    else:
        parts.append(f"<p>{_type_html(schema)} {_constraints(schema)}</p>")
    parts.append("</section>")
    return "".join(parts)


def render_reference(
    document: Mapping[str, Any], body_caps: Mapping[str, int] | None = None
) -> str:
    """The whole reference page for an OpenAPI ``document`` (see the module docstring).

    ``body_caps`` gives the size cap in bytes of each ``x-body-limit`` class
    (``standard``, ``batch``) for the request body sections.
    """
    caps = body_caps or {}
    info: Mapping[str, Any] = document.get("info", {})
    groups = _grouped(document)
    descriptions = {str(t["name"]): t.get("description") for t in document.get("tags", [])}
    title = f"{info.get('title', 'API')} {info.get('version', '')}".strip()
    toc = "".join(
        f'<li><a href="#{_anchor("tag", tag)}">{_e(tag)}</a>: '
        + ", ".join(
            f'<a href="#{operation_anchor(m, p)}"><code>{_e(m.upper())} {_e(p)}</code></a>'
            for m, p, _ in operations
        )
        + "</li>"
        for tag, operations in groups.items()
    )
    sections = "".join(
        f'<h2 id="{_anchor("tag", tag)}">{_e(tag)}</h2>'
        + _markdown(descriptions.get(tag))
        + "".join(_operation(m, p, op, caps) for m, p, op in operations)
        for tag, operations in groups.items()
    )
    schemas: Mapping[str, Any] = document.get("components", {}).get("schemas", {})
    schema_sections = "".join(_schema(name, schemas[name]) for name in sorted(schemas))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="muted">OpenAPI {_e(document.get("openapi", ""))}; the machine-readable '
        "document is <code>/openapi.json</code>.</p>"
        f"{_markdown(info.get('description'))}"
        f"<nav><h2>Operations</h2><ul>{toc}</ul></nav>"
        f"{sections}"
        f'<h2 id="schemas">Schemas</h2>{schema_sections}'
        "</body></html>\n"
    )

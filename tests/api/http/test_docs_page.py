"""``GET /docs``: a self-contained, script-free API reference rendered from ``/openapi.json``."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import PROBLEM_TYPE_BASE
from api.http.docs_page import operation_anchor, render_reference, schema_anchor
from credentials.templates import TEMPLATES
from tests.helpers.server import Province, Reply, running_province

ATTRIBUTE = re.compile(r"""\s(?:href|src|action|srcset|poster|data)\s*=\s*["']([^"']*)["']""", re.I)
EXTERNAL = re.compile(r"https?://[^\s\"'<>)]*")
FETCHING_TAGS = ("<script", "<link", "<img", "<iframe", "<object", "<embed", "<form", "<base")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Province]:
    with running_province(tmp_path) as province:
        yield province


def _page(province: Province) -> Reply:
    reply = province.request("GET", "/docs")
    assert reply.status == 200
    return reply


def test_docs_is_html_without_a_token_and_locked_down(served: Province) -> None:
    reply = _page(served)
    assert (reply.header("content-type") or "").startswith("text/html")
    assert (
        reply.header("content-security-policy") == "default-src 'none'; style-src 'unsafe-inline'"
    )
    assert reply.header("x-content-type-options") == "nosniff"
    assert reply.text.startswith("<!DOCTYPE html>")
    # A human page, not an API operation.
    assert "/docs" not in served.request("GET", "/openapi.json").json()["paths"]


def test_docs_loads_nothing_from_anywhere(served: Province) -> None:
    text = _page(served).text
    page = text.lower()
    for tag in FETCHING_TAGS:
        assert tag not in page, tag
    assert "url(" not in page
    assert "@import" not in page
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page), "no inline event handlers"
    links = ATTRIBUTE.findall(page)
    assert links, "the page links its own sections"
    assert all(link.startswith("#") for link in links), [x for x in links if x[:1] != "#"]
    for tag in re.findall(r"<[^>]*>", page):
        assert "http:" not in tag, tag
        assert "https:" not in tag, tag
    # URLs only as text, and only those the document itself has (the problem type base).
    document = json.dumps(served.request("GET", "/openapi.json").json())
    urls = [html.unescape(url) for url in EXTERNAL.findall(text)]
    assert any(url.startswith(PROBLEM_TYPE_BASE) for url in urls)
    for url in urls:
        assert url in document, url


def test_docs_lists_every_operation_of_the_openapi_document(served: Province) -> None:
    page = _page(served).text
    document = served.request("GET", "/openapi.json").json()
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    anchors = set(re.findall(r'href="#([^"]+)"', page))
    assert anchors <= ids, "every in-page link has its target"
    operations = 0
    for path, item in document["paths"].items():
        assert html.escape(path) in page, path
        for method, operation in item.items():
            operations += 1
            anchor = operation_anchor(method, path)
            assert anchor in ids, (method, path)
            section = page.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
            assert html.escape(operation["summary"]) in section, (method, path)
            for status in operation["responses"]:
                assert f"<code>{status}</code>" in section, (method, path, status)
            for parameter in operation.get("parameters", []):
                assert f"<code>{html.escape(parameter['name'])}</code>" in section
            for role in operation.get("x-roles", []):
                assert f"<code>{role}</code>" in section, (method, path, role)
            if "requestBody" in operation:
                assert "Request body" in section
    assert operations >= 14
    for name in document["components"]["schemas"]:
        assert schema_anchor(name) in ids, name


def test_roles_come_from_the_routes_dependencies(served: Province) -> None:
    document = served.request("GET", "/openapi.json").json()
    paths = document["paths"]
    assert paths["/clients"]["get"]["x-roles"] == ["operator"]
    assert paths["/audit/events"]["post"]["x-roles"] == ["issuer", "verifier", "operator"]
    assert paths["/audit/export"]["get"]["x-roles"] == ["auditor"]
    for public in ("/healthz", "/citizen/challenge"):
        operation = next(iter(paths[public].values()))
        assert "x-roles" not in operation
        assert "security" not in operation
    for item in paths.values():
        for operation in item.values():
            assert bool(operation.get("security")) == bool(operation.get("x-roles"))
    section = _page(served).text.split(f'id="{operation_anchor("get", "/clients")}"')[1]
    assert "one of the roles: <code>operator</code>" in section.split("</section>")[0]


def test_request_bodies_show_their_schema_and_size_cap(served: Province) -> None:
    page = _page(served).text
    events = page.split(f'id="{operation_anchor("post", "/audit/events")}"')[1]
    events = events.split("</section>")[0]
    assert f'href="#{schema_anchor("EventIn")}"' in events
    assert "At most 1 MiB." in events
    batch = page.split(f'id="{operation_anchor("post", "/audit/events/batch")}"')[1]
    assert "At most 4 MiB." in batch.split("</section>")[0]
    schema = page.split(f'id="{schema_anchor("EventIn")}"')[1].split("</section>")[0]
    for member in ("action", "resource", "purpose", "legalBasis", "outcome"):
        assert f"<code>{member}</code>" in schema


def test_issue_bodies_show_each_template_with_a_worked_example(served: Province) -> None:
    page = _page(served).text
    issue = page.split(f'id="{operation_anchor("post", "/credentials/issue")}"')[1]
    issue = issue.split("</section>")[0]
    for name in TEMPLATES:
        assert f"<summary><code>{name}</code> {html.escape(TEMPLATES[name].title)}" in issue
    assert html.escape('"template": "degree-certificate"') in issue
    one_of = page.split(f'id="{schema_anchor("IssueIn")}"')[1].split("</section>")[0]
    assert "One of:" in one_of
    assert f'href="#{schema_anchor("IssueDegreeCertificateIn")}"' in one_of
    request = page.split(f'id="{schema_anchor("IssueDegreeCertificateIn")}"')[1]
    request = request.split("</section>")[0]
    assert "<code>&quot;degree-certificate&quot;</code>" in request
    assert f'href="#{schema_anchor("DegreeCertificateClaims")}"' in request
    claims = page.split(f'id="{schema_anchor("DegreeCertificateClaims")}"')[1]
    claims = claims.split("</section>")[0]
    assert "<code>degreeLevel</code>" in claims
    assert "example <code>&quot;bachelor&quot;</code>" in claims


def test_text_from_the_document_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": hostile, "version": "1", "description": f"`{hostile}` **x**"},
        "tags": [{"name": "t", "description": hostile}],
        "paths": {
            "/x/{id}": {
                "get": {
                    "tags": ["t"],
                    "summary": hostile,
                    "description": "- one\n- `two`",
                    "parameters": [{"name": hostile, "in": "path", "required": True, "schema": {}}],
                    "responses": {"200": {"description": hostile}},
                }
            }
        },
        "components": {"schemas": {"S": {"description": hostile, "type": "string"}}},
    }
    page = render_reference(document)
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "<li><code>two</code></li>" in page
    assert "<strong>x</strong>" in page

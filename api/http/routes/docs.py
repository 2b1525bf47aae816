"""``GET /docs``: the API reference as one self-contained HTML page (no token).

Rendered by ``api.http.docs_page`` from the app's own OpenAPI document, once per
process, and served with a Content-Security-Policy that lets nothing but the
page's inline styles load. The page is for people; it is not itself an
operation of the OpenAPI document.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.http.docs_page import CONTENT_SECURITY_POLICY, render_reference

router = APIRouter()


@router.get("/docs", include_in_schema=False)
def api_reference(request: Request) -> HTMLResponse:
    """The API reference page, rendered from ``/openapi.json``."""
    page: str | None = getattr(request.app.state, "reference_page", None)
    if page is None:
        limits = request.app.state.context.limits
        caps = {"standard": limits.body_bytes, "batch": limits.batch_body_bytes}
        page = render_reference(request.app.openapi(), caps)
        request.app.state.reference_page = page
    return HTMLResponse(page, headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY})

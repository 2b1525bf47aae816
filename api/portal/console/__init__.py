"""The auditor's and the operator's consoles (issue #19): ``/console/audit``, ``/console/operator``.

Pages in the portal's stack (``api.portal.pages``: Jinja2, strict CSP, zh
first with an English switch, ``PortalRoute`` error pages). ``gate`` checks the
role and records a refusal as ``api.denied``; ``audit_pages`` and
``audit_export`` read the log as the API's audit routes do, each read an
``audit.read`` access; ``operator_pages`` shows ``province_overview`` and runs
the operator's actions through the same province functions and events as the
API. docs/consoles.md describes the pages.
"""

from fastapi import APIRouter

from api.portal.console.audit_export import router as _export_router
from api.portal.console.audit_pages import router as _audit_router
from api.portal.console.operator_pages import router as _operator_router
from api.portal.pages import PortalRoute

router = APIRouter(route_class=PortalRoute)
router.include_router(_audit_router)
router.include_router(_export_router)
router.include_router(_operator_router)

__all__ = ["router"]

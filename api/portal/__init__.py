"""The counter portal (issue #17): server-rendered pages for staff, served by ``tongban serve``.

``router`` holds the pages (``api.portal.pages``): the verifier page at ``/``
and the static files at ``/static/…``; asking the citizen to present
(``api.portal.ask``, OpenID4VP ``direct_post``, docs/oid4vp.md); a camera
frame's QR decoded for the page's script (``api.portal.scan``); the signed-out
and refused-sign-in pages (``api.portal.signin_pages``). The sign-in it requires comes from
``api.http.signin`` (``api.portal.staff``). docs/portal.md says why the pages are
plain server-rendered forms with a small ES module, and how they are secured.
"""

from api.portal.ask import router as _ask_router
from api.portal.console import router as _console_router
from api.portal.pages import router
from api.portal.scan import router as _scan_router
from api.portal.signin_pages import router as _signin_pages_router

router.include_router(_ask_router)  # "ask the citizen to present" (api.portal.ask)
router.include_router(_scan_router)  # one camera frame's QR decoded (api.portal.scan)
router.include_router(_signin_pages_router)  # signed out, a refused sign-in (signin_pages)
router.include_router(_console_router)  # the auditor's and operator's consoles (console/)

__all__ = ["router"]

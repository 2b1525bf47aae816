"""The counter portal (issue #17): server-rendered pages for staff, served by ``tongban serve``.

``router`` holds the pages (``api.portal.pages``): the verifier page at ``/``
and the static files at ``/static/…``. The sign-in it requires comes from
``api.http.signin`` (``api.portal.staff``). docs/portal.md says why the pages are
plain server-rendered forms with a small ES module, and how they are secured.
"""

from api.portal.pages import router

__all__ = ["router"]

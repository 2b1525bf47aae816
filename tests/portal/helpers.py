"""The portal served for tests: a real province, its app with a test-only staff session.

The page tests replace the page dependency ``VERIFIER_STAFF`` (``api.http.signin``'s
``require_staff("verifier")``) through FastAPI's ``app.dependency_overrides`` with a
``StaffSession`` as the sign-in package builds it: test-only, so that the page's own
behaviour is tested without an identity provider (the OpenID Connect flow itself is
tested in tests/api/http/signin/ over the real provider). Without the override the
page refuses: ``test_without_a_staff_session_the_page_is_refused``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from api.http.app import create_app
from api.http.signin import StaffSession
from api.portal.staff import VERIFIER_STAFF
from tests.helpers.certificate_files import form_body
from tests.helpers.provinces import ServedProvince
from tests.helpers.server import ApiServer, Reply

CSRF = "csrf-test-token-0123456789abcdef"
PURPOSE = "audit.review"
LEGAL_BASIS = "prc.pipl.art13"
SUBJECT = "idp-sub-7f3a"
ACTOR = "staff:test-window-three"


def staff(roles: frozenset[str] = frozenset({"verifier"})) -> StaffSession:
    """A staff session as ``api.http.signin`` builds it (the override hands it out)."""
    return StaffSession(
        session_id="s-test",
        subject=SUBJECT,
        display_name="窗口 3",
        roles=roles,
        csrf_token=CSRF,
        expires_at=0.0,
        actor=ACTOR,
        organisation="330000",
    )


@contextmanager
def portal(
    province: ServedProvince, session: StaffSession | None = None, *, signed_in: bool = True
) -> Iterator[ApiServer]:
    """The province's app served with ``session`` (default: ``staff()``) signed in, or none."""
    app = create_app(province.context)
    if signed_in:
        given = session or staff()
        app.dependency_overrides[VERIFIER_STAFF] = lambda: given
    server = ApiServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def form(
    *,
    text: str = "",
    upload: bytes = b"",
    certificate: bytes = b"",
    csrf: str | None = CSRF,
    purpose: str = PURPOSE,
    legal_basis: str = LEGAL_BASIS,
    lang: str = "zh",
) -> tuple[bytes, str]:
    """The verifier form as a browser sends it (every field, empty file parts included)."""
    parts: dict[str, bytes] = {}
    if csrf is not None:
        parts["csrf_token"] = csrf.encode()
    parts.update(
        lang=lang.encode(),
        purpose=purpose.encode(),
        legal_basis=legal_basis.encode(),
        text=text.encode("utf-8"),
        upload=upload,
        certificate=certificate,
    )
    return form_body(parts, filenames={"upload": "u.bin", "certificate": "c.bin"})


def post(
    server: ApiServer, body: tuple[bytes, str], headers: Mapping[str, str] | None = None
) -> Reply:
    """``POST /`` with the form ``body``."""
    data, content_type = body
    sent = {"Content-Type": content_type, **(headers or {})}
    return server.request("POST", "/", body=data, headers=sent)


def visible_text(html: str) -> str:
    """The page's text without tags (for word checks)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

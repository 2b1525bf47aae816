"""``POST /scan``: one camera frame's Tongban QR, decoded on the server for the page's script.

Where the browser has no ``BarcodeDetector`` (desktop Chromium on Linux and Windows,
the counter PC), ``static/portal.js`` sends a video frame every ~400 ms as a raw
``image/jpeg`` (or ``image/png``) body with the session's CSRF token in
``X-CSRF-Token``; the answer is ``{"found": false}`` or ``{"found": true, "text":
"TB1:..."}``. The decoder is the verifier form's (``verify_form.scan_qr``, zxing-cpp):
one rule for uploaded images, PDFs and camera frames.

Staff only (the verifier role), CSRF-checked, ``no-store``. Nothing is verified
here and nothing is recorded: the verification the clerk then asks for is the
audited call. The frame and the text it holds are personal data: neither is
logged, kept or quoted in a problem. A body over ``SCAN_BODY_CAP`` is 413, one
that is not a PNG/JPEG image of at most ``SCAN_MAX_PIXELS`` pixels is 422.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.errors import ProblemCode
from api.http.deps import read_capped
from api.http.problems import Problem
from api.http.signin import CSRF_HEADER, StaffSession
from api.portal.pages import PortalRoute
from api.portal.staff import VERIFIER_STAFF, check_form_csrf
from api.portal.verify_form import PageInputError, scan_qr

__all__ = ["SCAN_BODY_CAP", "SCAN_MAX_PIXELS", "router"]

SCAN_BODY_CAP = 512 * 1024
"""The largest frame accepted, in bytes (the page sends JPEGs of a few tens of KB)."""

SCAN_MAX_PIXELS = 2048 * 2048
"""The largest frame accepted, in pixels: a small JPEG may declare a huge image."""

_FRAME_TYPES = ("image/jpeg", "image/png")
_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
_NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter(route_class=PortalRoute)
StaffDep = Annotated[StaffSession, Depends(VERIFIER_STAFF)]


def _not_a_frame(detail: str) -> Problem:
    return Problem(ProblemCode.VALIDATION_FAILED, detail, status=422)


def _check_frame(request: Request, data: bytes) -> None:
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media not in _FRAME_TYPES:
        raise Problem(ProblemCode.UNSUPPORTED_MEDIA_TYPE, "the frame must be image/jpeg or png")
    if not data.startswith(_MAGIC):
        raise _not_a_frame("the body is not a JPEG or PNG image")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise _not_a_frame("the body is not a JPEG or PNG image") from None
    if width * height > SCAN_MAX_PIXELS:
        raise _not_a_frame(f"the frame is larger than {SCAN_MAX_PIXELS} pixels")


def _decode(data: bytes) -> str | None:
    try:
        return scan_qr(data)
    except PageInputError as error:
        if error.key in ("error_no_qr", "error_many_qr"):
            # Two codes in view: the clerk moves the paper, the next frame decides.
            return None
        raise _not_a_frame("the body is not a JPEG or PNG image") from None


@router.post("/scan", include_in_schema=False)
async def scan_frame(request: Request, staff: StaffDep) -> JSONResponse:
    """Decode one camera frame's Tongban QR; ``{"found": bool, "text"?: "TB1:..."}``."""
    check_form_csrf(staff, request.headers.get(CSRF_HEADER))
    data = await read_capped(request, SCAN_BODY_CAP)
    _check_frame(request, data)
    text = await run_in_threadpool(_decode, data)
    del data
    answer: dict[str, object] = {"found": False} if text is None else {"found": True, "text": text}
    return JSONResponse(answer, headers=_NO_STORE)

"""Camera frames for the scan tests: a printed certificate's QR as a phone camera sees it.

``camera_frame`` renders the printed PDF's page at 200 dpi, cuts out the QR with a
margin of paper, turns it 4 degrees, softens it (as ``_phone_photo`` in
test_browser.py does for an upload) and sets it on a desk-coloured 1280x720 frame,
the size a counter's webcam delivers. ``write_y4m`` stores a frame as the one-frame
Y4M file Chromium's fake capture device plays in a loop
(``--use-file-for-fake-video-capture``); ``jpeg`` as the page script sends it.
"""

from __future__ import annotations

import io

import pypdfium2
import zxingcpp
from PIL import Image, ImageFilter

from api.portal.verify_form import TB1_PREFIX

__all__ = ["FRAME_SIZE", "blank_frame", "camera_frame", "jpeg", "printed_qr_text", "write_y4m"]

FRAME_SIZE = (1280, 720)
"""A counter webcam's frame (16:9, 720p)."""

_DESK = (92, 84, 74)
_PAPER = (236, 232, 224)


def _page(pdf: bytes) -> Image.Image:
    page: Image.Image = pypdfium2.PdfDocument(pdf)[0].render(scale=200 / 72).to_pil()
    return page.convert("RGB")


def printed_qr_text(pdf: bytes) -> str:
    """The TB1 text of the printed page's QR, read straight from the PDF's page."""
    [code] = [r for r in zxingcpp.read_barcodes(_page(pdf)) if r.text.startswith(TB1_PREFIX)]
    return code.text


def camera_frame(pdf: bytes) -> Image.Image:
    """The printed page's QR held up to a webcam: cropped, turned 4 degrees, soft, on a desk."""
    page = _page(pdf)
    [code] = [r for r in zxingcpp.read_barcodes(page) if r.text.startswith(TB1_PREFIX)]
    corners = code.position
    xs = [corners.top_left.x, corners.top_right.x, corners.bottom_left.x, corners.bottom_right.x]
    ys = [corners.top_left.y, corners.top_right.y, corners.bottom_left.y, corners.bottom_right.y]
    margin = (max(xs) - min(xs)) // 4
    box = (min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)
    held = page.crop(box).rotate(4, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=_DESK)
    width, height = FRAME_SIZE
    side = height - 40
    held = held.resize((side, side * held.height // held.width), Image.Resampling.LANCZOS)
    frame = Image.new("RGB", FRAME_SIZE, _DESK)
    frame.paste(held, ((width - held.width) // 2, (height - held.height) // 2))
    return frame.filter(ImageFilter.GaussianBlur(0.8))


def blank_frame() -> Image.Image:
    """A frame with paper and no code in view."""
    frame = Image.new("RGB", FRAME_SIZE, _DESK)
    frame.paste(Image.new("RGB", (600, 500), _PAPER), (340, 110))
    return frame


def jpeg(frame: Image.Image, quality: int = 80) -> bytes:
    """``frame`` as the page script sends it (``canvas.toBlob(..., "image/jpeg", 0.8)``)."""
    stored = io.BytesIO()
    frame.save(stored, "JPEG", quality=quality)
    return stored.getvalue()


def write_y4m(frame: Image.Image, path: str) -> None:
    """``frame`` as a one-frame YUV4MPEG2 file (4:2:0, full-range JPEG YCbCr)."""
    width, height = frame.size
    y, cb, cr = frame.convert("YCbCr").split()
    half = (width // 2, height // 2)
    chroma = [p.resize(half, Image.Resampling.BILINEAR).tobytes() for p in (cb, cr)]
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode("ascii")
    with open(path, "wb") as out:
        out.write(header + b"FRAME\n" + y.tobytes() + chroma[0] + chroma[1])

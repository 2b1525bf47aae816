"""What a camera scan costs the server (``POST /scan``, docs/portal.md), in process.

    .venv/bin/python scripts/bench_scan.py [--repeat 30]

The page script sends a 1280x720 JPEG (quality 0.8) every 400 ms while the clerk
holds the printed QR up to a webcam without ``BarcodeDetector``. Measured with the
route's decoder (``api.portal.verify_form.scan_qr``, zxing-cpp), medians of
``--repeat`` runs, beside the baseline of the same run: an A4 page at 150 dpi as a
PNG with the same QR (what an upload costs, as scripts/bench_portal.py measures):

- a frame with the QR held up (turned 4 degrees, soft), decoded: found;
- a frame with no code in view (most frames while the paper is being placed);
- the frames' sizes in bytes (the route's cap is ``SCAN_BODY_CAP``).

A benchmark, not a test: it asserts nothing but that the QR decodes.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable

import segno
from PIL import Image, ImageFilter

from api.portal.scan import SCAN_BODY_CAP
from api.portal.verify_form import PageInputError, scan_qr

TEXT = "TB1:" + "6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3HSHM" * 8  # as dense as a TB1 QR
FRAME = (1280, 720)
DESK = (92, 84, 74)
EVERY_MS = 400


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _encoded(image: Image.Image, kind: str) -> bytes:
    stored = io.BytesIO()
    if kind == "JPEG":
        image.save(stored, kind, quality=80)
    else:
        image.save(stored, kind)
    return stored.getvalue()


def _found_or_none(data: bytes) -> str | None:
    try:
        return scan_qr(data)
    except PageInputError:
        return None


def main() -> None:
    """Print the decode times and frame sizes beside the A4 page baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    code = io.BytesIO()
    segno.make(TEXT, error="m", micro=False).save(code, kind="png", scale=6, border=4)
    qr = Image.open(io.BytesIO(code.getvalue())).convert("RGB")
    page = Image.new("RGB", (1240, 1754), "white")
    page.paste(qr, (800, 1300))
    baseline = _encoded(page, "PNG")

    side = FRAME[1] - 40
    held = qr.resize((side, side), Image.Resampling.LANCZOS)
    held = held.rotate(4, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=DESK)
    frame = Image.new("RGB", FRAME, DESK)
    frame.paste(held, ((FRAME[0] - held.width) // 2, (FRAME[1] - held.height) // 2))
    with_code = _encoded(frame.filter(ImageFilter.GaussianBlur(0.8)), "JPEG")
    blank = Image.new("RGB", FRAME, DESK)
    blank.paste(Image.new("RGB", (600, 500), (236, 232, 224)), (340, 110))
    without = _encoded(blank, "JPEG")

    if scan_qr(baseline) != TEXT or scan_qr(with_code) != TEXT:
        raise SystemExit("the QR did not decode")
    if _found_or_none(without) is not None:
        raise SystemExit("a code was found in a blank frame")
    a4 = _median_ms(lambda: scan_qr(baseline), args.repeat)
    found = _median_ms(lambda: scan_qr(with_code), args.repeat)
    empty = _median_ms(lambda: _found_or_none(without), args.repeat)
    print(f"A4 page PNG at 150 dpi (baseline): {a4:.1f} ms")
    print(
        f"webcam frame {FRAME[0]}x{FRAME[1]} JPEG, QR found: {found:.1f} ms "
        f"(x{found / a4:.2f}), {len(with_code):,} bytes"
    )
    print(
        f"webcam frame, no code in view: {empty:.1f} ms (x{empty / a4:.2f}), "
        f"{len(without):,} bytes; cap {SCAN_BODY_CAP:,} bytes"
    )
    print(
        f"one scanning page, a frame every {EVERY_MS} ms: about {100 * empty / EVERY_MS:.0f}% "
        f"of one core while no code is in view"
    )


if __name__ == "__main__":
    main()

"""The printed certificate on the command line: print a PDF, scan a QR from an image.

``tongban wallet print DIGEST --out FILE.pdf`` (``api.cli.wallet``) renders, offline,
the one-page A4 certificate of a credential in the wallet with exactly its print
disclosures (``api.paper.render``). ``tongban verify --qr IMAGE``
(``api.cli.credentials``) reads the QR code from a PNG or JPEG photo or scan (or
the PDF itself, rasterized at 150 dpi) with zxing-cpp and asks a province to
verify it. Every failure is one ``error:`` line naming the file's problem,
never its content.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from api.cli.options import InputFileError

__all__ = ["MAX_IMAGE_BYTES", "SCAN_DPI", "print_to_file", "scan_qr", "scanned_request"]

SCAN_DPI: Final = 150
"""Resolution a PDF given to ``--qr`` is rasterized at."""

MAX_IMAGE_BYTES: Final = 50 * 1024 * 1024
"""Largest image or PDF file ``--qr`` reads."""

_PREFIX = "TB1:"


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise InputFileError(f"{path} is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MiB")
        return path.read_bytes()
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror or 'unreadable'}") from None


def _image(path: Path, data: bytes) -> Any:
    """The image to scan: the file's picture, or the PDF's first page at 150 dpi."""
    import io

    if data.startswith(b"%PDF-"):
        import pypdfium2

        try:
            document = pypdfium2.PdfDocument(data)
            if len(document) < 1:
                raise InputFileError(f"{path} is a PDF without a page")
            return document[0].render(scale=SCAN_DPI / 72).to_pil()
        except pypdfium2.PdfiumError:
            raise InputFileError(f"{path} is not a readable PDF") from None
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        raise InputFileError(f"{path} is not a PNG or JPEG image (or a PDF)") from None
    return image


def scan_qr(path: Path) -> str:
    """The TB1 text of the one Tongban QR code in the image (or PDF) at ``path``."""
    import zxingcpp

    image = _image(path, _read(path))
    found = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    texts = list(dict.fromkeys(r.text for r in found if r.text.startswith(_PREFIX)))
    if not texts:
        other = " (only QR codes of something else)" if found else ""
        raise InputFileError(f"no Tongban QR code (TB1:) found in {path}{other}")
    if len(texts) > 1:
        raise InputFileError(f"{path} shows {len(texts)} different Tongban QR codes: crop to one")
    return texts[0]


def scanned_request(text: str) -> dict[str, Any]:
    """The ``POST /credentials/verify`` body of scanned TB1 ``text`` (an enveloped credential)."""
    from credentials.paper.envelope import envelope

    return {"verifiableCredential": envelope(text)}


def print_to_file(credential: Mapping[str, Any], out: Path) -> dict[str, Any]:
    """Render ``credential``'s printed certificate to ``out``; a summary (no claim values)."""
    from api.paper.render import FontMissingError, render_certificate
    from credentials.errors import DisclosureError
    from credentials.paper.codec import PaperCodecError
    from credentials.paper.printing import printed_credential

    try:
        printed = printed_credential(credential)
        rendered = render_certificate(printed)
    except DisclosureError as error:
        hint = ": run 'tongban wallet fetch-proofs' first" if "anchored" in str(error) else ""
        raise InputFileError(f"cannot print this credential: {error}{hint}") from None
    except (FontMissingError, PaperCodecError) as error:
        raise InputFileError(str(error)) from None
    try:
        out.write_bytes(rendered.pdf)
    except OSError as error:
        raise InputFileError(f"cannot write {out}: {error.strerror or 'unwritable'}") from None
    disclosed = [str(d[1]).rsplit("/", 1)[1] for d in printed.get("disclosures", [])]
    return {
        "out": str(out),
        "bytes": len(rendered.pdf),
        "qrVersion": rendered.qr_version,
        "qrCharacters": len(rendered.qr_text),
        "disclosed": disclosed,
    }

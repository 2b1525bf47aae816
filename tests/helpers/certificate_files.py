"""Certificate files for the file-binding tests (a small PDF, a small OFD) and multipart bodies.

The PDF is a one-page document written out by hand (header, catalog, page tree,
cross-reference table, trailer: ISO 32000 section 7.5); the OFD is a ZIP package
whose root holds ``OFD.xml`` (GB/T 33190-2016 section 7.4), with fixed timestamps
so its bytes are the same on every run.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from collections.abc import Mapping
from typing import Any

__all__ = ["form_body", "hostile_ofd", "sample_ofd", "sample_pdf"]


def sample_pdf(text: str = "Tongban certificate 0001") -> bytes:
    """A valid one-page PDF whose content stream shows ``text`` (ASCII)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


_OFD_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD">'
    "<ofd:DocBody><ofd:DocInfo><ofd:DocID>{doc_id}</ofd:DocID></ofd:DocInfo>"
    "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
)
_DOCUMENT_XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData>'
    "<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
    "</ofd:CommonData><ofd:Pages/></ofd:Document>"
)


def sample_ofd(doc_id: str = "0f0e0d0c0b0a09080706050403020100") -> bytes:
    """A small OFD package (``OFD.xml`` and one document), byte-for-byte reproducible."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as package:
        for name, text in (
            ("OFD.xml", _OFD_XML.format(doc_id=doc_id)),
            ("Doc_0/Document.xml", _DOCUMENT_XML),
        ):
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            package.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def hostile_ofd(kind: str) -> bytes:
    """The sample OFD with its central directory entry broken in a way ``zipfile`` does
    not report as ``BadZipFile``.

    ``version``: a made-up version needed to extract (``NotImplementedError``);
    ``name``: a name flagged UTF-8 that is not (``UnicodeDecodeError``).
    """
    package = bytearray(sample_ofd())
    entry = package.find(b"PK\x01\x02")
    if kind == "version":
        package[entry + 6] = 178
    else:
        package[entry + 9] |= 0x08
        package[entry + 46] = 0xFF
    return bytes(package)


def form_body(
    parts: Mapping[str, bytes | Mapping[str, Any]],
    *,
    filenames: Mapping[str, str] | None = None,
    boundary: str | None = None,
) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body of ``parts`` (a mapping is sent as JSON) and its type."""
    marker = boundary or "tb" + secrets.token_hex(12)
    out = bytearray()
    for name, value in parts.items():
        data = value if isinstance(value, bytes) else json.dumps(value).encode("utf-8")
        media = "application/octet-stream" if isinstance(value, bytes) else "application/json"
        filename = (filenames or {}).get(name)
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{marker}\r\n".encode()
        out += f"Content-Disposition: {disposition}\r\nContent-Type: {media}\r\n\r\n".encode()
        out += data + b"\r\n"
    out += f"--{marker}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={marker}"

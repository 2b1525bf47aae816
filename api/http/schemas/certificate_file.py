"""The issue request's ``certificateFile`` member (docs/certificate-file.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.http.schemas.common import InputModel
from credentials.file_binding import MAX_FILE_BYTES, CertificateFile

__all__ = ["CERTIFICATE_FILE_HELP", "CertificateFileIn"]

CERTIFICATE_FILE_HELP = (
    "The certificate file (OFD or PDF) the issuing system produced, named in the "
    "credential's `relatedResource` by SM3 (docs/certificate-file.md); `tongban document "
    "digest FILE` prints this member."
)
"""The member's description in the issue request."""


class CertificateFileIn(InputModel):
    """The certificate file a credential names: its SM3 digest, media type and size."""

    digest_sm3: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SM3 of the file's bytes, 64 lowercase hex."
    )
    media_type: Literal["application/ofd", "application/pdf"]
    size: int = Field(ge=1, le=MAX_FILE_BYTES, description="The file's size in bytes.")

    def certificate_file(self) -> CertificateFile:
        """The domain value."""
        return CertificateFile(bytes.fromhex(self.digest_sm3), self.media_type, self.size)

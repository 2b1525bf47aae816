"""The answer of ``POST /documents/verify``: the credential's verification and the file check."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.http.schemas.common import ApiModel
from api.http.schemas.credentials import VerificationOut
from credentials.file_binding import CertificateFile, FileFacts
from credentials.verify.outcome import Failed, Passed

__all__ = ["DocumentVerificationOut", "FileCheckOut", "file_check_json"]


class FileCheckOut(ApiModel):
    """Whether the uploaded file is exactly the one the credential names."""

    status: Literal["VALID", "INVALID"]
    reason_code: str = Field(
        description="`ok`, `file_not_named`, `file_media_type_mismatch`, `file_size_mismatch` "
        "or `file_digest_mismatch` (checked in that order)."
    )
    message: str = Field(description="Names the rule and the member, never a value.")
    at: str | None = Field(
        default=None, description="JSON pointer of the credential's member at fault."
    )
    digest_sm3: str = Field(description="SM3 of the uploaded file, 64 lowercase hex.")
    media_type: Literal["application/ofd", "application/pdf"] | None = Field(
        default=None, description="What the file's bytes show it is (absent: neither)."
    )
    size: int = Field(description="The uploaded file's size in bytes.")


class DocumentVerificationOut(VerificationOut):
    """The credential's verification (as `POST /credentials/verify`) and the file check.

    `verified` is true and `verdict` VALID only when the credential verifies and the
    file is the one it names; `credentialVerdict` is the credential's own verdict.
    """

    credential_verdict: Literal["VALID", "INVALID", "ERROR", "UNREGISTERED_ISSUER"] = Field(
        description="The verdict of the credential alone (checks 0-7), as `POST "
        "/credentials/verify` gives it."
    )
    file: FileCheckOut


def file_check_json(outcome: Passed[CertificateFile] | Failed, facts: FileFacts) -> dict[str, Any]:
    """``FileCheckOut`` of a file check's outcome and of what the uploaded file is."""
    document: dict[str, Any] = {
        "status": "VALID" if isinstance(outcome, Passed) else "INVALID",
        "reasonCode": "ok" if isinstance(outcome, Passed) else outcome.reason.value,
        "message": outcome.message,
    }
    if isinstance(outcome, Failed) and outcome.at is not None:
        document["at"] = outcome.at
    document["digestSm3"] = facts.digest.hex()
    if facts.media_type is not None:
        document["mediaType"] = facts.media_type
    document["size"] = facts.size
    return document

"""The caller's side of ``POST /documents/verify``: a certificate file and its credential.

The body is ``multipart/form-data`` (RFC 7578) with the parts ``file`` (the OFD or
PDF, sent as it is) and ``credential`` (JSON), built here with the standard library
only: the command line needs no extra dependency. The boundary is random and
checked not to occur in either part.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from api.client.remote import RemoteApi, RemoteApiError

__all__ = ["DOCUMENT_VERIFY", "encode_form", "verify_document"]

DOCUMENT_VERIFY = "/documents/verify"
"""The route."""

_ANSWER_SECONDS = 120.0


def encode_form(file: bytes, credential: Mapping[str, Any]) -> tuple[bytes, str]:
    """The multipart body of ``file`` and ``credential``, and its ``Content-Type``."""
    document = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    while True:
        boundary = "tongban-" + secrets.token_hex(16)
        marker = boundary.encode("ascii")
        if marker not in file and marker not in document:
            break
    body = b"".join(
        (
            b"--" + marker + b"\r\n",
            b'Content-Disposition: form-data; name="file"; filename="certificate"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            file,
            b"\r\n--" + marker + b"\r\n",
            b'Content-Disposition: form-data; name="credential"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            document,
            b"\r\n--" + marker + b"--\r\n",
        )
    )
    return body, f"multipart/form-data; boundary={boundary}"


def verify_document(
    api: RemoteApi, file: bytes, credential: Mapping[str, Any], headers: Mapping[str, str]
) -> dict[str, Any]:
    """The province's answer for ``file`` and ``credential`` (``RemoteApiError`` if refused)."""
    body, content_type = encode_form(file, credential)
    api.timeout = max(api.timeout, _ANSWER_SECONDS)
    answer = api.request(
        "POST", DOCUMENT_VERIFY, body, headers={**headers, "Content-Type": content_type}
    ).body
    if not isinstance(answer, dict) or not isinstance(answer.get("file"), dict):
        raise RemoteApiError(0, "bad-answer", "the API answered without a file check")
    return answer

"""A scanned TB1 payload inside a VC API request: a VC 2.0 enveloped credential.

``POST /credentials/verify`` takes, as ``verifiableCredential``, the VC Data
Model's own form for a credential in another encoding (VCDM 2.0, "Enveloped
Verifiable Credentials")::

    {"@context": ["https://www.w3.org/ns/credentials/v2"],
     "type": "EnvelopedVerifiableCredential",
     "id": "data:application/vnd.tongban.tb1,TB1:..."}

The data URL (RFC 2397) carries the QR text percent-encoded (base45 has a
space and ``%``). The VC API already accepts an enveloped credential as well
formed, so nothing of the VC API changes; a verifier that does not read TB1
answers it as an unknown media type.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import quote, unquote

from credentials.contexts import CREDENTIALS_V2
from credentials.paper.codec import PaperCodecError

__all__ = ["DATA_PREFIX", "ENVELOPED_TYPE", "MEDIA_TYPE", "envelope", "scanned_text"]

MEDIA_TYPE: Final = "application/vnd.tongban.tb1"
"""The media type of a TB1 payload (Tongban's own, unregistered)."""

DATA_PREFIX: Final = f"data:{MEDIA_TYPE},"
"""How the data URL of an enveloped TB1 payload starts."""

ENVELOPED_TYPE: Final = "EnvelopedVerifiableCredential"
"""The VC 2.0 type of an enveloped credential."""

_SAFE = "$*+-./:"


def envelope(text: str) -> dict[str, Any]:
    """The ``EnvelopedVerifiableCredential`` carrying TB1 ``text``."""
    return {
        "@context": [CREDENTIALS_V2],
        "type": ENVELOPED_TYPE,
        "id": DATA_PREFIX + quote(text, safe=_SAFE),
    }


def scanned_text(document: object) -> str | None:
    """The TB1 text of an enveloped TB1 credential, or None for any other document.

    Raises ``PaperCodecError`` if the data URL's percent-encoding is not UTF-8.
    """
    if not isinstance(document, dict):
        return None
    types = document.get("type")
    named = types == ENVELOPED_TYPE or (isinstance(types, list) and ENVELOPED_TYPE in types)
    url = document.get("id")
    if not named or not isinstance(url, str) or not url.startswith(DATA_PREFIX):
        return None
    try:
        return unquote(url[len(DATA_PREFIX) :], errors="strict")
    except UnicodeDecodeError:
        raise PaperCodecError("the data URL is not percent-encoded UTF-8") from None

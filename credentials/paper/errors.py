"""The one error of the TB1 codec."""

from __future__ import annotations

from credentials.errors import CredentialError

__all__ = ["PaperCodecError"]


class PaperCodecError(CredentialError):
    """A TB1 payload that is not one, or a credential TB1 cannot carry exactly.

    The message names the step or member at fault, never a value.
    """

    code = "paper_payload_invalid"

"""Verification of credentials and presentations: the numbered checklist.

Importers use this package's names, not its modules: the modules behind them
are free to move.
"""

from credentials.verify.verifier import (
    CREDENTIAL_VERIFY,
    PRESENTATION_VERIFY,
    AccessLog,
    CheckResult,
    VerificationRequest,
    VerificationResult,
    Verifier,
    VerifierConfig,
)

__all__ = [
    "CREDENTIAL_VERIFY",
    "PRESENTATION_VERIFY",
    "AccessLog",
    "CheckResult",
    "VerificationRequest",
    "VerificationResult",
    "Verifier",
    "VerifierConfig",
]

"""Verification of credentials and presentations: the numbered checklist.

Importers use this package's names, not its modules: the modules behind them
are free to move. The modules, one job each:

- ``parse``: check (0), the typed parsed credential or presentation;
- ``offline``: the checks that need no chain (shared with the citizen's wallet);
- ``chain_state``: what the checks read from the chain index at one height;
- ``checks``: one function per numbered check, each returning a typed outcome;
- ``outcome``: those outcomes; ``result``: check results and the verdict;
- ``config``: the verifier's configuration; ``verifier``: ``Verifier``, which
  runs the checks and records the access event.
"""

from credentials.verify.config import VerifierConfig
from credentials.verify.offline import TrustedChain, anchor_path, check_offline
from credentials.verify.outcome import Failed, OfflineFailure, Passed, Skipped
from credentials.verify.parse import ParsedCredential
from credentials.verify.result import CheckResult, VerificationResult
from credentials.verify.verifier import (
    CREDENTIAL_VERIFY,
    PRESENTATION_VERIFY,
    AccessLog,
    VerificationRequest,
    Verifier,
)

__all__ = [
    "CREDENTIAL_VERIFY",
    "PRESENTATION_VERIFY",
    "AccessLog",
    "CheckResult",
    "Failed",
    "OfflineFailure",
    "ParsedCredential",
    "Passed",
    "Skipped",
    "TrustedChain",
    "VerificationRequest",
    "VerificationResult",
    "Verifier",
    "VerifierConfig",
    "anchor_path",
    "check_offline",
]

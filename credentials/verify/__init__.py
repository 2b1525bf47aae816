"""Verification of credentials and presentations: the numbered checklist.

Importers use this package's names, not its modules: the modules behind them
are free to move. The modules, one job each:

- ``parse``: check (0), the typed parsed credential or presentation;
- ``offline``: the checks that need no chain (shared with the citizen's wallet);
- ``chain_state``: what the checks read from the chain index at one height;
- ``checks``: one function per numbered check, each returning a typed outcome;
- ``outcome``: those outcomes; ``result``: check results and the verdict;
- ``config``: the verifier's configuration; ``verifier``: ``Verifier``, which
  runs the checks (one credential or many in one index view) and records the
  access event; ``checklist``: one credential's checklist against one chain state;
- ``batch``: many credentials of one request, item by item;
- ``foreign``: credentials of issuers outside the consortium (their proofs through
  ``credentials.suites``) and presentations that carry them;
- ``status_list_check``: the Bitstring Status List check, reported beside (4).
- ``purpose_binding``: check (6)'s purpose binding, a presentation's ``termsOfUse``
  against the purpose the request declares (docs/purposes.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credentials.lazy import lazy_exports

if TYPE_CHECKING:
    from credentials.reasons import Verdict
    from credentials.verify.config import VerifierConfig
    from credentials.verify.foreign import ForeignCredential, MixedPresentation
    from credentials.verify.offline import TrustedChain, anchor_path, check_offline
    from credentials.verify.outcome import Failed, OfflineFailure, Passed, Skipped
    from credentials.verify.parse import ParsedCredential
    from credentials.verify.result import CheckResult, ListFinding, VerificationResult
    from credentials.verify.status_list_check import FetchList, FetchRefusedError
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
    "FetchList",
    "FetchRefusedError",
    "ForeignCredential",
    "ListFinding",
    "MixedPresentation",
    "OfflineFailure",
    "ParsedCredential",
    "Passed",
    "Skipped",
    "TrustedChain",
    "Verdict",
    "VerificationRequest",
    "VerificationResult",
    "Verifier",
    "VerifierConfig",
    "anchor_path",
    "check_offline",
]

# Each name is imported on first use: the verifier pulls in the chain index,
# which the wallet's offline checks (``offline``) never need.
_EXPORTS: dict[str, str] = {
    "VerifierConfig": "credentials.verify.config",
    "Verdict": "credentials.reasons",
    "ForeignCredential": "credentials.verify.foreign",
    "MixedPresentation": "credentials.verify.foreign",
    "ListFinding": "credentials.verify.result",
    "FetchList": "credentials.verify.status_list_check",
    "FetchRefusedError": "credentials.verify.status_list_check",
    "TrustedChain": "credentials.verify.offline",
    "anchor_path": "credentials.verify.offline",
    "check_offline": "credentials.verify.offline",
    "Failed": "credentials.verify.outcome",
    "OfflineFailure": "credentials.verify.outcome",
    "Passed": "credentials.verify.outcome",
    "Skipped": "credentials.verify.outcome",
    "ParsedCredential": "credentials.verify.parse",
    "CheckResult": "credentials.verify.result",
    "VerificationResult": "credentials.verify.result",
    "CREDENTIAL_VERIFY": "credentials.verify.verifier",
    "PRESENTATION_VERIFY": "credentials.verify.verifier",
    "AccessLog": "credentials.verify.verifier",
    "VerificationRequest": "credentials.verify.verifier",
    "Verifier": "credentials.verify.verifier",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)

"""Electronic certificates (电子证照) as W3C Verifiable Credentials signed with SM2.

Public modules (``docs/credentials.md`` describes the whole package):

- :mod:`credentials.issuance`: ``CredentialIssuer`` (issue, status, proofs, revocation,
  key compromise), ``BatchAnchorer`` (writer: batches and anchoring), ``IssuerConfig``;
- :mod:`credentials.verify`: ``Verifier`` (the numbered checklist), ``VerifierConfig``,
  ``VerificationRequest``, ``VerificationResult``, ``CheckResult``;
- :mod:`credentials.holder`: ``Holder`` (derive credentials, sign presentations);
- :mod:`credentials.credential`: ``IssueRequest``, ``SignedCredential``, secured form, digest;
- :mod:`credentials.templates`, :mod:`credentials.schema`, :mod:`credentials.contexts`;
- :mod:`credentials.cryptosuite` (``sm2-jcs-2026``), :mod:`credentials.disclosure`,
  :mod:`credentials.anchor_proof`, :mod:`credentials.did`, :mod:`credentials.status`;
- :mod:`credentials.ijson`, :mod:`credentials.jcs`: strict input and RFC 8785;
- :mod:`credentials.signing`: ``SigningPool`` (build and sign in worker processes);
- :mod:`credentials.reasons`: frozen check names and reason codes;
- :mod:`credentials.errors`: the package's one exception tree.

``credentials`` imports ``ledger``; it never imports ``api``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credentials.lazy import lazy_exports

if TYPE_CHECKING:
    from credentials.anchor_proof import AnchorProof
    from credentials.credential import IssueRequest, SignedCredential
    from credentials.errors import CredentialError
    from credentials.holder import Holder, derive_credential
    from credentials.issuance import (
        AnchoringState,
        AnchoringStatus,
        BatchAnchorer,
        CompromiseReport,
        CredentialIssuer,
        IssuerConfig,
        StatusRequest,
    )
    from credentials.reasons import Check, CheckStatus, Reason
    from credentials.signing import SigningPool
    from credentials.status import StatusAction, StatusReason
    from credentials.verify import (
        CheckResult,
        VerificationRequest,
        VerificationResult,
        Verifier,
        VerifierConfig,
    )

__all__ = [
    "AnchorProof",
    "AnchoringState",
    "AnchoringStatus",
    "BatchAnchorer",
    "Check",
    "CheckResult",
    "CheckStatus",
    "CompromiseReport",
    "CredentialError",
    "CredentialIssuer",
    "Holder",
    "IssueRequest",
    "IssuerConfig",
    "Reason",
    "SignedCredential",
    "SigningPool",
    "StatusAction",
    "StatusReason",
    "StatusRequest",
    "VerificationRequest",
    "VerificationResult",
    "Verifier",
    "VerifierConfig",
    "derive_credential",
]

# Each name is imported on first use: the issuance pipeline pulls in the chain
# client and web3, which a wallet command (one module of this package) never needs.
_EXPORTS: dict[str, str] = {
    "AnchorProof": "credentials.anchor_proof",
    "IssueRequest": "credentials.credential",
    "SignedCredential": "credentials.credential",
    "CredentialError": "credentials.errors",
    "Holder": "credentials.holder",
    "derive_credential": "credentials.holder",
    "AnchoringState": "credentials.issuance",
    "AnchoringStatus": "credentials.issuance",
    "BatchAnchorer": "credentials.issuance",
    "CompromiseReport": "credentials.issuance",
    "CredentialIssuer": "credentials.issuance",
    "IssuerConfig": "credentials.issuance",
    "StatusRequest": "credentials.issuance",
    "Check": "credentials.reasons",
    "CheckStatus": "credentials.reasons",
    "Reason": "credentials.reasons",
    "SigningPool": "credentials.signing",
    "StatusAction": "credentials.status",
    "StatusReason": "credentials.status",
    "CheckResult": "credentials.verify",
    "VerificationRequest": "credentials.verify",
    "VerificationResult": "credentials.verify",
    "Verifier": "credentials.verify",
    "VerifierConfig": "credentials.verify",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, __all__)

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

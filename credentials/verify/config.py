"""A verifying province's own configuration: the chain and contracts it trusts, its DID."""

from __future__ import annotations

from dataclasses import dataclass

from credentials.errors import ConfigurationError
from credentials.verify.offline import TrustedChain
from ledger.chain.node.client import checksum

__all__ = ["VerifierConfig"]


@dataclass(frozen=True)
class VerifierConfig:
    """A verifying province's own configuration: the chain and contracts it trusts.

    ``did`` is the verifier's DID: presentations must name it as ``domain`` and its
    challenges are issued for it.
    """

    chain_id: int
    registry: str
    credential_anchor: str
    did: str
    challenge_ttl_ms: int = 300_000

    def __post_init__(self) -> None:
        """Normalise addresses to EIP-55."""
        object.__setattr__(self, "registry", checksum(self.registry))
        object.__setattr__(self, "credential_anchor", checksum(self.credential_anchor))
        if not self.did or len(self.did) > 256:
            raise ConfigurationError("the verifier's DID must be 1-256 characters")

    @property
    def trusted(self) -> TrustedChain:
        """The chain id and CredentialAnchor the offline checks compare documents with."""
        return TrustedChain(self.chain_id, self.credential_anchor)

"""The auditor's view of the chain, read through the consortium contracts' bindings."""

from __future__ import annotations

from ledger.audit.export import AnchoredRoot
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.crypto.sm2 import Sm2PublicKey


class ContractChainView:
    """``ChainView`` over ``AuditAnchor`` and ``IssuerRegistry`` at configured addresses."""

    def __init__(self, anchor: AuditAnchor, registry: IssuerRegistry) -> None:
        """Read checkpoints from ``anchor`` and keys from ``registry``."""
        self.anchor = anchor
        self.registry = registry

    def anchored_roots(self, log_id: int) -> list[AnchoredRoot]:
        """The checkpoints of the log's current epoch, in anchoring order.

        Earlier epochs (before a governance reset after an incident) stay on
        chain and readable, but describe a log the province no longer serves.
        """
        epoch = self.anchor.epoch_of(log_id)
        return [
            AnchoredRoot(c.index, c.tree_size, c.root, c.block_number)
            for c in self.anchor.checkpoints(log_id)
            if c.epoch == epoch
        ]

    def log_key(self, log_id: int, key_id: str) -> Sm2PublicKey:
        """The SM2 key ``key_id`` of issuer ``log_id`` as the registry holds it."""
        return Sm2PublicKey.from_bytes(self.registry.key(log_id, key_id).public_key)

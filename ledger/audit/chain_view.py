"""The auditor's view of the chain, read through the consortium contracts' bindings."""

from __future__ import annotations

from ledger.audit.errors import AuditError
from ledger.audit.export_format import AnchoredRoot
from ledger.chain.contracts.audit_anchor import AuditAnchor
from ledger.chain.contracts.errors import (
    IssuerRegistryInvalidKeyIdError,
    IssuerRegistryUnknownKeyError,
)
from ledger.chain.contracts.registry import IssuerRegistry
from ledger.crypto.sm2 import Sm2PublicKey


class ContractChainView:
    """``ChainView`` over ``AuditAnchor`` and ``IssuerRegistry`` at configured addresses."""

    def __init__(self, anchor: AuditAnchor, registry: IssuerRegistry) -> None:
        """Read checkpoints from ``anchor`` and keys from ``registry``."""
        self.anchor = anchor
        self.registry = registry

    def anchored_roots(self, log_id: int, *, block: int | None = None) -> list[AnchoredRoot]:
        """The checkpoints of the log's current epoch as of ``block`` (None: the newest block).

        Earlier epochs (before a governance reset after an incident) stay on
        chain and readable, but describe a log the province no longer serves.
        """
        at = "latest" if block is None else block
        epoch = self.anchor.epoch_of(log_id, block=at)
        return [
            AnchoredRoot(c.index, c.tree_size, c.root, c.block_number)
            for c in self.anchor.checkpoints(log_id, block=at)
            if c.epoch == epoch
        ]

    def log_key(self, log_id: int, key_id: str) -> Sm2PublicKey:
        """The SM2 key ``key_id`` of issuer ``log_id`` as the registry holds it now.

        Raises ``AuditError`` when the registry lists no such key: an export
        naming one has a finding, not an error.
        """
        try:
            record = self.registry.key(log_id, key_id)
        except (IssuerRegistryUnknownKeyError, IssuerRegistryInvalidKeyIdError, ValueError):
            raise AuditError("the registry lists no such key for the log's issuer") from None
        return Sm2PublicKey.from_bytes(record.public_key)

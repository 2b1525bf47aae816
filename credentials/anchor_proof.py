"""The anchor proof: where on chain a credential's digest was anchored, and the path to it.

Once the batch a credential joined is anchored and final, the credential gets a
second entry in its ``proof`` array (``docs/anchor-proof.md``)::

    {
      "type": "TongbanAnchorProof2026",
      "chainId": 31337,                      chain of the anchoring transaction
      "contract": "0x5FbD...",               CredentialAnchor address, EIP-55
      "issuerId": 1,                          registry issuer id of the anchoring issuer
      "root": "9f1c...",                      RFC 9162 SM3 root, 64 lowercase hex
      "leafIndex": 17,                        0 <= leafIndex < treeSize
      "treeSize": 1000,                       leaves in the batch, as anchored
      "auditPath": ["ab12...", ...],          RFC 9162 inclusion path, leaf to root
      "blockNumber": 1234                     block of the anchoring transaction
    }

The leaf is ``SM3(0x00 || credential digest)``. A verifier checks the path, then
that *its own configured* chain id and contract match the proof's and that the
(issuer, root) pair is anchored there with this tree size in this block.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ledger.merkle.verify import MAX_PATH_LENGTH

__all__ = [
    "ANCHOR_MEMBER",
    "ANCHOR_PROOF_TYPE",
    "AnchorProof",
    "anchor_proof_of",
    "data_integrity_proofs",
]

ANCHOR_PROOF_TYPE = "TongbanAnchorProof2026"

_FIELDS = frozenset(
    {
        "type",
        "chainId",
        "contract",
        "issuerId",
        "root",
        "leafIndex",
        "treeSize",
        "auditPath",
        "blockNumber",
    }
)
_HEX32 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}", re.ASCII)
_MAX_UINT64 = 2**64 - 1


def _uint(document: Mapping[str, Any], name: str, *, upper: int = _MAX_UINT64) -> int:
    value = document.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
        raise ValueError(f"anchor proof field {name!r} must be an integer in 0..{upper}")
    return value


@dataclass(frozen=True)
class AnchorProof:
    """A parsed anchor proof."""

    chain_id: int
    contract: str
    issuer_id: int
    root: bytes
    leaf_index: int
    tree_size: int
    audit_path: tuple[bytes, ...]
    block_number: int

    def to_json(self) -> dict[str, Any]:
        """The proof entry as it appears in a credential's ``proof`` array."""
        return {
            "type": ANCHOR_PROOF_TYPE,
            "chainId": self.chain_id,
            "contract": self.contract,
            "issuerId": self.issuer_id,
            "root": self.root.hex(),
            "leafIndex": self.leaf_index,
            "treeSize": self.tree_size,
            "auditPath": [node.hex() for node in self.audit_path],
            "blockNumber": self.block_number,
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> AnchorProof:
        """Parse strictly: exactly the fields above, each well formed; ValueError otherwise."""
        if not isinstance(document, Mapping) or set(document) != _FIELDS:
            raise ValueError("an anchor proof has exactly the documented fields")
        if document["type"] != ANCHOR_PROOF_TYPE:
            raise ValueError("not a TongbanAnchorProof2026")
        contract = document["contract"]
        if not isinstance(contract, str) or not _ADDRESS.fullmatch(contract):
            raise ValueError("anchor proof field 'contract' must be a 0x address")
        root = document["root"]
        if not isinstance(root, str) or not _HEX32.fullmatch(root):
            raise ValueError("anchor proof field 'root' must be 64 lowercase hex characters")
        path = document["auditPath"]
        if not isinstance(path, list) or len(path) > MAX_PATH_LENGTH:
            raise ValueError(f"anchor proof 'auditPath' is a list of at most {MAX_PATH_LENGTH}")
        if not all(isinstance(p, str) and _HEX32.fullmatch(p) for p in path):
            raise ValueError("every auditPath entry is 64 lowercase hex characters")
        tree_size = _uint(document, "treeSize")
        leaf_index = _uint(document, "leafIndex")
        if tree_size < 1 or leaf_index >= tree_size:
            raise ValueError("anchor proof needs 0 <= leafIndex < treeSize")
        return cls(
            chain_id=_uint(document, "chainId", upper=2**53 - 1),
            contract=contract,
            issuer_id=_uint(document, "issuerId", upper=2**32 - 1),
            root=bytes.fromhex(root),
            leaf_index=leaf_index,
            tree_size=tree_size,
            audit_path=tuple(bytes.fromhex(p) for p in path),
            block_number=_uint(document, "blockNumber"),
        )


ANCHOR_MEMBER = "anchor"
"""The credential's top-level member carrying the anchor proof (outside the secured form)."""


def _proof_entries(credential: Mapping[str, Any]) -> list[Any]:
    proofs = credential.get("proof", [])
    return list(proofs) if isinstance(proofs, list) else [proofs]


def data_integrity_proofs(credential: Mapping[str, Any]) -> list[Any]:
    """The entries of ``proof`` (object or array) other than a legacy anchor proof."""
    return [
        p
        for p in _proof_entries(credential)
        if not (isinstance(p, Mapping) and p.get("type") == ANCHOR_PROOF_TYPE)
    ]


def anchor_proof_of(credential: Mapping[str, Any]) -> Any:
    """The anchor proof: the ``anchor`` member, or a legacy ``proof`` entry; or None."""
    if ANCHOR_MEMBER in credential:
        return credential[ANCHOR_MEMBER]
    legacy = [
        p
        for p in _proof_entries(credential)
        if isinstance(p, Mapping) and p.get("type") == ANCHOR_PROOF_TYPE
    ]
    return legacy[-1] if legacy else None

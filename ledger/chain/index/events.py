"""Writing contract events into the chain index: one row per event, replays change nothing.

Issuers and their status changes, SM2 keys and their retirement or compromise
marks, anchored roots and digest status changes each go to their own table,
keyed so that applying the same event twice keeps one row.
"""

from __future__ import annotations

from typing import Any

from ledger.chain.contracts.binding import DecodedEvent
from ledger.chain.contracts.registry import IssuerStatus, decode_key_id
from ledger.chain.index.schema import KEY_COMPROMISED, KEY_RETIRED
from ledger.store.database import Transaction


def apply_event(tx: Transaction, event: DecodedEvent, times: dict[int, int]) -> None:
    """Write ``event`` into the index tables (events it does not index are skipped).

    ``times`` holds the block time of every block with a ``RootAnchored`` event.
    Replaying an event already applied changes nothing.
    """
    args: dict[str, Any] = event.args
    block, index = event.block_number, event.log_index
    name = event.name
    if name == "IssuerAdmitted":
        tx.execute(
            "INSERT INTO chain_index_issuers (issuer_id, division_code, did, name, "
            "block_number) VALUES (?, ?, ?, ?, ?) ON CONFLICT (issuer_id) DO NOTHING",
            (
                int(args["issuerId"]),
                int(args["divisionCode"]),
                str(args["did"]),
                str(args["name"]),
                block,
            ),
        )
        _issuer_status(tx, args, block, index, IssuerStatus.ACTIVE)
    elif name == "IssuerSuspended":
        _issuer_status(tx, args, block, index, IssuerStatus.SUSPENDED)
    elif name == "IssuerReinstated":
        _issuer_status(tx, args, block, index, IssuerStatus.ACTIVE)
    elif name == "KeyAdded":
        tx.execute(
            "INSERT INTO chain_index_keys (issuer_id, key_id, public_key, valid_from, "
            "block_number, log_index) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (issuer_id, key_id) DO NOTHING",
            (
                int(args["issuerId"]),
                decode_key_id(bytes(args["keyId"])),
                bytes(args["publicKey"]),
                int(args["validFrom"]),
                block,
                index,
            ),
        )
    elif name in ("KeyRetired", "KeyCompromised"):
        kind, at = (
            (KEY_RETIRED, args["retiredAt"])
            if name == "KeyRetired"
            else (KEY_COMPROMISED, args["compromisedFrom"])
        )
        tx.execute(
            "INSERT INTO chain_index_key_events (issuer_id, key_id, block_number, log_index, "
            "kind, at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                int(args["issuerId"]),
                decode_key_id(bytes(args["keyId"])),
                block,
                index,
                kind,
                int(at),
            ),
        )
    elif name == "RootAnchored":
        tx.execute(
            "INSERT INTO chain_index_anchors (issuer_id, root, block_number, block_time, "
            "tree_size, metadata_hash) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (issuer_id, root) DO NOTHING",
            (
                int(args["issuerId"]),
                bytes(args["root"]),
                block,
                times[block],
                int(args["treeSize"]),
                bytes(args["metadataHash"]),
            ),
        )
    elif name == "CredentialStatusChanged":
        tx.execute(
            "INSERT INTO chain_index_statuses (issuer_id, digest, block_number, log_index, "
            "status, reason) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                int(args["issuerId"]),
                bytes(args["digest"]),
                block,
                index,
                int(args["status"]),
                int(args["reason"]),
            ),
        )


def _issuer_status(
    tx: Transaction, args: dict[str, Any], block: int, index: int, status: IssuerStatus
) -> None:
    tx.execute(
        "INSERT INTO chain_index_issuer_events (issuer_id, block_number, log_index, status) "
        "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (int(args["issuerId"]), block, index, int(status)),
    )

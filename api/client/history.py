"""The citizen's access history, asked for with the wallet's key and checked locally.

``access_history(wallet, api)`` asks a province (``POST /citizen/challenge``, then
the signed ``POST /citizen/access-history``; no token: the holder's signature over
the challenge authenticates) and checks the answer as far as a citizen can
without the chain: each event hashes to its receipt's leaf, the receipt's path
leads to its signed batch root, and an inclusion proof leads to the anchored
checkpoint's root. The receipt signature and the checkpoint on chain are an
auditor's checks (``tongban audit verify``). An issuing agency's name (the
record's ``agency``, outside the signed event) is kept only when its code is the
one the signed ``actorOrg`` names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.client.errors import WalletError
from api.client.remote import RemoteApi
from api.client.wallet import Wallet
from credentials.zhengzhao.agencies import agency_of_event_org
from ledger.audit.citizen_request import CITIZEN_DOMAIN
from ledger.audit.errors import AuditError
from ledger.audit.events import AccessEvent
from ledger.audit.receipts import Receipt
from ledger.merkle.errors import MerkleError
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.verify import root_from_inclusion_proof

__all__ = ["AccessEntry", "AccessHistory", "access_history", "check_access_history"]


@dataclass(frozen=True)
class AccessEntry:
    """One access to the citizen's data, and how far the wallet could check it.

    ``proof``: ``anchored`` (receipt and inclusion in the anchored checkpoint check out),
    ``receipt`` (the receipt's path checks out; no anchored checkpoint covers it yet) or
    ``mismatch`` (something does not add up: ``problem`` says what). ``agency_name``:
    the name of the issuing agency ``actor_org`` names, as the province registered it.
    """

    index: int
    time: str
    actor: str
    actor_org: str
    action: str
    resource: str
    purpose: str
    legal_basis: str
    outcome: str
    proof: str
    problem: str | None = None
    agency_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON (camelCase), for ``--json``."""
        return {
            "index": self.index,
            "time": self.time,
            "actor": self.actor,
            "actorOrg": self.actor_org,
            "action": self.action,
            "resource": self.resource,
            "purpose": self.purpose,
            "legalBasis": self.legal_basis,
            "outcome": self.outcome,
            "proof": self.proof,
            "problem": self.problem,
            "agencyName": self.agency_name,
        }


@dataclass(frozen=True)
class AccessHistory:
    """A province's answer to the citizen, checked: the entries and the anchored tree size."""

    holder: str
    log_id: int
    generated_at: str
    entries: list[AccessEntry]
    anchored_tree_size: int | None

    @property
    def consistent(self) -> bool:
        """Whether no entry is a mismatch."""
        return all(e.proof != "mismatch" for e in self.entries)


def _record_proof(
    record: Mapping[str, Any], event: AccessEvent, log_id: int, anchored: Mapping[str, Any] | None
) -> tuple[str, str | None]:
    index = record["index"]
    leaf = SM3_TREE.hash_leaf(event.digest())
    receipt = Receipt.from_json(record["receipt"])
    statement = receipt.batch.statement
    if event.log_id != log_id or statement.log_id != log_id:
        return "mismatch", "the event or receipt is from another log"
    if receipt.index != index or receipt.leaf_hash != leaf:
        return "mismatch", "the receipt is for another event"
    try:
        batch_root = root_from_inclusion_proof(
            SM3_TREE, index - statement.first_index, statement.count, leaf, receipt.path
        )
    except MerkleError:
        return "mismatch", "the receipt's path is malformed"
    if batch_root != statement.batch_root:
        return "mismatch", "the receipt's path does not lead to its batch root"
    inclusion = record.get("inclusion")
    if inclusion is None:
        return "receipt", None
    if anchored is None or (inclusion["treeSize"], inclusion["root"]) != (
        anchored["treeSize"],
        anchored["root"],
    ):
        return "mismatch", "the inclusion proof is not to the anchored checkpoint"
    try:
        root = root_from_inclusion_proof(
            SM3_TREE,
            index,
            int(inclusion["treeSize"]),
            leaf,
            [bytes.fromhex(p) for p in inclusion["proof"]],
        )
    except MerkleError:
        return "mismatch", "the inclusion proof is malformed"
    if root.hex() != inclusion["root"]:
        return "mismatch", "the inclusion proof does not lead to the anchored root"
    return "anchored", None


def _agency_name(record: Mapping[str, Any], actor_org: str) -> str | None:
    label = record.get("agency")
    if not isinstance(label, Mapping):
        return None
    name, code = label.get("name"), label.get("code")
    # Unsigned: shown only for the agency the signed actorOrg names.
    if not isinstance(name, str) or code is None or code != agency_of_event_org(actor_org):
        return None
    return name


def check_access_history(answer: Any, holder: str, log_id: int) -> AccessHistory:
    """Check a ``POST /citizen/access-history`` answer for ``holder`` from log ``log_id``.

    Each record's event must hash to its receipt's leaf, the receipt's path must lead to
    its batch root, and an inclusion proof must lead to the anchored checkpoint's root.
    The receipt signature and the checkpoint on chain are an auditor's checks.
    """
    try:
        if answer["holder"] != holder or answer["logId"] != log_id:
            raise WalletError("the province answered for another holder or log")
        anchored = answer.get("anchored")
        entries = []
        for record in answer["records"]:
            event = AccessEvent.from_json(record["event"])
            proof, problem = _record_proof(record, event, log_id, anchored)
            entries.append(
                AccessEntry(
                    index=int(record["index"]),
                    time=record["event"]["time"],
                    actor=event.actor,
                    actor_org=event.actor_org,
                    action=event.action,
                    resource=event.resource,
                    purpose=event.purpose,
                    legal_basis=event.legal_basis,
                    outcome=event.outcome,
                    proof=proof,
                    problem=problem,
                    agency_name=_agency_name(record, event.actor_org),
                )
            )
        return AccessHistory(
            holder=holder,
            log_id=log_id,
            generated_at=str(answer["generatedAt"]),
            entries=entries,
            anchored_tree_size=None if anchored is None else int(anchored["treeSize"]),
        )
    except (KeyError, TypeError, ValueError, AuditError):
        raise WalletError("the province's access history answer is malformed") from None


def access_history(wallet: Wallet, api: RemoteApi) -> AccessHistory:
    """Ask ``api`` (no token: the holder's signature authenticates) for the access history."""
    offer = api.post("/citizen/challenge", {"holder": wallet.did})
    if not isinstance(offer, dict) or offer.get("domain") != CITIZEN_DOMAIN:
        raise WalletError("the province offered a challenge for something else")
    challenge, log_id = offer.get("challenge"), offer.get("logId")
    if not isinstance(challenge, str) or not isinstance(log_id, int):
        raise WalletError("the province's challenge is malformed")
    signature = wallet.sign_access_request(log_id, challenge)
    answer = api.post(
        "/citizen/access-history",
        {"holder": wallet.did, "challenge": challenge, "signature": signature},
    )
    return check_access_history(answer, wallet.did, log_id)

"""The citizen view: who accessed my data, answered only to the data subject.

1. The citizen asks for a challenge for their holder DID (``did:key`` of an
   SM2 key, so the DID itself names the key).
2. They sign ``SignedPayload("tongban/citizen-view/v1", JCS({"challenge",
   "holder", "logId"}))`` with the holder key.
3. The province checks the signature against the key in the DID, consumes the
   challenge (single use, expiring, bound to that DID) and answers with every
   access event whose subject pseudonym is the DID's, each with its receipt and,
   when an anchored checkpoint covers it, an inclusion proof to that checkpoint.

The lookup is by the keyed pseudonym of the DID; a raw ID number is never a
key. The answer itself is an access to personal data and is logged too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ledger.audit.anchoring import CheckpointAnchorer, CheckpointState, StoredCheckpoint
from ledger.audit.citizen_request import request_payload
from ledger.audit.errors import AuditError
from ledger.audit.events import Caller, EventInput, Outcome
from ledger.audit.log import AppendResult, AuditLog
from ledger.clock import now_ms
from ledger.crypto import multikey
from ledger.crypto.errors import CryptoError
from ledger.crypto.signer import verify_payload
from ledger.crypto.sm2 import Sm2PublicKey
from ledger.store.challenges import ChallengeError, Challenges

CHALLENGE_PURPOSE = "citizen-view"
CHALLENGE_TTL_MS = 5 * 60 * 1000
CITIZEN = Caller("citizen", "self")


class CitizenAccessError(AuditError):
    """A citizen request was refused (bad DID, signature or challenge)."""


def holder_key(did: str) -> Sm2PublicKey:
    """The SM2 key named by a ``did:key`` holder DID."""
    prefix = "did:key:"
    if not did.startswith(prefix) or len(did) > 200:
        raise CitizenAccessError("the holder must be a did:key DID of an SM2 key")
    try:
        return multikey.decode(did[len(prefix) :])
    except (CryptoError, ValueError):
        raise CitizenAccessError("the holder DID does not name an SM2 public key") from None


@dataclass(frozen=True)
class AccessRecord:
    """One access to the citizen's data, with what proves it is in the log."""

    result: AppendResult
    checkpoint: StoredCheckpoint | None
    inclusion_proof: tuple[bytes, ...] | None


@dataclass(frozen=True)
class CitizenReport:
    """The answer to a citizen: their access records and the latest anchored checkpoint."""

    holder: str
    records: list[AccessRecord]
    anchored: StoredCheckpoint | None


class CitizenView:
    """Answers citizens' signed requests from one province's log."""

    def __init__(
        self,
        audit_log: AuditLog,
        anchorer: CheckpointAnchorer,
        challenges: Challenges,
        *,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        """Serve ``audit_log``'s events, proving them against ``anchorer``'s checkpoints."""
        self.log = audit_log
        self.anchorer = anchorer
        self.challenges = challenges
        self.clock = clock

    def challenge(self, holder: str) -> str:
        """A fresh challenge for ``holder`` (valid five minutes, once)."""
        holder_key(holder)
        issued = self.challenges.issue(
            CHALLENGE_PURPOSE, self.clock(), CHALLENGE_TTL_MS, audience=holder
        )
        return issued.value

    def answer(
        self, holder: str, challenge: str, signature: bytes, request_id: str
    ) -> CitizenReport:
        """Check the signed request and list the holder's access events with proofs."""
        public_key = holder_key(holder)
        try:
            verify_payload(
                public_key, request_payload(self.log.log_id, holder, challenge), signature
            )
        except CryptoError:
            raise CitizenAccessError("the request's signature does not verify") from None
        try:
            self.challenges.consume(challenge, CHALLENGE_PURPOSE, self.clock(), audience=holder)
        except ChallengeError as exc:
            raise CitizenAccessError(f"refused: {exc}") from None
        anchored_list = self.anchorer.checkpoints(
            state=CheckpointState.ANCHORED, limit=1, newest_first=True
        )
        anchored = anchored_list[0] if anchored_list else None
        records = []
        for result in self.log.events_about(holder):
            if anchored is not None and result.index < anchored.tree_size:
                proof = tuple(self.log.inclusion_proof(result.index, anchored.tree_size))
                records.append(AccessRecord(result, anchored, proof))
            else:
                records.append(AccessRecord(result, None, None))
        self.log.append(
            CITIZEN,
            EventInput(
                action="audit.citizen_view",
                resource="record:access_log",
                purpose="data-subject.access",
                legal_basis="prc.pipl.art45",
                outcome=Outcome.SUCCESS,
                request_id=request_id,
                subject_id=holder,
            ),
        )
        return CitizenReport(holder, records, anchored)

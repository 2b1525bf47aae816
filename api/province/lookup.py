"""Looking a certificate up by its 证照标识, without becoming an oracle (docs/dianzi-zhengzhao.md).

The province is the library of the certificates it issued: ``CertificateLibrary.find``
answers, for a 证照标识 bound to one of them (``credentials.issuance.zhengzhao_ids``),
what the national platform knows the certificate by (type, agency, issuer, validity,
status, anchoring) and nothing of its holder: no claim and no holder DID.

An identifier the caller may not see (``may_see``) is answered exactly as one
that names nothing: ``find`` does the same work on both paths. It always runs the
same statements (the identifier's row, a credential row, the chain index's height),
builds one row, opens one sealed document, parses it and builds one answer: for an
identifier that names nothing the credential row is read for a digest no credential
has and a decoy row stands in, its document a decoy shaped and sized like a stored
degree certificate, sealed at start-up, so that neither the reads nor the
decryption nor the parsing tells the two apart. ``scripts/bench_zhengzhao_lookup.py`` measures what
remains (an index hit against a miss).

Claims come only with the holder's authorization: ``disclosed_claims`` gives the
claims a presentation disclosed for the looked-up credential, once the province's
verifier has found the whole presentation VALID (holder signature, holder binding,
this province's single-use challenge and domain, every disclosure).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from credentials.disclosure import reveal
from credentials.errors import UnknownCredentialError
from credentials.issuance import (
    AnchoringStatus,
    CredentialIssuer,
    zhengzhao_ids,
)
from credentials.issuance.store import IssuedRow, anchoring_of
from credentials.times import parse_ms
from credentials.verify.outcome import Passed
from credentials.verify.parse import load_presentation
from credentials.verify.result import VerificationResult
from credentials.zhengzhao.identifier import ZhengzhaoId
from credentials.zhengzhao.profile import MEMBER
from ledger.audit.events import EventInput, Outcome
from ledger.chain.contracts.credential_anchor import DigestStatus
from ledger.crypto import sm4
from ledger.crypto.sm3 import sm3

from .access import Declaration, access_event

__all__ = [
    "LOOKUP_ACTION",
    "LOOKUP_RECORD",
    "CertificateFacts",
    "CertificateLibrary",
    "Lookup",
    "LookupOutcome",
    "disclosed_claims",
    "lookup_event",
]

LOOKUP_ACTION: Final = "zhengzhao.lookup"
"""The action of every lookup's access event."""

LOOKUP_RECORD: Final = "record:zhengzhao_lookup"
"""The resource of a lookup answered 404 or 422 (unknown, not visible, malformed)."""

# A digest no credential has (SM3 output of a fixed label): the unknown path reads it.
_DECOY_DIGEST: Final = sm3(b"tongban zhengzhao lookup decoy")
# The size of a stored degree certificate (3.2 KB), so
# that opening the decoy costs what opening a credential does.
_DECOY_SIZE: Final = 3180


class LookupOutcome(StrEnum):
    """How one lookup ended; ``UNKNOWN`` and ``NOT_VISIBLE`` are answered alike."""

    FOUND = "found"
    UNKNOWN = "unknown"
    NOT_VISIBLE = "not_visible"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class CertificateFacts:
    """What a lookup answers of a certificate: nothing of its holder."""

    identifier: str
    type_code: str
    type_name: str
    agency_name: str
    agency_code: str
    jurisdiction: str
    trust_grade: str
    issuer: str
    valid_from: str | None
    valid_until: str | None
    status: str
    """``valid``, ``suspended``, ``revoked`` (as requested here) or ``expired``."""
    anchoring: AnchoringStatus | None


@dataclass(frozen=True)
class Lookup:
    """The outcome of ``find``: the facts only when the caller may have them."""

    outcome: LookupOutcome
    facts: CertificateFacts | None = None
    digest: bytes | None = None
    """The credential's digest when it is answered: for the access event."""
    holder: str | None = None
    """The holder DID when it is answered: the event's data subject, never in the answer."""


def _decoy_document() -> bytes:
    """A stand-in shaped like a stored degree certificate: as many members, as long."""

    def hex_digest() -> str:
        return secrets.token_hex(32)

    member = {
        "identifier": "1.2.156.3005.2." + "0" * 21 + "." + "0" * 18 + ".2026000000000.001.0",
        "typeCode": "0" * 21,
        "typeName": "学位证书",
        "issuingAgency": {"name": "演示省教育厅", "code": "0" * 18},
        "jurisdiction": "000000",
        "trustGrade": "B",
    }
    entries = [
        {
            "id": f"https://province.example/status-lists/1/{purpose}#128984",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": "128984",
            "statusListCredential": f"https://province.example/status-lists/1/{purpose}",
        }
        for purpose in ("revocation", "suspension")
    ]
    document: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/tongban/v1"],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": "did:tongban:0:0",
        "validFrom": "2000-01-01T00:00:00Z",
        "credentialSchema": {"id": "https://w3id.org/tongban/schemas/decoy/v1", "type": "S"},
        "credentialSubject": {
            "id": "did:key:z" + "0" * 48,
            "_sd": sorted(hex_digest() for _ in range(12)),
        },
        "credentialStatus": entries,
        MEMBER: member,
        "disclosures": [
            [secrets.token_urlsafe(16), f"/claim{n}", "演示值" + "0" * 20] for n in range(10)
        ],
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "sm2-jcs-2026",
            "created": "2000-01-01T00:00:00Z",
            "verificationMethod": "did:tongban:0:0#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z" + secrets.token_hex(64),
        },
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    document["proof"]["proofValue"] += "0" * max(0, _DECOY_SIZE - len(text.encode()))
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _status(document: Mapping[str, Any], requested: DigestStatus, now_ms: int) -> str:
    if requested is DigestStatus.REVOKED:
        return "revoked"
    if requested is DigestStatus.SUSPENDED:
        return "suspended"
    until = document.get("validUntil")
    if isinstance(until, str) and parse_ms(until) < now_ms:
        return "expired"
    return "valid"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _facts(
    document: Mapping[str, Any],
    requested: DigestStatus,
    anchoring: AnchoringStatus | None,
    now_ms: int,
) -> CertificateFacts:
    member = document.get(MEMBER)
    member = member if isinstance(member, Mapping) else {}
    agency = member.get("issuingAgency")
    agency = agency if isinstance(agency, Mapping) else {}
    valid_from, valid_until = document.get("validFrom"), document.get("validUntil")
    return CertificateFacts(
        identifier=_text(member.get("identifier")),
        type_code=_text(member.get("typeCode")),
        type_name=_text(member.get("typeName")),
        agency_name=_text(agency.get("name")),
        agency_code=_text(agency.get("code")),
        jurisdiction=_text(member.get("jurisdiction")),
        trust_grade=_text(member.get("trustGrade")),
        issuer=_text(document.get("issuer")),
        valid_from=valid_from if isinstance(valid_from, str) else None,
        valid_until=valid_until if isinstance(valid_until, str) else None,
        status=_status(document, requested, now_ms),
        anchoring=anchoring,
    )


class CertificateLibrary:
    """The province's certificates by 证照标识, over its credential issuer's store."""

    def __init__(self, issuer: CredentialIssuer) -> None:
        """Answer from ``issuer``'s store; seals the decoy with its data key."""
        self.issuer = issuer
        sealed = sm4.seal(issuer.data_key, _decoy_document(), _DECOY_DIGEST)
        # A row as IssuedRow.COLUMNS reads it: an anchored batch of 1,024, depth 10.
        self._decoy_row = (sealed, 1, 0, bytes(32 * 10), bytes(32), 1024, "anchored", 1, 0, 0, None)

    def find(self, identifier: ZhengzhaoId, may_see: Callable[[str], bool]) -> Lookup:
        """The facts of the certificate ``identifier`` names, if ``may_see`` its agency code.

        ``UNKNOWN`` (no certificate issued here has it) and ``NOT_VISIBLE`` (one
        has, of an agency the caller may not see) do the same reads and work.
        """
        issuer = self.issuer
        with issuer.db.read() as tx:
            bound = zhengzhao_ids.digest_of(tx, str(identifier))
            probe = _DECOY_DIGEST if bound is None else bound
            try:
                row = IssuedRow.read(tx, probe)
                found = bound is not None
            except UnknownCredentialError:
                # The decoy stands in for the missing row: built, opened, parsed and
                # described like one.
                row, found = IssuedRow.from_row(self._decoy_row), False
        opened = sm4.open(issuer.data_key, row.document, probe if found else _DECOY_DIGEST)
        document: dict[str, Any] = json.loads(opened)
        # One index read in every branch, anchored or not, found or not.
        height = None if issuer.indexed_height is None else issuer.indexed_height()
        facts = _facts(document, row.status, anchoring_of(probe, row, height), issuer.clock())
        visible = may_see(facts.agency_code)
        if not found or bound is None:
            return Lookup(LookupOutcome.UNKNOWN)
        if not visible:
            # Recorded as an unknown one is, without the credential or its holder: naming
            # them would cost a write (the subject's pseudonym) that the unknown path does
            # not make, and that difference was measurable (docs/benchmarks.md).
            return Lookup(LookupOutcome.NOT_VISIBLE)
        subject = document.get("credentialSubject")
        holder = subject.get("id") if isinstance(subject, Mapping) else None
        return Lookup(
            LookupOutcome.FOUND, facts, bound, holder if isinstance(holder, str) else None
        )


def disclosed_claims(
    presentation: object, verified: VerificationResult, digest: bytes
) -> dict[str, Any] | None:
    """The claims ``presentation`` discloses of the credential ``digest``, or None.

    Only when the province's verifier found the presentation VALID (``verified``)
    and it carries that credential; the subject's ``id`` (the holder DID) is left out.
    """
    if not verified.valid:
        return None
    loaded = load_presentation(presentation)
    if not isinstance(loaded, Passed):
        return None
    for credential in loaded.value.credentials:
        if credential.digest == digest:
            subject = credential.document.get("credentialSubject")
            if not isinstance(subject, Mapping):
                return None
            claims = reveal(subject, credential.disclosures)
            claims.pop("id", None)
            return claims
    return None


_OUTCOMES: Final = {
    LookupOutcome.FOUND: Outcome.SUCCESS,
    LookupOutcome.NOT_VISIBLE: Outcome.DENIED,
    LookupOutcome.UNKNOWN: Outcome.NOT_FOUND,
    LookupOutcome.MALFORMED: Outcome.INVALID,
}


def lookup_event(declared: Declaration, request_id: str, lookup: Lookup) -> EventInput:
    """The access event of one lookup attempt.

    An answered lookup names the credential as every credential event does,
    ``credential:<digest>``, with its holder as data subject (the citizen sees who
    looked their certificate up); an attempt answered 404 (unknown: ``not_found``;
    not visible to the caller: ``denied``) or 422 (``invalid``) names the route's
    record and no subject, so that recording it costs the same whichever it was.
    The identifier itself is never in the event.
    """
    resource = LOOKUP_RECORD if lookup.digest is None else f"credential:{lookup.digest.hex()}"
    return access_event(
        declared,
        request_id,
        LOOKUP_ACTION,
        resource,
        outcome=_OUTCOMES[lookup.outcome],
        subject_id=lookup.holder,
    )

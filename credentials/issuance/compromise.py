"""Key compromise: which credentials a compromised key voids, and how each is re-issued.

``CredentialIssuer.respond_to_compromise`` runs the workflow (list, revoke in
bulk, re-issue under a new key); this module answers its two questions.
"""

from __future__ import annotations

from typing import Any

from credentials.credential import IssueRequest, secured_form
from credentials.disclosure import reveal
from credentials.errors import ConfigurationError
from credentials.issuance.records import AnchoringState
from credentials.templates import template_by_schema
from credentials.zhengzhao.profile import MEMBER, Agency
from ledger.store.database import Transaction


def affected_by_compromise(tx: Transaction, key_id: str, compromised_from: int) -> list[bytes]:
    """Digests signed with ``key_id`` that a compromise from ``compromised_from`` voids.

    That is every credential whose batch was anchored at or after that time
    (Unix seconds, block time), and every one not anchored yet (it can only be
    anchored later), in issuing order.
    """
    rows = tx.fetchall(
        "SELECT i.digest FROM cred_issued i LEFT JOIN cred_batches b ON b.id = i.batch_id "
        "WHERE i.key_id = ? AND (b.state IS NULL OR b.state != ? OR b.block_time >= ?) "
        "ORDER BY i.seq",
        (key_id, AnchoringState.ANCHORED.value, compromised_from),
    )
    return [bytes(digest) for (digest,) in rows]


def reissue_request(document: dict[str, Any]) -> IssueRequest:
    """The request that issues ``document`` again: same claims, holder and validity period.

    The new credential gets a new ``id`` and new salts when it is issued, and, if
    the old one had a ``zhengzhao`` member, a new 证照标识 for the same agency.
    """
    secured = secured_form(document)
    template = template_by_schema(str(secured["credentialSchema"]["id"]))
    if template is None:
        raise ConfigurationError("a stored credential names an unknown schema")
    subject = reveal(secured["credentialSubject"], document.get("disclosures", []))
    holder = str(subject.pop("id"))
    member = secured.get(MEMBER)
    agency = None
    if isinstance(member, dict) and isinstance(member.get("issuingAgency"), dict):
        issuing = member["issuingAgency"]
        agency = Agency(code=str(issuing["code"]), name=str(issuing["name"]))
    return IssueRequest(
        template=template.name,
        holder=holder,
        claims=subject,
        valid_from=str(secured["validFrom"]),
        valid_until=secured.get("validUntil"),
        agency=agency,
    )

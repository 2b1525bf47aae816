"""What a printed certificate shows and carries: exactly the print disclosures.

A template's ``national.printed`` names the 照面信息 chosen for print. The
printed credential is the issued one derived (``credentials.holder``) with
exactly those disclosures: the QR and the PDF carry no other claim value, salt
or disclosure. A template without ``national.printed`` yet prints its clear
claims and the short list of ``FALLBACK_PRINTED``.

A scanned paper certificate has no holder: nobody signed a presentation, so
check (6) is reported SKIPPED ``not_applicable`` with a message saying so
(``on_paper``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Final

from credentials.anchor_proof import ANCHOR_MEMBER, anchor_proof_of
from credentials.credential import with_anchor_proof
from credentials.disclosure import claim_name
from credentials.errors import DisclosureError
from credentials.holder import derive_credential
from credentials.reasons import Check, CheckStatus, Reason
from credentials.templates import Template, template_by_type
from credentials.verify.result import VerificationResult

__all__ = [
    "FALLBACK_PRINTED",
    "PAPER_HOLDER_MESSAGE",
    "on_paper",
    "print_claims",
    "printed_credential",
    "template_of",
]

FALLBACK_PRINTED: Final[Mapping[str, tuple[str, ...]]] = {
    "degree-certificate": (
        "holderName",
        "degreeName",
        "fieldOfStudy",
        "awardingInstitution",
        "conferralDate",
        "certificateNumber",
    ),
    "business-licence": (
        "enterpriseType",
        "legalRepresentative",
        "registeredCapital",
        "establishmentDate",
        "registeredAddress",
        "registrationAuthority",
    ),
    "birth-medical-certificate": (
        "childName",
        "childGender",
        "dateOfBirth",
        "placeOfBirth",
        "issuingInstitution",
        "certificateNumber",
    ),
    "marriage-certificate": (
        "holderName",
        "spouseName",
        "registrationDate",
        "registrationAuthority",
        "certificateNumber",
    ),
}
"""Disclosable claims printed by a template whose national metadata names none yet."""

PAPER_HOLDER_MESSAGE: Final = (
    "a printed certificate (scanned QR) has no holder proof: holder binding does not apply to paper"
)
"""Check (6)'s message for a credential verified from its printed QR."""


def template_of(credential: Mapping[str, Any]) -> Template:
    """The packaged template of ``credential`` (by its type); ``DisclosureError`` if none."""
    types = credential.get("type")
    found = template_by_type(types[1]) if isinstance(types, list) and len(types) == 2 else None
    if found is None:
        raise DisclosureError("the credential is not of a packaged template")
    return found


def print_claims(template: Template) -> tuple[str, ...]:
    """The disclosable claims a printed certificate of ``template`` discloses, in template order.

    ``national.printed`` when the template names it (clear claims in it are shown
    anyway and need no disclosure), else ``FALLBACK_PRINTED``.
    """
    national = template.national
    chosen = national.printed if national is not None and national.printed else ()
    if not chosen:
        chosen = FALLBACK_PRINTED.get(template.name, ())
    wanted = set(chosen)
    return tuple(c for c in template.disclosable if c in wanted)


def printed_credential(credential: Mapping[str, Any]) -> dict[str, Any]:
    """``credential`` derived with exactly its template's print disclosures.

    The anchor proof travels in ``anchor`` (a legacy ``proof`` array is reshaped:
    neither the signature nor the digest covers it). Raises ``DisclosureError``
    if the credential lacks the disclosure of a printed claim, or is not anchored.
    """
    if ANCHOR_MEMBER not in credential and not isinstance(credential.get("proof"), list):
        raise DisclosureError("the credential is not anchored yet: nothing to print")
    shaped = credential
    if isinstance(credential.get("proof"), list):
        shaped = with_anchor_proof(credential, anchor_proof_of(credential))
    template = template_of(shaped)
    present = {claim_name(str(d[1])) for d in shaped.get("disclosures", [])}
    claims = [c for c in print_claims(template) if c in present]
    return derive_credential(shaped, claims)


def on_paper(result: VerificationResult) -> VerificationResult:
    """``result`` with check (6) saying that holder binding does not apply to paper."""
    checks = tuple(
        replace(c, message=PAPER_HOLDER_MESSAGE)
        if c.number == Check.PRESENTATION
        and c.status is CheckStatus.SKIPPED
        and c.reason_code == Reason.NOT_APPLICABLE
        else c
        for c in result.checks
    )
    return replace(result, checks=checks)

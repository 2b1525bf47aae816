"""Check (0), parse: I-JSON under the caps, the exact structure, the template's schema.

``load_credential`` and ``load_presentation`` take bytes, text or decoded JSON and
return the typed parsed document, or the failure with its reason code. A failure
names the element at fault (a member, a claim, a disclosure by position; in a
presentation, the credential by position) and points at it (``at``), never a
value; a member name that could be data itself is shown as ``*``
(``credentials.errors.nameable``). Nothing here reads the chain: the citizen's
wallet runs the same check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from credentials.anchor_proof import ANCHOR_PROOF_TYPE
from credentials.contexts import CONTEXT_FILES
from credentials.credential import ANCHOR_MEMBER, CONTEXT, secured_form
from credentials.cryptosuite import PROOF_TYPE
from credentials.did import check_did_key_form, parse_issuer_did
from credentials.disclosure import claim_name, escape_token, reveal, salt_length
from credentials.errors import InputRejectedError, SchemaViolationError, nameable
from credentials.holder import MAX_PRESENTED_CREDENTIALS
from credentials.ijson import CREDENTIAL_LIMITS, PRESENTATION_LIMITS, Limits, check, parse
from credentials.jcs import canonicalize
from credentials.reasons import Reason
from credentials.schema import validate
from credentials.templates import Template, template_by_schema, template_by_type
from credentials.vcdm import (
    CredentialModel,
    ModelViolation,
    as_list,
    check_credential,
    check_presentation,
)
from credentials.verify.outcome import CheckFailedError, Failed, Passed
from credentials.verify.zhengzhao_member import MEMBER, check_member
from ledger.crypto.sm3 import sm3

__all__ = [
    "JsonObject",
    "ParsedCredential",
    "ParsedPresentation",
    "load",
    "load_credential",
    "load_presentation",
    "member_names",
    "members_problem",
    "parse_credential",
    "parse_presentation",
]

JsonObject = dict[str, Any]
"""A decoded JSON object (its members are any JSON value)."""

_CREDENTIAL_KEYS = frozenset(
    {
        "@context",
        "id",
        "type",
        "name",
        "description",
        "issuer",
        "validFrom",
        "validUntil",
        "issuanceDate",
        "expirationDate",
        "credentialSchema",
        "credentialSubject",
        "credentialStatus",
        "termsOfUse",
        "evidence",
        "refreshService",
        "relatedResource",
        "disclosures",
        "proof",
        ANCHOR_MEMBER,
        MEMBER,
    }
)
_CREDENTIAL_REQUIRED = frozenset({"@context", "type", "issuer", "credentialSubject", "proof"})
# A certificate of a template also names itself and its schema, and says from when it holds.
_TEMPLATE_REQUIRED = frozenset({"id", "validFrom", "credentialSchema"})
_TEMPLATE_FORBIDDEN = frozenset({"issuanceDate", "expirationDate"})
# termsOfUse: the holder's purpose binding, checked at (6) (``purpose_binding``).
_PRESENTATION_KEYS = frozenset(
    {"@context", "id", "type", "holder", "verifiableCredential", "termsOfUse", "proof"}
)
_HEX = frozenset("0123456789abcdef")
_URN_UUID = re.compile(
    r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", re.ASCII
)
_NAMED_AT_MOST = 5


def member_names(names: Iterable[object]) -> str:
    """``names`` for a message: the nameable ones sorted, ``*`` for the rest, five at most."""
    shown = sorted({n for n in names if isinstance(n, str) and nameable(n)})
    hidden = any(not (isinstance(n, str) and nameable(n)) for n in names)
    listed = [*shown, "*"] if hidden else shown
    more = len(listed) - _NAMED_AT_MOST
    text = ", ".join(listed[:_NAMED_AT_MOST])
    return f"{text} and {more} more" if more > 0 else text


def _first_at(base: str, names: Iterable[object]) -> str | None:
    shown = sorted(n for n in names if isinstance(n, str) and nameable(n))
    return f"{base}/{escape_token(shown[0])}" if shown else None


def members_problem(
    present: Iterable[str], allowed: frozenset[str], required: frozenset[str]
) -> str:
    """What is wrong with an object's members, by name: ``lacks x and has unknown members y``."""
    unknown = set(present) - allowed
    missing = required - set(present)
    parts = []
    if missing:
        parts.append(f"lacks {member_names(missing)}")
    if unknown:
        parts.append(f"has unknown members {member_names(unknown)}")
    return " and ".join(parts)


@dataclass(frozen=True)
class ParsedCredential:
    """A credential that passed check (0), with what the other checks read from it.

    ``template`` is None for a credential issued through the VC API with a type
    that is no template's (its claims follow no Tongban schema); ``holder`` is the
    subject's SM2 ``did:key`` when the credential has exactly one subject with one.
    """

    document: JsonObject
    secured: JsonObject
    digest: bytes
    template: Template | None
    issuer: str
    issuer_chain: int
    issuer_id: int
    holder: str | None
    valid_from: int | None
    valid_until: int | None
    sd: frozenset[str]
    disclosures: list[list[Any]]
    issuer_proof: JsonObject
    anchor_proof: JsonObject | None
    model: CredentialModel


@dataclass(frozen=True)
class ParsedPresentation:
    """A presentation that passed check (0): the document, its holder, its credentials."""

    document: JsonObject
    holder: str
    credentials: tuple[ParsedCredential, ...]


def load(document: object, limits: Limits, *, text: bool = True) -> Any:
    """Decoded JSON within ``limits`` from bytes, text or already decoded JSON.

    With ``text`` false the document is decoded JSON whatever its type (a ``str`` is
    a JSON string, not text to parse). Raises ``InputRejectedError`` (its ``reason``
    a code of ``Reason``).
    """
    if text and isinstance(document, bytes | bytearray | memoryview | str):
        return parse(document, limits)
    check(document, limits)
    return document


def load_credential(document: object, *, text: bool = True) -> Passed[ParsedCredential] | Failed:
    """Check (0) for one credential given as bytes, text or decoded JSON (see ``load``)."""
    try:
        return Passed(parse_credential(load(document, CREDENTIAL_LIMITS, text=text)))
    except InputRejectedError as exc:
        return Failed(Reason(exc.reason), str(exc))
    except CheckFailedError as fail:
        return fail.failure


def load_presentation(document: object) -> Passed[ParsedPresentation] | Failed:
    """Check (0) for a presentation and each credential it carries."""
    try:
        return Passed(parse_presentation(load(document, PRESENTATION_LIMITS)))
    except InputRejectedError as exc:
        return Failed(Reason(exc.reason), str(exc))
    except CheckFailedError as fail:
        return fail.failure


def _is_hex(text: str) -> bool:
    return set(text) <= _HEX


def parse_credential(value: object, where: str = "credential", at: str = "") -> ParsedCredential:
    """Check (0) for one decoded credential; raises ``CheckFailedError``.

    ``where`` names the credential in messages, ``at`` is its JSON pointer in the
    document (``/verifiableCredential/2`` in a presentation). First the VC Data
    Model's rules (``credentials.vcdm``), then Tongban's: the issuer is a
    ``did:tongban``, contexts come from the packaged allow-list, and a certificate
    of a template follows its template exactly.
    """
    if not isinstance(value, dict):
        raise CheckFailedError(
            Reason.STRUCTURE_INVALID, f"the {where} is not a JSON object", at or None
        )
    keys = set(value)
    if not keys <= _CREDENTIAL_KEYS or not keys >= _CREDENTIAL_REQUIRED:
        raise CheckFailedError(
            Reason.STRUCTURE_INVALID,
            f"the {where} {members_problem(keys, _CREDENTIAL_KEYS, _CREDENTIAL_REQUIRED)}",
            _first_at(at, keys - _CREDENTIAL_KEYS) or at or None,
        )
    try:
        model = check_credential(value, at)
    except ModelViolation as broken:
        raise CheckFailedError(
            broken.reason, f"the {where} breaks the VC data model: {broken}", broken.pointer or None
        ) from None
    template = _template(value, model, where, at)
    if MEMBER in value:
        check_member(value[MEMBER], template, where, at)
    try:
        issuer_chain, issuer_id = parse_issuer_did(model.issuer)
    except ValueError:
        raise CheckFailedError(
            Reason.ISSUER_INVALID, f"the {where}'s issuer is not a did:tongban", f"{at}/issuer"
        ) from None
    disclosures = value.get("disclosures", [])
    if template is not None:
        subject = _subject(value, template, where, at)
        _check_disclosures(disclosures, template.disclosable, where, at)
        _check_claims(template, subject, disclosures, where, at)
        holder: str | None = str(subject["id"])
        sd = frozenset(subject["_sd"])
    else:
        sd, holder = _open_subjects(model, where, at)
        _check_disclosures(disclosures, None, where, at)
        _disclosures_not_in_clear(model, disclosures, where, at)
    issuer_proof, anchor_proof = _proofs(value, where, at)
    secured = secured_form(value)
    canonical = canonicalize(secured)
    if len(canonical) > CREDENTIAL_LIMITS.max_bytes:
        raise CheckFailedError(
            Reason.INPUT_TOO_LARGE, f"the {where} is larger than the credential cap"
        )
    return ParsedCredential(
        document=value,
        secured=secured,
        digest=sm3(canonical),
        template=template,
        issuer=model.issuer,
        issuer_chain=issuer_chain,
        issuer_id=issuer_id,
        holder=holder,
        valid_from=model.valid_from_ms,
        valid_until=model.valid_until_ms,
        sd=sd,
        disclosures=disclosures,
        issuer_proof=issuer_proof,
        anchor_proof=anchor_proof,
        model=model,
    )


def _template(value: JsonObject, model: CredentialModel, where: str, at: str) -> Template | None:
    """The credential's template, checked against its envelope; None for a VC API type."""
    kinds = model.types
    template = (
        template_by_type(kinds[1])
        if len(kinds) == 2 and kinds[0] == "VerifiableCredential"
        else None
    )
    if template is None:
        if any(template_by_type(kind) is not None for kind in kinds):
            raise CheckFailedError(
                Reason.TYPE_INVALID,
                f"the {where}'s type must be [VerifiableCredential, T] for a certificate T",
                f"{at}/type",
            )
        outside = [c for c in model.contexts if c not in CONTEXT_FILES]
        if outside or len(model.contexts) != len(value["@context"]):
            raise CheckFailedError(
                Reason.CONTEXT_INVALID,
                f"the {where}'s @context holds a context outside the packaged allow-list",
                f"{at}/@context",
            )
        return None
    if value["@context"] != CONTEXT:
        raise CheckFailedError(Reason.CONTEXT_INVALID, f"the {where}'s @context must be {CONTEXT}")
    keys = set(value)
    if not keys >= _TEMPLATE_REQUIRED or keys & _TEMPLATE_FORBIDDEN:
        raise CheckFailedError(
            Reason.STRUCTURE_INVALID,
            f"the {where} "
            f"{members_problem(keys, _CREDENTIAL_KEYS - _TEMPLATE_FORBIDDEN, _TEMPLATE_REQUIRED)}",
            at or None,
        )
    if not isinstance(value["id"], str) or not _URN_UUID.fullmatch(value["id"]):
        raise CheckFailedError(Reason.ID_INVALID, f"the {where}'s id is not a urn:uuid")
    schema = value["credentialSchema"]
    if (
        not isinstance(schema, dict)
        or set(schema) != {"id", "type"}
        or schema["type"] != "JsonSchema"
        or not isinstance(schema["id"], str)
        or template_by_schema(schema["id"]) is not template
    ):
        raise CheckFailedError(
            Reason.SCHEMA_UNKNOWN, f"the {where}'s credentialSchema is not its template's"
        )
    return template


def _check_claims(
    template: Template,
    subject: JsonObject,
    disclosures: list[list[Any]],
    where: str,
    at: str,
) -> None:
    shown = {claim_name(d[1]) for d in disclosures}
    waived = frozenset(set(template.disclosable) - shown)
    try:
        # The envelope was checked member by member; the schema checks the claims.
        validate(
            template.subject_schema,
            reveal(subject, disclosures),
            not_required={"/credentialSubject": waived},
            at="/credentialSubject",
        )
    except SchemaViolationError as exc:
        # The pointer names a claim of the template: _subject and _check_disclosures
        # refused any other name first.
        raise CheckFailedError(
            Reason.SCHEMA_VIOLATION,
            f"the {where} breaks its schema at {exc.pointer}: {exc.rule}",
            at + exc.pointer,
        ) from None


def _subject(value: JsonObject, template: Template, where: str, at: str) -> JsonObject:
    subject = value["credentialSubject"]
    here = f"{at}/credentialSubject"
    if not isinstance(subject, dict) or "id" not in subject or "_sd" not in subject:
        raise CheckFailedError(
            Reason.SUBJECT_INVALID, f"the {where}'s credentialSubject lacks id or _sd", here
        )
    try:
        check_did_key_form(subject["id"])
    except ValueError:
        raise CheckFailedError(
            Reason.SUBJECT_INVALID, f"the {where}'s subject id is not a did:key", f"{here}/id"
        ) from None
    # A disclosable claim in clear, or a member the template does not have.
    stray = set(subject) - {"id", "_sd"} - set(template.clear)
    if stray:
        raise CheckFailedError(
            Reason.SUBJECT_INVALID,
            f"the {where}'s subject has members that may not be in clear: {member_names(stray)}",
            _first_at(here, stray) or here,
        )
    _check_sd(subject["_sd"], template.sd_slots, where, f"{here}/_sd")
    return subject


def _check_sd(sd: object, slots: int | None, where: str, here: str) -> None:
    """``_sd`` is sorted, distinct 64-hex digests (``slots`` of them for a template)."""
    if (
        not isinstance(sd, list)
        or (slots is not None and len(sd) != slots)
        or not all(isinstance(d, str) and len(d) == 64 and _is_hex(d) for d in sd)
        or any(sd[i] >= sd[i + 1] for i in range(len(sd) - 1))
    ):
        count = f"{slots} " if slots is not None else ""
        raise CheckFailedError(
            Reason.SD_INVALID,
            f"the {where}'s _sd must be {count}sorted, distinct 64-hex digests",
            here,
        )


def _open_subjects(
    model: CredentialModel, where: str, at: str
) -> tuple[frozenset[str], str | None]:
    """The ``_sd`` digests of a VC API credential's subject, and its holder if it has one."""
    here = f"{at}/credentialSubject"
    digests: set[str] = set()
    for index, subject in enumerate(model.subjects):
        if "_sd" not in subject:
            continue
        if model.subject_is_array:
            raise CheckFailedError(
                Reason.SD_INVALID,
                f"the {where} may disclose selectively only with one credentialSubject",
                f"{here}/{index}/_sd",
            )
        _check_sd(subject["_sd"], None, where, f"{here}/_sd")
        digests.update(subject["_sd"])
    holder = None
    if not model.subject_is_array and "id" in model.subjects[0]:
        try:
            check_did_key_form(model.subjects[0]["id"])
            holder = str(model.subjects[0]["id"])
        except ValueError:
            holder = None
    return frozenset(digests), holder


def _disclosures_not_in_clear(
    model: CredentialModel, disclosures: list[list[Any]], where: str, at: str
) -> None:
    if disclosures and (model.subject_is_array or "_sd" not in model.subjects[0]):
        raise CheckFailedError(
            Reason.DISCLOSURE_POINTER_INVALID,
            f"the {where} has disclosures but its credentialSubject has no _sd",
            f"{at}/disclosures",
        )
    for index, item in enumerate(disclosures):
        if claim_name(item[1]) in model.subjects[0]:
            raise CheckFailedError(
                Reason.DISCLOSURE_POINTER_INVALID,
                f"disclosure {index} of the {where} names a claim that is also in clear",
                f"{at}/disclosures/{index}",
            )


def _check_disclosures(
    disclosures: object, disclosable: Iterable[str] | None, where: str, at: str
) -> None:
    """Each disclosure is ``[salt, pointer, value]``, sorted by pointer, at most once each.

    ``disclosable``: the claims that may be disclosed (a template's); None: any claim
    name (``_sd`` itself and ``id`` excepted).
    """
    if not isinstance(disclosures, list):
        raise CheckFailedError(
            Reason.DISCLOSURE_MALFORMED,
            f"the {where}'s disclosures must be an array",
            f"{at}/disclosures",
        )
    allowed = None if disclosable is None else frozenset(disclosable)
    previous = ""
    for index, item in enumerate(disclosures):
        which = f"disclosure {index} of the {where}"
        here = f"{at}/disclosures/{index}"
        if (
            not isinstance(item, list)
            or len(item) != 3
            or not isinstance(item[0], str)
            or not isinstance(item[1], str)
        ):
            raise CheckFailedError(
                Reason.DISCLOSURE_MALFORMED, f"{which} is not [salt, pointer, value]", here
            )
        try:
            salt_length(item[0])
        except ValueError:
            raise CheckFailedError(
                Reason.DISCLOSURE_MALFORMED, f"{which} has a salt that is not base64url", here
            ) from None
        try:
            name = claim_name(item[1])
        except ValueError:
            raise CheckFailedError(
                Reason.DISCLOSURE_POINTER_INVALID,
                f"{which} has a pointer that is not /credentialSubject/<claim>",
                here,
            ) from None
        if (allowed is not None and name not in allowed) or name in ("_sd", "id"):
            raise CheckFailedError(
                Reason.DISCLOSURE_POINTER_INVALID,
                f"{which} names claim {member_names([name])}, which is not disclosable",
                here,
            )
        if item[1] == previous:
            raise CheckFailedError(
                Reason.DISCLOSURE_DUPLICATE, f"{which} discloses claim {name} a second time", here
            )
        if item[1] < previous:
            raise CheckFailedError(
                Reason.DISCLOSURE_MALFORMED,
                f"{which} (claim {name}) is out of order: disclosures are sorted by pointer",
                here,
            )
        previous = item[1]


def _proofs(value: JsonObject, where: str, at: str) -> tuple[JsonObject, JsonObject | None]:
    """The issuer's proof, and the anchor proof (``anchor``, or a legacy ``proof`` entry).

    ``proof`` is one DataIntegrityProof object, or an array of it (a legacy
    credential: followed by the anchor proof).
    """
    proofs = value["proof"]
    legacy = isinstance(proofs, list) and len(proofs) == 2
    if (
        not isinstance(proofs, dict | list)
        or (isinstance(proofs, list) and not 1 <= len(proofs) <= 2)
        or not all(isinstance(p, dict) for p in as_list(proofs))
        or as_list(proofs)[0].get("type") != PROOF_TYPE
        or (legacy and (proofs[1].get("type") != ANCHOR_PROOF_TYPE or ANCHOR_MEMBER in value))
    ):
        raise CheckFailedError(
            Reason.PROOF_SET_INVALID,
            f"the {where}'s proof must be one DataIntegrityProof (an object, or an array of "
            f"it); a legacy array may end with the {ANCHOR_PROOF_TYPE} instead of 'anchor'",
            f"{at}/proof",
        )
    anchor = proofs[1] if legacy else value.get(ANCHOR_MEMBER)
    if anchor is not None and (
        not isinstance(anchor, dict) or anchor.get("type") != ANCHOR_PROOF_TYPE
    ):
        raise CheckFailedError(
            Reason.ANCHOR_PROOF_MALFORMED,
            f"the {where}'s anchor is not a {ANCHOR_PROOF_TYPE}",
            f"{at}/{ANCHOR_MEMBER}",
        )
    return as_list(proofs)[0], anchor


def parse_presentation(value: object) -> ParsedPresentation:
    """Check (0) for a decoded presentation and its credentials; raises ``CheckFailedError``."""
    if not isinstance(value, dict):
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED, "the presentation is not a JSON object"
        )
    keys = set(value)
    required = _PRESENTATION_KEYS - {"id", "termsOfUse"}
    if not keys <= _PRESENTATION_KEYS or not required <= keys:
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED,
            f"the presentation {members_problem(keys, _PRESENTATION_KEYS, required)}",
            _first_at("", keys - _PRESENTATION_KEYS),
        )
    try:
        check_presentation(value)
    except ModelViolation as broken:
        raise CheckFailedError(
            broken.reason,
            f"the presentation breaks the VC data model: {broken}",
            broken.pointer or None,
        ) from None
    if value["@context"] != CONTEXT:
        raise CheckFailedError(
            Reason.CONTEXT_INVALID, f"the presentation's @context must be {CONTEXT}"
        )
    if value["type"] != ["VerifiablePresentation"]:
        raise CheckFailedError(
            Reason.TYPE_INVALID, "the presentation's type is not [VerifiablePresentation]"
        )
    try:
        check_did_key_form(value["holder"])
    except ValueError:
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED, "the holder is not a did:key"
        ) from None
    proof = value["proof"]
    if not isinstance(proof, dict) or proof.get("type") != PROOF_TYPE:
        raise CheckFailedError(
            Reason.PROOF_SET_INVALID, "the presentation's proof is one DataIntegrityProof"
        )
    embedded = value["verifiableCredential"]
    if not isinstance(embedded, list) or not embedded:
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED, "verifiableCredential must be a non-empty array"
        )
    if len(embedded) > MAX_PRESENTED_CREDENTIALS:
        raise CheckFailedError(
            Reason.TOO_MANY_CREDENTIALS,
            f"a presentation carries at most {MAX_PRESENTED_CREDENTIALS} credentials",
        )
    credentials = tuple(
        parse_credential(c, f"credential {i}", f"/verifiableCredential/{i}")
        for i, c in enumerate(embedded)
    )
    return ParsedPresentation(value, str(value["holder"]), credentials)

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
from credentials.credential import CONTEXT, secured_form
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
from credentials.times import parse_ms
from credentials.verify.outcome import CheckFailedError, Failed, Passed
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
        "issuer",
        "validFrom",
        "validUntil",
        "credentialSchema",
        "credentialSubject",
        "disclosures",
        "proof",
    }
)
_CREDENTIAL_REQUIRED = _CREDENTIAL_KEYS - {"validUntil", "disclosures"}
_PRESENTATION_KEYS = frozenset(
    {"@context", "id", "type", "holder", "verifiableCredential", "proof"}
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
    """A credential that passed check (0), with what the other checks read from it."""

    document: JsonObject
    secured: JsonObject
    digest: bytes
    template: Template
    issuer: str
    issuer_chain: int
    issuer_id: int
    holder: str
    valid_from: int
    valid_until: int | None
    sd: frozenset[str]
    disclosures: list[list[Any]]
    issuer_proof: JsonObject
    anchor_proof: JsonObject | None


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
    document (``/verifiableCredential/2`` in a presentation).
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
    if value["@context"] != CONTEXT:
        raise CheckFailedError(Reason.CONTEXT_INVALID, f"the {where}'s @context must be {CONTEXT}")
    template = _template(value, where)
    if not isinstance(value["id"], str) or not _URN_UUID.fullmatch(value["id"]):
        raise CheckFailedError(Reason.ID_INVALID, f"the {where}'s id is not a urn:uuid")
    try:
        issuer_chain, issuer_id = parse_issuer_did(value["issuer"])
    except ValueError:
        raise CheckFailedError(
            Reason.ISSUER_INVALID, f"the {where}'s issuer is not a did:tongban"
        ) from None
    try:
        valid_from = parse_ms(value["validFrom"])
        valid_until = None if "validUntil" not in value else parse_ms(value["validUntil"])
    except ValueError:
        raise CheckFailedError(
            Reason.DATES_INVALID, f"the {where}'s dates are not UTC date-times"
        ) from None
    if valid_until is not None and valid_until <= valid_from:
        raise CheckFailedError(
            Reason.DATES_INVALID, f"the {where}'s validUntil is not after validFrom"
        )
    subject = _subject(value, template, where, at)
    sd = subject["_sd"]
    disclosures = value.get("disclosures", [])
    _check_disclosures(disclosures, template, where, at)
    proofs = _proofs(value, where, at)
    secured = secured_form(value)
    shown = {claim_name(d[1]) for d in disclosures}
    waived = frozenset(set(template.disclosable) - shown)
    try:
        # The envelope was checked above, member by member; the schema checks the claims.
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
        issuer=str(value["issuer"]),
        issuer_chain=issuer_chain,
        issuer_id=issuer_id,
        holder=str(subject["id"]),
        valid_from=valid_from,
        valid_until=valid_until,
        sd=frozenset(sd),
        disclosures=disclosures,
        issuer_proof=proofs[0],
        anchor_proof=proofs[1] if len(proofs) == 2 else None,
    )


def _template(value: JsonObject, where: str) -> Template:
    kinds = value["type"]
    if (
        not isinstance(kinds, list)
        or len(kinds) != 2
        or kinds[0] != "VerifiableCredential"
        or not isinstance(kinds[1], str)
    ):
        raise CheckFailedError(
            Reason.TYPE_INVALID, f"the {where}'s type must be [VerifiableCredential, T]"
        )
    template = template_by_type(kinds[1])
    if template is None:
        raise CheckFailedError(
            Reason.TYPE_INVALID, f"the {where}'s type is not a known certificate"
        )
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
    sd = subject["_sd"]
    if (
        not isinstance(sd, list)
        or len(sd) != template.sd_slots
        or not all(isinstance(d, str) and len(d) == 64 and _is_hex(d) for d in sd)
        or any(sd[i] >= sd[i + 1] for i in range(len(sd) - 1))
    ):
        raise CheckFailedError(
            Reason.SD_INVALID,
            f"the {where}'s _sd must be {template.sd_slots} sorted, distinct 64-hex digests",
            f"{here}/_sd",
        )
    return subject


def _check_disclosures(disclosures: object, template: Template, where: str, at: str) -> None:
    if not isinstance(disclosures, list):
        raise CheckFailedError(
            Reason.DISCLOSURE_MALFORMED,
            f"the {where}'s disclosures must be an array",
            f"{at}/disclosures",
        )
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
        if name not in template.disclosable:
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


def _proofs(value: JsonObject, where: str, at: str) -> list[JsonObject]:
    proofs = value["proof"]
    if (
        not isinstance(proofs, list)
        or not 1 <= len(proofs) <= 2
        or not all(isinstance(p, dict) for p in proofs)
        or proofs[0].get("type") != PROOF_TYPE
        or (len(proofs) == 2 and proofs[1].get("type") != ANCHOR_PROOF_TYPE)
    ):
        raise CheckFailedError(
            Reason.PROOF_SET_INVALID,
            f"the {where}'s proof must be [DataIntegrityProof] or "
            f"[DataIntegrityProof, {ANCHOR_PROOF_TYPE}]",
            f"{at}/proof",
        )
    return proofs


def parse_presentation(value: object) -> ParsedPresentation:
    """Check (0) for a decoded presentation and its credentials; raises ``CheckFailedError``."""
    if not isinstance(value, dict):
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED, "the presentation is not a JSON object"
        )
    keys = set(value)
    required = _PRESENTATION_KEYS - {"id"}
    if not keys <= _PRESENTATION_KEYS or not required <= keys:
        raise CheckFailedError(
            Reason.PRESENTATION_MALFORMED,
            f"the presentation {members_problem(keys, _PRESENTATION_KEYS, required)}",
            _first_at("", keys - _PRESENTATION_KEYS),
        )
    if value["@context"] != CONTEXT:
        raise CheckFailedError(
            Reason.CONTEXT_INVALID, f"the presentation's @context must be {CONTEXT}"
        )
    if value["type"] != ["VerifiablePresentation"]:
        raise CheckFailedError(
            Reason.TYPE_INVALID, "the presentation's type is not [VerifiablePresentation]"
        )
    if "id" in value and not isinstance(value["id"], str):
        raise CheckFailedError(Reason.ID_INVALID, "the presentation's id must be a string")
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

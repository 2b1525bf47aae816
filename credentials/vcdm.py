"""The W3C Verifiable Credentials Data Model rules that an issuer and a verifier can check.

One place for every MUST of VC Data Model 2.0 (and of 1.1, which many wallets and
conformance tools still send) that can be checked on a document alone: the
issuer runs it on a credential submitted for issuance, the verifier in check (0),
the wallet before it stores a credential. Section numbers are those of the VCDM
2.0 Recommendation (15 May 2025):

- 4.3 Contexts: ``@context`` is an ordered set whose first item is the base
  context (``https://www.w3.org/ns/credentials/v2``; 1.1:
  ``https://www.w3.org/2018/credentials/v1``); further items are URLs or objects.
- 4.4 Identifiers: ``id``, where present, is one URL.
- 4.5 Types: ``type`` is present, one or more terms or URLs, and includes
  ``VerifiableCredential`` (``VerifiablePresentation`` for a presentation).
- 4.6 Names and Descriptions (with 11.1 Language and Base Direction):
  ``name``/``description`` are strings, language value objects, or non-empty arrays
  of those.
- 4.7 Issuer: ``issuer`` is present: a URL, or an object whose ``id`` is a URL.
- 4.8 Credential Subject: ``credentialSubject`` is present: one object or an array
  of objects, each with at least one claim; an ``id`` there is a URL.
- 4.9 Validity Period: ``validFrom``/``validUntil`` are dateTimeStamps, and
  ``validFrom`` is not later than ``validUntil``. VCDM 1.1 (4.6, 4.7):
  ``issuanceDate`` present, ``expirationDate`` optional, both XML Schema dateTimes
  (an offset is optional; without one the time is UTC, as VCDM 2.0 5.8 says). That
  the start is not later than the end is no 1.1 MUST; it is applied to 1.1 too.
  Tongban's own rule, not the model's: a document does not mix the two versions'
  date members.
- 4.10 Status, 4.11 Data Schemas, 5.4 Refreshing, 5.5 Terms of Use, 5.6 Evidence,
  5.10 Reserved Extension Points (``confidenceMethod``, ``renderMethod``): one object
  or a non-empty array of objects, each with a ``type`` of one or more terms or URLs
  and, if it has an ``id``, a URL; data schemas also need an ``id``. VCDM 1.1 (4.9,
  5.2) also requires the ``id`` of a status and of a refresh service.
- 5.3 Integrity of Related Resources: ``relatedResource`` is one or more objects,
  each with an ``id`` URL and ``digestSRI`` (SRI hash-expressions) or
  ``digestMultibase`` (``u`` base64url or ``z`` base58btc); no two share an ``id``.
- 4.13 Verifiable Presentations: ``holder`` a URL or an object with an ``id`` (1.1:
  a URL); ``verifiableCredential`` one or more objects; an enveloped credential
  (4.13.1) has a ``@context`` with the base context, a ``data:`` URL ``id`` and the
  type ``EnvelopedVerifiableCredential``; a credential secured only by
  the presentation (no ``proof`` of its own, 4.13.4) needs the presentation's
  ``holder``, equal to its ``issuer``; ``termsOfUse``/``refreshService`` as above.
- 4.12 Securing Mechanisms (with Data Integrity): ``proof``, where present, is one
  object or a non-empty array of objects, each with a ``type``.

A violation is a ``ModelViolation``: the reason code of check (0), the JSON
pointer of the member at fault and the rule, never a value.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credentials.contexts import CREDENTIALS_V2
from credentials.reasons import Reason

__all__ = [
    "CREDENTIALS_V1",
    "ENVELOPED_CREDENTIAL",
    "CredentialModel",
    "DataModel",
    "ModelViolation",
    "PresentationModel",
    "as_list",
    "check_credential",
    "check_presentation",
    "is_url",
    "issuer_of",
    "parse_date_time_stamp",
]


CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
"""The VCDM 1.1 base context."""


class DataModel(StrEnum):
    """The VC Data Model version a document follows, from its base context."""

    V2 = "2.0"
    V1_1 = "1.1"


_BASE = {CREDENTIALS_V2: DataModel.V2, CREDENTIALS_V1: DataModel.V1_1}


class ModelViolation(Exception):  # noqa: N818 - a finding, as check (0) names them
    """A document breaks a VCDM rule: the reason code, the member's pointer, the rule."""

    def __init__(self, reason: Reason, pointer: str, rule: str) -> None:
        """``pointer`` is an RFC 6901 pointer (``""`` = the document); ``rule`` has no value."""
        super().__init__(f"{pointer or 'the document'}: {rule}")
        self.reason = reason
        self.pointer = pointer
        self.rule = rule


@dataclass(frozen=True)
class CredentialModel:
    """What the data model says of a credential that follows it."""

    version: DataModel
    types: tuple[str, ...]
    issuer: str
    subjects: tuple[Mapping[str, Any], ...]
    subject_is_array: bool
    valid_from_ms: int | None
    valid_until_ms: int | None
    contexts: tuple[str, ...]


@dataclass(frozen=True)
class PresentationModel:
    """What the data model says of a presentation that follows it."""

    version: DataModel
    holder: str | None
    credentials: tuple[Any, ...]
    contexts: tuple[str, ...]


# RFC 3986 scheme, then anything without white space: what "a URL" can mean for a
# check that never resolves it (DIDs and urn:uuid are URLs here, as in VCDM).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+")
# XML Schema dateTime, years 0001-9999; a dateTimeStamp is one with the time zone.
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?", re.ASCII
)
_LANGUAGE_KEYS = frozenset({"@value", "@language", "@direction"})
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", re.ASCII)


def is_url(value: object) -> bool:
    """True for a string that is an absolute URL (scheme, colon, no white space)."""
    return isinstance(value, str) and _URL.fullmatch(value) is not None


def parse_date_time_stamp(value: object, *, zone_required: bool = True) -> int:
    """Milliseconds since the epoch of an XML Schema dateTimeStamp; ValueError if it is not one.

    The time zone is required (``Z`` or ``±hh:mm`` up to 14:00) unless
    ``zone_required`` is false (an XML Schema dateTime, as VCDM 1.1 dates are; one
    without a zone is UTC); fractions of any length are truncated to the
    millisecond; ``24:00:00`` is the next day's start.
    """
    if not isinstance(value, str):
        raise ValueError("not a string")
    match = _DATE_TIME.fullmatch(value)
    if match is None or (zone_required and match.group(8) is None):
        raise ValueError("not a dateTimeStamp")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction, zone = match.group(7), match.group(8)
    if year == 0 or not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise ValueError("not a calendar date")
    if hour == 24:
        if minute or second or (fraction and fraction.strip(".0")):
            raise ValueError("24:00:00 is the only time in hour 24")
    elif hour > 23 or minute > 59 or second > 59:
        raise ValueError("not a time of day")
    offset = 0
    if zone is not None and zone != "Z":
        zone_hours, zone_minutes = int(zone[1:3]), int(zone[4:6])
        if zone_minutes > 59 or zone_hours * 60 + zone_minutes > 14 * 60:
            raise ValueError("not a time zone offset")
        offset = (zone_hours * 60 + zone_minutes) * (1 if zone[0] == "+" else -1)
    millis = int((fraction[1:] + "000")[:3]) if fraction else 0
    seconds = calendar.timegm((year, month, day, hour, minute, second))
    return (seconds - offset * 60) * 1000 + millis


def issuer_of(document: Mapping[str, Any]) -> str:
    """The issuer's URL of a credential (``issuer`` or ``issuer.id``); ``""`` when it has none."""
    issuer = document.get("issuer", "")
    value = issuer.get("id", "") if isinstance(issuer, dict) else issuer
    return value if isinstance(value, str) else ""


def as_list(value: object) -> list[Any]:
    """A member that may be one value or an array of values, as a list."""
    return list(value) if isinstance(value, list) else [value]


def _fail(reason: Reason, pointer: str, rule: str) -> ModelViolation:
    return ModelViolation(reason, pointer, rule)


def _contexts(document: Mapping[str, Any], at: str) -> tuple[DataModel, tuple[str, ...]]:
    context = document.get("@context")
    here = f"{at}/@context"
    if not isinstance(context, list) or not context:
        raise _fail(Reason.CONTEXT_INVALID, here, "must be an ordered set (an array)")
    version = _BASE.get(context[0]) if isinstance(context[0], str) else None
    if version is None:
        raise _fail(
            Reason.CONTEXT_INVALID,
            f"{here}/0",
            f"the first item must be {CREDENTIALS_V2} (or {CREDENTIALS_V1} for VCDM 1.1)",
        )
    for index, item in enumerate(context[1:], start=1):
        if not (is_url(item) or isinstance(item, dict)):
            raise _fail(Reason.CONTEXT_INVALID, f"{here}/{index}", "must be a URL or an object")
    if len({c for c in context if isinstance(c, str)}) != sum(isinstance(c, str) for c in context):
        raise _fail(Reason.CONTEXT_INVALID, here, "is a set: a URL may appear once")
    return version, tuple(c for c in context if isinstance(c, str))


def _types(document: Mapping[str, Any], at: str, required: str) -> tuple[str, ...]:
    if "type" not in document:
        raise _fail(Reason.TYPE_INVALID, f"{at}/type", "is required")
    types = as_list(document["type"])
    if not types or not all(isinstance(t, str) and t for t in types):
        raise _fail(Reason.TYPE_INVALID, f"{at}/type", "must be one or more terms or URLs")
    if required not in types:
        raise _fail(Reason.TYPE_INVALID, f"{at}/type", f"must include {required}")
    return tuple(types)


def _optional_url(document: Mapping[str, Any], member: str, at: str, reason: Reason) -> None:
    if member in document and not is_url(document[member]):
        raise _fail(reason, f"{at}/{member}", "must be a URL")


def _language_values(value: object, pointer: str) -> None:
    if isinstance(value, list) and not value:
        raise _fail(Reason.STRUCTURE_INVALID, pointer, "must hold at least one value")
    for index, item in enumerate(as_list(value)):
        here = f"{pointer}/{index}" if isinstance(value, list) else pointer
        if isinstance(item, str):
            continue
        if (
            not isinstance(item, dict)
            or not set(item) <= _LANGUAGE_KEYS
            or not isinstance(item.get("@value"), str)
            or ("@language" in item and not _is_language_tag(item["@language"]))
            or ("@direction" in item and item["@direction"] not in ("ltr", "rtl"))
        ):
            raise _fail(
                Reason.STRUCTURE_INVALID,
                here,
                "must be a string or a language value object (@value, @language, @direction)",
            )


def _is_language_tag(value: object) -> bool:
    return isinstance(value, str) and _LANGUAGE_TAG.fullmatch(value) is not None


def _issuer(document: Mapping[str, Any], at: str) -> str:
    here = f"{at}/issuer"
    if "issuer" not in document:
        raise _fail(Reason.ISSUER_INVALID, here, "is required")
    issuer = document["issuer"]
    if isinstance(issuer, dict):
        if not is_url(issuer.get("id")):
            raise _fail(Reason.ISSUER_INVALID, f"{here}/id", "must be a URL")
        for member in ("name", "description"):
            if member in issuer:
                _language_values(issuer[member], f"{here}/{member}")
        return str(issuer["id"])
    if not is_url(issuer):
        raise _fail(Reason.ISSUER_INVALID, here, "must be a URL or an object with an id")
    return str(issuer)


def _subjects(document: Mapping[str, Any], at: str) -> tuple[tuple[Mapping[str, Any], ...], bool]:
    here = f"{at}/credentialSubject"
    if "credentialSubject" not in document:
        raise _fail(Reason.SUBJECT_INVALID, here, "is required")
    value = document["credentialSubject"]
    subjects = as_list(value)
    if not subjects:
        raise _fail(Reason.SUBJECT_INVALID, here, "must hold at least one subject")
    for index, subject in enumerate(subjects):
        pointer = f"{here}/{index}" if isinstance(value, list) else here
        if not isinstance(subject, dict) or not subject:
            raise _fail(Reason.SUBJECT_INVALID, pointer, "must be an object with claims")
        _optional_url(subject, "id", pointer, Reason.SUBJECT_INVALID)
    return tuple(subjects), isinstance(value, list)


def _date(document: Mapping[str, Any], member: str, at: str, version: DataModel) -> int | None:
    if member not in document:
        return None
    stamp = version is DataModel.V2
    try:
        return parse_date_time_stamp(document[member], zone_required=stamp)
    except ValueError:
        rule = "must be a dateTimeStamp (with a time zone)" if stamp else "must be a dateTime"
        raise _fail(Reason.DATES_INVALID, f"{at}/{member}", rule) from None


def _validity(
    document: Mapping[str, Any], version: DataModel, at: str
) -> tuple[int | None, int | None]:
    if version is DataModel.V2:
        names, other, rule = (
            ("validFrom", "validUntil"),
            ("issuanceDate", "expirationDate"),
            ("is VCDM 1.1; VCDM 2.0 uses validFrom and validUntil"),
        )
    else:
        names, other, rule = (
            ("issuanceDate", "expirationDate"),
            ("validFrom", "validUntil"),
            ("is VCDM 2.0; VCDM 1.1 uses issuanceDate and expirationDate"),
        )
    for member in other:
        if member in document:
            raise _fail(Reason.DATES_INVALID, f"{at}/{member}", rule)
    if version is DataModel.V1_1 and "issuanceDate" not in document:
        raise _fail(Reason.DATES_INVALID, f"{at}/issuanceDate", "is required in VCDM 1.1")
    start, end = (_date(document, name, at, version) for name in names)
    if start is not None and end is not None and start > end:
        raise _fail(Reason.DATES_INVALID, f"{at}/{names[1]}", "must not be earlier than the start")
    return start, end


def _typed_objects(
    document: Mapping[str, Any], member: str, at: str, also: Sequence[str] = ()
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if member not in document:
        return
    value = document[member]
    if isinstance(value, list) and not value:
        raise _fail(Reason.STRUCTURE_INVALID, f"{at}/{member}", "must hold at least one object")
    for index, item in enumerate(as_list(value)):
        here = f"{at}/{member}/{index}" if isinstance(value, list) else f"{at}/{member}"
        if not isinstance(item, dict):
            raise _fail(Reason.STRUCTURE_INVALID, here, "must be an object")
        for required in ("type", *also):
            if required not in item:
                raise _fail(Reason.STRUCTURE_INVALID, f"{here}/{required}", "is required")
        if "type" in item:
            kinds = as_list(item["type"])
            if not kinds or not all(isinstance(t, str) and t for t in kinds):
                raise _fail(Reason.STRUCTURE_INVALID, f"{here}/type", "must be terms or URLs")
        _optional_url(item, "id", here, Reason.STRUCTURE_INVALID)
        yield here, item


# Members whose every object needs a type (4.10, 5.4, 5.5, 5.6, 5.10), and the other
# members each needs, by data model version.
_TYPED_MEMBERS: dict[DataModel, dict[str, tuple[str, ...]]] = {
    DataModel.V2: {
        "credentialStatus": (),
        "credentialSchema": ("id",),
        "refreshService": (),
        "termsOfUse": (),
        "evidence": (),
        "confidenceMethod": (),
        "renderMethod": (),
    },
    DataModel.V1_1: {
        "credentialStatus": ("id",),
        "credentialSchema": ("id",),
        "refreshService": ("id",),
        "termsOfUse": (),
        "evidence": (),
    },
}
_PRESENTATION_TYPED = ("termsOfUse", "refreshService")


def _check_typed(
    document: Mapping[str, Any], members: Mapping[str, Sequence[str]], at: str
) -> None:
    for member, also in members.items():
        for _ in _typed_objects(document, member, at, also):
            pass


# SRI hash-expression (W3C SRI 3.5, CSP base64 or base64url value, optional options).
_SRI = re.compile(r"(sha256|sha384|sha512)-[A-Za-z0-9+/_-]+={0,2}(\?\S*)?", re.ASCII)
# Multibase: base64url without padding (u) or base58btc (z).
_MULTIBASE = re.compile(r"u[A-Za-z0-9_-]+|z[1-9A-HJ-NP-Za-km-z]+", re.ASCII)


def _digests(value: object, pattern: re.Pattern[str], split: bool) -> bool:
    items = as_list(value)
    if not items or not all(isinstance(item, str) for item in items):
        return False
    for item in items:
        parts = item.split() if split else [item]
        if not parts or not all(pattern.fullmatch(part) for part in parts):
            return False
    return True


def _related_resources(document: Mapping[str, Any], at: str) -> None:
    if "relatedResource" not in document:
        return
    value = document["relatedResource"]
    if isinstance(value, list) and not value:
        raise _fail(Reason.STRUCTURE_INVALID, f"{at}/relatedResource", "must hold an object")
    seen: set[str] = set()
    for index, item in enumerate(as_list(value)):
        here = (
            f"{at}/relatedResource/{index}" if isinstance(value, list) else f"{at}/relatedResource"
        )
        if not isinstance(item, dict):
            raise _fail(Reason.STRUCTURE_INVALID, here, "must be an object")
        if not is_url(item.get("id")):
            raise _fail(Reason.STRUCTURE_INVALID, f"{here}/id", "must be a URL")
        if "digestSRI" not in item and "digestMultibase" not in item:
            raise _fail(Reason.STRUCTURE_INVALID, here, "needs digestSRI or digestMultibase")
        if "digestSRI" in item and not _digests(item["digestSRI"], _SRI, split=True):
            raise _fail(
                Reason.STRUCTURE_INVALID, f"{here}/digestSRI", "must be SRI hash-expressions"
            )
        if "digestMultibase" in item and not _digests(
            item["digestMultibase"], _MULTIBASE, split=False
        ):
            raise _fail(
                Reason.STRUCTURE_INVALID,
                f"{here}/digestMultibase",
                "must be multibase strings (u or z)",
            )
        if item["id"] in seen:
            raise _fail(Reason.STRUCTURE_INVALID, f"{here}/id", "repeats another resource's id")
        seen.add(item["id"])


def _proofs(document: Mapping[str, Any], at: str) -> None:
    if "proof" not in document:
        return
    value = document["proof"]
    proofs = as_list(value)
    if not proofs or not all(isinstance(p, dict) and "type" in p for p in proofs):
        raise _fail(
            Reason.PROOF_SET_INVALID, f"{at}/proof", "must be an object or an array of objects"
        )


def check_credential(document: object, at: str = "") -> CredentialModel:
    """Check a credential against every VCDM rule decidable on the document alone.

    Raises ``ModelViolation``. ``at`` is the credential's pointer in an enclosing
    document (``/verifiableCredential/0``).
    """
    if not isinstance(document, dict):
        raise _fail(Reason.STRUCTURE_INVALID, at, "a credential is a JSON object")
    version, contexts = _contexts(document, at)
    _optional_url(document, "id", at, Reason.ID_INVALID)
    types = _types(document, at, "VerifiableCredential")
    for member in ("name", "description"):
        if member in document:
            _language_values(document[member], f"{at}/{member}")
    issuer = _issuer(document, at)
    subjects, is_array = _subjects(document, at)
    start, end = _validity(document, version, at)
    _check_typed(document, _TYPED_MEMBERS[version], at)
    _related_resources(document, at)
    _proofs(document, at)
    return CredentialModel(version, types, issuer, subjects, is_array, start, end, contexts)


ENVELOPED_CREDENTIAL = "EnvelopedVerifiableCredential"
"""The type of an enveloped verifiable credential in a presentation (4.13.1)."""


def _enveloped(item: Mapping[str, Any], here: str) -> None:
    context = item.get("@context")
    if CREDENTIALS_V2 not in as_list(context):
        raise _fail(
            Reason.CONTEXT_INVALID,
            f"{here}/@context",
            f"must be present and include {CREDENTIALS_V2}",
        )
    if not (isinstance(item.get("id"), str) and item["id"].startswith("data:")):
        raise _fail(Reason.ID_INVALID, f"{here}/id", "must be a data: URL")
    if as_list(item.get("type")) != [ENVELOPED_CREDENTIAL]:
        raise _fail(Reason.TYPE_INVALID, f"{here}/type", f"must be {ENVELOPED_CREDENTIAL}")


def _presented(document: Mapping[str, Any], holder: str | None, at: str) -> tuple[Any, ...]:
    if "verifiableCredential" not in document:
        return ()
    value = document["verifiableCredential"]
    here = f"{at}/verifiableCredential"
    credentials = tuple(as_list(value))
    if not credentials:
        raise _fail(Reason.PRESENTATION_MALFORMED, here, "must hold at least one credential")
    for index, item in enumerate(credentials):
        pointer = f"{here}/{index}" if isinstance(value, list) else here
        if not isinstance(item, dict):
            raise _fail(Reason.PRESENTATION_MALFORMED, pointer, "must be an object")
        if ENVELOPED_CREDENTIAL in as_list(item.get("type")):
            _enveloped(item, pointer)
        elif "proof" not in item and "VerifiableCredential" in as_list(item.get("type")):
            # Secured only by the presentation's proof: a self-asserted credential.
            if holder is None:
                raise _fail(
                    Reason.PRESENTATION_MALFORMED,
                    f"{at}/holder",
                    "is required with a credential secured only by the presentation",
                )
            if issuer_of(item) != holder:
                raise _fail(
                    Reason.PRESENTATION_MALFORMED,
                    f"{pointer}/issuer",
                    "of a credential secured only by the presentation must be its holder",
                )
    return credentials


def check_presentation(document: object, at: str = "") -> PresentationModel:
    """Check a presentation against the VCDM rules decidable on it alone.

    Its credentials are checked only as far as the presentation's rules go (objects,
    enveloped form, self-asserted ones); ``check_credential`` checks each one.
    """
    if not isinstance(document, dict):
        raise _fail(Reason.PRESENTATION_MALFORMED, at, "a presentation is a JSON object")
    version, contexts = _contexts(document, at)
    _optional_url(document, "id", at, Reason.ID_INVALID)
    _types(document, at, "VerifiablePresentation")
    holder: str | None = None
    if "holder" in document:
        value = document["holder"]
        holder_id = value.get("id") if isinstance(value, dict) else value
        if not is_url(holder_id) or (version is DataModel.V1_1 and isinstance(value, dict)):
            rule = (
                "must be a URL"
                if version is DataModel.V1_1
                else ("must be a URL or an object with an id")
            )
            raise _fail(Reason.PRESENTATION_MALFORMED, f"{at}/holder", rule)
        holder = str(holder_id)
    credentials = _presented(document, holder, at)
    _check_typed(document, dict.fromkeys(_PRESENTATION_TYPED, ()), at)
    _proofs(document, at)
    return PresentationModel(version, holder, credentials, contexts)

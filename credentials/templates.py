"""Certificate templates: one per kind of electronic certificate (电子证照).

A template fixes the credential ``type``, the JSON Schema its claims must satisfy
(shipped in ``credentials/schemas/``, referenced from ``credentialSchema``), and
which claims are *disclosable* (replaced by salted digests, revealed only when
the holder chooses) and which stay *clear* (always shown, like the public
registration number of a business). Every claim is one of the two.

``sd_slots`` is the fixed length of the ``_sd`` array of every credential of
the template: the number of disclosable claims plus at least two decoys, rounded
up to a multiple of four, so the array's length says nothing about which
optional claims a credential holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from credentials.errors import SchemaDefinitionError, UnknownTemplateError
from credentials.schema import load_schema
from credentials.zhengzhao.profile import NationalMetadata

__all__ = ["TEMPLATES", "Template", "get_template", "template_by_schema", "template_by_type"]


@dataclass(frozen=True)
class Template:
    """A kind of certificate: its type, schema, and which claims are disclosable."""

    name: str
    credential_type: str
    title: str
    schema_file: str
    disclosable: tuple[str, ...]
    clear: tuple[str, ...] = ()
    national: NationalMetadata | None = None
    """GB/T 36903 metadata of the template's certificates (the ``zhengzhao`` member)."""
    schema: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Load the schema and check that the claim lists match its properties."""
        schema = load_schema(self.schema_file)
        object.__setattr__(self, "schema", schema)
        claims = set(self.claims)
        if set(self.disclosable) & set(self.clear):
            raise SchemaDefinitionError(f"{self.name}: a claim is both disclosable and clear")
        if set(self.disclosable) | set(self.clear) != claims:
            raise SchemaDefinitionError(
                f"{self.name}: disclosable + clear claims must be exactly the schema's claims"
            )
        if self.schema["properties"]["type"]["const"] != ["VerifiableCredential", self.type_]:
            raise SchemaDefinitionError(f"{self.name}: the schema's type does not match")

    @property
    def type_(self) -> str:
        """The certificate's own type (the second entry of ``type``)."""
        return self.credential_type

    @property
    def schema_id(self) -> str:
        """The schema's ``$id``, used as ``credentialSchema.id``."""
        return str(self.schema["$id"])

    @property
    def subject_schema(self) -> Mapping[str, Any]:
        """The schema of ``credentialSubject``."""
        subject: Mapping[str, Any] = self.schema["properties"]["credentialSubject"]
        return subject

    @property
    def claims(self) -> tuple[str, ...]:
        """Every claim name the schema defines (without ``id``), in schema order."""
        return tuple(k for k in self.subject_schema["properties"] if k != "id")

    @property
    def required_claims(self) -> frozenset[str]:
        """Claims a credential of this kind must carry when issued."""
        return frozenset(self.subject_schema.get("required", ())) - {"id"}

    @property
    def sd_slots(self) -> int:
        """Length of every ``_sd`` array: ``sd_slots_for`` its disclosable claims."""
        return sd_slots_for(len(self.disclosable))


def sd_slots_for(disclosable: int) -> int:
    """Length of an ``_sd`` array for ``disclosable`` claims: + >= 2 decoys, a multiple of 4."""
    return 4 * ((disclosable + 2 + 3) // 4)


TEMPLATES: dict[str, Template] = {
    t.name: t
    for t in (
        Template(
            name="degree-certificate",
            credential_type="DegreeCertificate",
            title="学位证书 Degree certificate",
            schema_file="degree-certificate-v1.json",
            disclosable=(
                "holderName",
                "gender",
                "dateOfBirth",
                "degreeLevel",
                "degreeName",
                "fieldOfStudy",
                "awardingInstitution",
                "conferralDate",
                "certificateNumber",
                "studyMode",
            ),
        ),
        Template(
            name="business-licence",
            credential_type="BusinessLicence",
            title="营业执照 Business licence",
            schema_file="business-licence-v1.json",
            clear=("unifiedSocialCreditCode", "enterpriseName"),
            disclosable=(
                "enterpriseType",
                "legalRepresentative",
                "registeredCapital",
                "establishmentDate",
                "businessScope",
                "registeredAddress",
                "registrationAuthority",
                "operatingPeriodEnd",
            ),
        ),
        Template(
            name="birth-medical-certificate",
            credential_type="BirthMedicalCertificate",
            title="出生医学证明 Birth medical certificate",
            schema_file="birth-medical-certificate-v1.json",
            disclosable=(
                "childName",
                "childGender",
                "dateOfBirth",
                "placeOfBirth",
                "birthWeightGrams",
                "birthLengthCm",
                "motherName",
                "fatherName",
                "issuingInstitution",
                "certificateNumber",
            ),
        ),
        Template(
            name="marriage-certificate",
            credential_type="MarriageCertificate",
            title="结婚证 Marriage certificate",
            schema_file="marriage-certificate-v1.json",
            disclosable=(
                "holderName",
                "holderDateOfBirth",
                "holderNationality",
                "spouseName",
                "spouseDateOfBirth",
                "spouseNationality",
                "registrationDate",
                "registrationAuthority",
                "certificateNumber",
            ),
        ),
    )
}
"""The packaged templates by name."""

_BY_SCHEMA = {t.schema_id: t for t in TEMPLATES.values()}
_BY_TYPE = {t.credential_type: t for t in TEMPLATES.values()}


def get_template(name: str) -> Template:
    """The template called ``name`` (``UnknownTemplateError`` if none)."""
    try:
        return TEMPLATES[name]
    except KeyError:
        raise UnknownTemplateError("no certificate template has that name") from None


def template_by_schema(schema_id: str) -> Template | None:
    """The template whose schema has ``$id`` ``schema_id``, or None."""
    return _BY_SCHEMA.get(schema_id)


def template_by_type(credential_type: str) -> Template | None:
    """The template of credential type ``credential_type``, or None."""
    return _BY_TYPE.get(credential_type)

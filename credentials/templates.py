"""Certificate templates: one per kind of electronic certificate (电子证照).

A template fixes the credential ``type``, the JSON Schema its claims must satisfy
(shipped in ``credentials/schemas/``, referenced from ``credentialSchema``), and
which claims are *disclosable* (replaced by salted digests, revealed only when
the holder chooses) and which stay *clear* (always shown, like the public
registration number of a business). Every claim is one of the two.

``national`` is the template's GB/T 36903 metadata (``credentials.zhengzhao.profile``):
its 证照类型代码 and name, defining authority, 信任等级, the 持证主体代码类型 and the
claims that hold the holder, the holder's code and the certificate number, and the
claims a printed certificate shows. ``docs/zhengzhao-metadata.md`` maps every
element to the credential. The defining authorities' codes are fictitious (see there).

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
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import validate_type_code
from credentials.zhengzhao.profile import HOLDER_ID_TYPES, TRUST_GRADES, NationalMetadata

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
        if self.national is not None:
            _check_national(self, self.national)

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


def _check_national(template: Template, national: NationalMetadata) -> None:
    """The national metadata is well formed and names only the template's claims."""
    try:
        validate_type_code(national.type_code)
    except IdentifierError as exc:
        raise SchemaDefinitionError(f"{template.name}: national type code: {exc}") from None
    if national.trust_grade not in TRUST_GRADES:
        raise SchemaDefinitionError(f"{template.name}: trust grade must be one of A-D")
    if (national.usage_note is not None) != (national.trust_grade == "A"):
        raise SchemaDefinitionError(f"{template.name}: a usage note goes with grade A only")
    if national.holder_id_type is not None and national.holder_id_type not in HOLDER_ID_TYPES:
        raise SchemaDefinitionError(f"{template.name}: unknown holder ID type")
    named = (national.holder_claim, national.holder_id_claim, national.number_claim)
    if not set(national.printed) | {n for n in named if n is not None} <= set(template.claims):
        raise SchemaDefinitionError(f"{template.name}: national metadata names a non-claim")
    # A citizen's identity number is personal: shown only when the holder discloses it.
    if national.holder_id_type == "111" and national.holder_id_claim in template.clear:
        raise SchemaDefinitionError(f"{template.name}: a 公民身份号码 may not be in clear")


_USAGE_NOTE_A = "此件由{agency}提供，仅供办理政务服务事项时使用"  # noqa: RUF001
"""The 加注 of grade A in the words of 国办函 (2016) No. 108, the agency named (its closing
有效期至 clause is the credential's ``validUntil``; docs/zhengzhao-metadata.md quotes it)."""


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
            national=NationalMetadata(
                type_code="11100000TB000001XB001",
                type_name="学位证书",
                defining_authority="教育部 (fictitious code)",
                trust_grade="A",
                usage_note=_USAGE_NOTE_A,
                printed=(
                    "holderName",
                    "degreeName",
                    "awardingInstitution",
                    "conferralDate",
                    "certificateNumber",
                ),
                holder_id_type="111",
                holder_claim="holderName",
                number_claim="certificateNumber",
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
            national=NationalMetadata(
                type_code="11100000TB0000028B001",
                type_name="营业执照",
                defining_authority="国家市场监督管理总局 (fictitious code)",
                trust_grade="A",
                usage_note=_USAGE_NOTE_A,
                printed=(
                    "enterpriseName",
                    "unifiedSocialCreditCode",
                    "enterpriseType",
                    "legalRepresentative",
                    "establishmentDate",
                    "registeredAddress",
                ),
                holder_id_type="001",
                holder_claim="enterpriseName",
                holder_id_claim="unifiedSocialCreditCode",
                number_claim="unifiedSocialCreditCode",
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
            national=NationalMetadata(
                type_code="11100000TB00000366001",
                type_name="出生医学证明",
                defining_authority="国家卫生健康委员会 (fictitious code)",
                trust_grade="A",
                usage_note=_USAGE_NOTE_A,
                printed=("childName", "childGender", "dateOfBirth", "certificateNumber"),
                holder_id_type="111",
                holder_claim="childName",
                number_claim="certificateNumber",
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
            national=NationalMetadata(
                type_code="11100000TB00000441001",
                type_name="结婚证",
                defining_authority="民政部 (fictitious code)",
                trust_grade="A",
                usage_note=_USAGE_NOTE_A,
                printed=("holderName", "spouseName", "registrationDate", "certificateNumber"),
                holder_id_type="111",
                holder_claim="holderName",
                number_claim="certificateNumber",
            ),
        ),
        Template(
            name="resident-certificate",
            credential_type="ResidentCertificate",
            title="居民身份证明 Resident certificate",
            schema_file="resident-certificate-v1.json",
            disclosable=(
                "holderName",
                "gender",
                "dateOfBirth",
                "ethnicity",
                "citizenIdNumber",
                "householdAddress",
                "issuingAuthority",
                "certificateNumber",
            ),
            national=NationalMetadata(
                type_code="11100000TB0000052U001",
                type_name="居民身份证明",
                defining_authority="公安部 (fictitious code)",
                trust_grade="A",
                usage_note=_USAGE_NOTE_A,
                printed=("holderName", "gender", "dateOfBirth", "certificateNumber"),
                holder_id_type="111",
                holder_claim="holderName",
                holder_id_claim="citizenIdNumber",
                number_claim="certificateNumber",
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

"""TB1's frozen vocabulary: member codes, constant strings and CBOR tags.

Both lists are part of the format: never reorder them, only append (a payload
written with a newer list cannot be read by an older decoder, so appending is a
change a province's verifiers must have before its issuers print with it).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CONSTANTS",
    "CONSTANT_CODE",
    "CONSTANT_OF",
    "KEYS",
    "KEY_CODE",
    "TAG_DID_KEY",
    "TAG_MULTIBASE",
    "TAG_TIME",
    "TAG_UUID",
]

KEYS: Final[tuple[str, ...]] = (
    # 0-28: members of a credential, its proof and its anchor
    "@context",
    "id",
    "type",
    "issuer",
    "validFrom",
    "validUntil",
    "credentialSchema",
    "credentialSubject",
    "_sd",
    "disclosures",
    "credentialStatus",
    "statusPurpose",
    "statusListIndex",
    "statusListCredential",
    "proof",
    "cryptosuite",
    "created",
    "verificationMethod",
    "proofPurpose",
    "proofValue",
    "anchor",
    "chainId",
    "contract",
    "issuerId",
    "root",
    "leafIndex",
    "treeSize",
    "auditPath",
    "blockNumber",
    # 29-36: the zhengzhao member (credentials.zhengzhao.profile)
    "zhengzhao",
    "identifier",
    "typeCode",
    "typeName",
    "issuingAgency",
    "jurisdiction",
    "trustGrade",
    "usageNote",
    # 37-: claims of the packaged templates (v1)
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
    "unifiedSocialCreditCode",
    "enterpriseName",
    "enterpriseType",
    "legalRepresentative",
    "registeredCapital",
    "establishmentDate",
    "businessScope",
    "registeredAddress",
    "registrationAuthority",
    "operatingPeriodEnd",
    "childName",
    "childGender",
    "placeOfBirth",
    "birthWeightGrams",
    "birthLengthCm",
    "motherName",
    "fatherName",
    "issuingInstitution",
    "holderDateOfBirth",
    "holderNationality",
    "spouseName",
    "spouseDateOfBirth",
    "spouseNationality",
    "registrationDate",
    "name",
    "code",
    # 73-: the certificate file (credentials.file_binding) and the resident certificate
    "relatedResource",
    "digestMultibase",
    "mediaType",
    "fileSize",
    "ethnicity",
    "citizenIdNumber",
    "householdAddress",
    "issuingAuthority",
)
"""Member names coded as integers (their index). Frozen: never reorder, only append."""

CONSTANTS: Final[tuple[str, ...]] = (
    "https://www.w3.org/ns/credentials/v2",
    "https://w3id.org/tongban/credentials/v1",
    "VerifiableCredential",
    "JsonSchema",
    "BitstringStatusListEntry",
    "revocation",
    "suspension",
    "DataIntegrityProof",
    "sm2-jcs-2026",
    "assertionMethod",
    "TongbanAnchorProof2026",
    "DegreeCertificate",
    "BusinessLicence",
    "BirthMedicalCertificate",
    "MarriageCertificate",
    "ResidentCertificate",
    "application/pdf",
    "application/ofd",
    "学位证书",
    "营业执照",
    "出生医学证明",
    "结婚证",
    "居民身份证明",
    "本电子证照由颁发机构提供\uff0c仅限办理政务服务使用",
    "此件由",
    "提供\uff0c仅供办理政务服务事项时使用",
)
"""String values coded as CBOR simple values (index i as simple value i below 20, i + 12
from 20: 20-23 are false, true, null, undefined). Frozen, append only: a string not in
the list (a changed type name or usage note) simply travels as text."""

TAG_MULTIBASE: Final = 1580
"""``"z" + base58btc(bytes)`` (a multibase proof value)."""
TAG_DID_KEY: Final = 1581
"""``"did:key:z" + base58btc(bytes)``."""
TAG_UUID: Final = 1582
"""``"urn:uuid:" + UUID`` as its 16 bytes."""
TAG_TIME: Final = 1583
"""A UTC ``YYYY-MM-DDTHH:MM:SSZ`` as seconds since 1970."""

KEY_CODE: Final = {k: i for i, k in enumerate(KEYS)}
"""Member name -> code."""
CONSTANT_CODE: Final = {v: (i if i < 20 else i + 12) for i, v in enumerate(CONSTANTS)}
"""Constant string -> CBOR simple value."""
CONSTANT_OF: Final = {code: v for v, code in CONSTANT_CODE.items()}
"""Simple value -> constant string."""

/**
 * The certificate templates of credentials/templates.py: their types, claim lists and the very
 * schema files the Python package ships (credentials/schemas/*.json, bundled as they are), and
 * each template's GB/T 36903 type code and name (the ``zhengzhao`` member must repeat them).
 * tests/webwallet/test_checks_tables.py asserts that these lists equal Python's.
 */
import birth from "../../../credentials/schemas/birth-medical-certificate-v1.json";
import business from "../../../credentials/schemas/business-licence-v1.json";
import degree from "../../../credentials/schemas/degree-certificate-v1.json";
import marriage from "../../../credentials/schemas/marriage-certificate-v1.json";
import resident from "../../../credentials/schemas/resident-certificate-v1.json";

function template(name, credentialType, schema, national, disclosable, clear = []) {
  const slots = 4 * Math.floor((disclosable.length + 2 + 3) / 4);
  return {
    name,
    credentialType,
    schema,
    schemaId: schema.$id,
    subjectSchema: schema.properties.credentialSubject,
    disclosable,
    clear,
    sdSlots: slots,
    national,
  };
}

/** Every packaged template, in credentials/templates.py's order. */
export const TEMPLATES = [
  template("degree-certificate", "DegreeCertificate", degree, { typeCode: "11100000TB000001XB001", typeName: "学位证书" }, [
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
  ]),
  template(
    "business-licence",
    "BusinessLicence",
    business, { typeCode: "11100000TB0000028B001", typeName: "营业执照" },
    [
      "enterpriseType",
      "legalRepresentative",
      "registeredCapital",
      "establishmentDate",
      "businessScope",
      "registeredAddress",
      "registrationAuthority",
      "operatingPeriodEnd",
    ],
    ["unifiedSocialCreditCode", "enterpriseName"],
  ),
  template("birth-medical-certificate", "BirthMedicalCertificate", birth, { typeCode: "11100000TB00000366001", typeName: "出生医学证明" }, [
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
  ]),
  template("marriage-certificate", "MarriageCertificate", marriage, { typeCode: "11100000TB00000441001", typeName: "结婚证" }, [
    "holderName",
    "holderDateOfBirth",
    "holderNationality",
    "spouseName",
    "spouseDateOfBirth",
    "spouseNationality",
    "registrationDate",
    "registrationAuthority",
    "certificateNumber",
  ]),
  template("resident-certificate", "ResidentCertificate", resident, { typeCode: "11100000TB0000052U001", typeName: "居民身份证明" }, [
    "holderName",
    "gender",
    "dateOfBirth",
    "ethnicity",
    "citizenIdNumber",
    "householdAddress",
    "issuingAuthority",
    "certificateNumber",
  ]),
];

const BY_TYPE = new Map(TEMPLATES.map((t) => [t.credentialType, t]));
const BY_SCHEMA = new Map(TEMPLATES.map((t) => [t.schemaId, t]));

/** The template of a credential type, or null. */
export function templateByType(kind) {
  return BY_TYPE.get(kind) ?? null;
}

/** The template whose schema has this $id, or null. */
export function templateBySchema(id) {
  return BY_SCHEMA.get(id) ?? null;
}

/** The JSON-LD contexts credentials/contexts.py packages (the allow-list of check (0)). */
export const CONTEXT_URLS = new Set([
  "https://www.w3.org/ns/credentials/v2",
  "https://www.w3.org/ns/did/v1.1",
  "https://w3id.org/tongban/credentials/v1",
  "https://www.w3.org/2018/credentials/v1",
  "https://www.w3.org/ns/credentials/examples/v2",
  "https://w3id.org/security/data-integrity/v2",
  "https://w3id.org/security/multikey/v1",
  "https://w3id.org/security/suites/ed25519-2020/v1",
]);

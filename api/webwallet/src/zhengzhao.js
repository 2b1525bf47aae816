/**
 * Check (0) of a credential's 电子证照 member ``zhengzhao``, ported from
 * credentials/verify/zhengzhao_member.py with the identifier rules it reads
 * (credentials/zhengzhao: GB 32100 统一社会信用代码, GB/T 2260 division structure, the
 * 证照标识 and its ISO/IEC 7064 MOD 37,36 check character). Same order, same reason codes.
 */
import { has, isObject, pyLength } from "./encoding.js";

const ROOT_ARC = "1.2.156.3005.2";
const ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const DIGITS = "0123456789";
const USCC_WEIGHTS = Array.from({ length: 17 }, (_, i) => Number(3n ** BigInt(i) % 31n));
const PROVINCES = new Set(
  "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split(" "),
);
const TRUST_GRADES = ["A", "B", "C", "D"];
const REQUIRED = ["identifier", "typeCode", "typeName", "issuingAgency", "jurisdiction", "trustGrade"];
const ALLOWED = new Set([...REQUIRED, "usageNote"]);
const TEXT_CAPS = { typeName: 64, usageNote: 256, identifier: 256 };

/** An identifier is not well formed (the field; never the value). */
class IdentifierError extends Error {
  constructor(field) {
    super(`${field} is malformed`);
    this.name = "IdentifierError";
  }
}

function within(chars, alphabet, field) {
  if (!chars.every((c) => alphabet.includes(c))) throw new IdentifierError(field);
}

function validateUscc(value, field = "unifiedSocialCreditCode") {
  if (typeof value !== "string") throw new IdentifierError(field);
  const chars = [...value];
  if (chars.length !== 18) throw new IdentifierError(field);
  within(chars, USCC_ALPHABET, field);
  within(chars.slice(2, 8), DIGITS, field);
  const total = chars.slice(0, 17).reduce((sum, c, i) => sum + USCC_ALPHABET.indexOf(c) * USCC_WEIGHTS[i], 0);
  if (USCC_ALPHABET[(31 - (total % 31)) % 31] !== chars[17]) throw new IdentifierError(field);
}

function validateTypeCode(value, field = "typeCode") {
  if (typeof value !== "string") throw new IdentifierError(field);
  const chars = [...value];
  if (chars.length !== 21) throw new IdentifierError(field);
  validateUscc(chars.slice(0, 18).join(""), field);
  within(chars.slice(18), DIGITS, field);
}

function parseDivisionCode(value) {
  const field = "jurisdiction";
  if (typeof value !== "string" || pyLength(value) !== 6) throw new IdentifierError(field);
  within([...value], DIGITS, field);
  if (value === "100000") return;
  if (!PROVINCES.has(value.slice(0, 2))) throw new IdentifierError(field);
  if (value.slice(2) === "0000") return;
  if (value.slice(2, 4) === "00") throw new IdentifierError(field);
}

function mod37x36(data) {
  let product = 36;
  for (const char of data) {
    const total = (product + ALPHANUMERIC.indexOf(char)) % 36 || 36;
    product = (2 * total) % 37;
  }
  return ALPHANUMERIC[(37 - product) % 36];
}

/** The type code and agency code of a valid 证照标识; throws IdentifierError. */
function parseZhengzhaoId(text) {
  if (typeof text !== "string" || pyLength(text) > 256) throw new IdentifierError("zhengzhaoId");
  if (!text.startsWith(`${ROOT_ARC}.`)) throw new IdentifierError("rootArc");
  const fields = text.slice(ROOT_ARC.length + 1).split(".");
  if (fields.length !== 5) throw new IdentifierError("zhengzhaoId");
  const [typeCode, agency, serial, version, check] = fields;
  if (pyLength(version) !== 3) throw new IdentifierError("version");
  within([...version], DIGITS, "version");
  const serialChars = [...serial];
  if (serialChars.length < 1 || serialChars.length > 32) throw new IdentifierError("serialNumber");
  within(serialChars, ALPHANUMERIC, "serialNumber");
  validateTypeCode(typeCode);
  validateUscc(agency, "issuingAgencyCode");
  if (pyLength(check) !== 1) throw new IdentifierError("checkCharacter");
  within([...check], ALPHANUMERIC, "checkCharacter");
  if (check !== mod37x36(typeCode + agency + serial + version)) throw new IdentifierError("checkCharacter");
  return { typeCode, agency };
}

function structure(member, fail) {
  const keys = isObject(member) ? Object.keys(member) : [];
  if (!isObject(member) || !REQUIRED.every((k) => has(member, k)) || !keys.every((k) => ALLOWED.has(k))) {
    throw fail("zhengzhao_malformed", "the zhengzhao member must hold exactly its members");
  }
  for (const name of keys.filter((k) => k !== "issuingAgency")) {
    const value = member[name];
    if (typeof value !== "string" || !(pyLength(value) > 0 && pyLength(value) <= (TEXT_CAPS[name] ?? 64))) {
      throw fail("zhengzhao_malformed", `zhengzhao.${name} is not a non-empty string within its cap`);
    }
  }
  const agency = member.issuingAgency;
  if (
    !isObject(agency) ||
    Object.keys(agency).length !== 2 ||
    !has(agency, "name") ||
    !has(agency, "code") ||
    typeof agency.name !== "string" ||
    typeof agency.code !== "string" ||
    !(pyLength(agency.name) > 0 && pyLength(agency.name) <= 128)
  ) {
    throw fail("zhengzhao_malformed", "zhengzhao.issuingAgency must be {name, code}, both strings");
  }
  for (const [name, validate] of [
    ["issuingAgency.code", () => validateUscc(agency.code)],
    ["typeCode", () => validateTypeCode(member.typeCode)],
    ["jurisdiction", () => parseDivisionCode(member.jurisdiction)],
  ]) {
    try {
      validate();
    } catch (error) {
      if (!(error instanceof IdentifierError)) throw error;
      throw fail("zhengzhao_malformed", `zhengzhao.${name} is malformed`);
    }
  }
}

/**
 * Check (0) of the ``zhengzhao`` member; ``national`` is the template's {typeCode, typeName}
 * (null: a type without national metadata). ``fail(reason, message)`` makes the error thrown.
 */
export function checkMember(member, national, fail) {
  structure(member, fail);
  const grade = member.trustGrade;
  if (!TRUST_GRADES.includes(grade)) throw fail("zhengzhao_trust_grade_invalid", "zhengzhao.trustGrade is not one of A-D");
  if (has(member, "usageNote") !== (grade === "A")) {
    throw fail("zhengzhao_trust_grade_invalid", "zhengzhao.usageNote goes with trust grade A, and only with it");
  }
  let identifier;
  try {
    identifier = parseZhengzhaoId(member.identifier);
  } catch (error) {
    if (!(error instanceof IdentifierError)) throw error;
    throw fail("zhengzhao_identifier_invalid", `the 证照标识 is invalid: ${error.message}`);
  }
  if (identifier.typeCode !== member.typeCode) {
    throw fail("zhengzhao_type_code_mismatch", "the 证照标识 names another type code than zhengzhao.typeCode");
  }
  if (identifier.agency !== member.issuingAgency.code) {
    throw fail("zhengzhao_agency_mismatch", "the 证照标识 names another agency than zhengzhao.issuingAgency.code");
  }
  if (national === null) {
    throw fail("zhengzhao_template_mismatch", "the type has no national metadata, yet it carries a zhengzhao member");
  }
  for (const name of ["typeCode", "typeName"]) {
    if (member[name] !== national[name]) throw fail("zhengzhao_template_mismatch", `zhengzhao.${name} is not its template's`);
  }
}

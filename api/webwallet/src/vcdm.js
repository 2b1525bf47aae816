/**
 * The W3C VC Data Model rules of credentials/vcdm.py that check (0) applies, in the same order
 * and with the same reason codes (VCDM 2.0 section numbers are in that module's docstring).
 */
import { daysInMonth } from "./schema.js";
import { get, has, isObject } from "./encoding.js";

export const CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2";
export const CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1";
const BASE = new Map([
  [CREDENTIALS_V2, "2.0"],
  [CREDENTIALS_V1, "1.1"],
]);

/** A document breaks a VCDM rule: the reason code, the member's pointer, the rule. */
export class ModelViolation extends Error {
  constructor(reason, pointer, rule) {
    super(`${pointer || "the document"}: ${rule}`);
    this.name = "ModelViolation";
    this.reason = reason;
    this.pointer = pointer;
  }
}

// Python's \s (str patterns are Unicode-aware there), so "a URL" means the same on both sides.
const URL = /^[A-Za-z][A-Za-z0-9+.-]*:[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/u;
const DATE_TIME =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})?$/u;
const LANGUAGE_KEYS = new Set(["@value", "@language", "@direction"]);
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/u;

/** Whether a value is an absolute URL (scheme, colon, no white space). */
export function isUrl(value) {
  return typeof value === "string" && URL.test(value);
}

/** A member that may be one value or an array of values, as an array. */
export function asList(value) {
  return Array.isArray(value) ? [...value] : [value];
}

function daysFromCivil(year, month, day) {
  // Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * Milliseconds since the epoch of an XML Schema dateTimeStamp (a dateTime if the zone is not
 * required; without one it is UTC); throws RangeError if it is not one.
 */
export function parseDateTimeStamp(value, zoneRequired = true) {
  if (typeof value !== "string") throw new RangeError("not a string");
  const match = DATE_TIME.exec(value);
  if (match === null || (zoneRequired && match[8] === undefined)) {
    throw new RangeError("not a dateTimeStamp");
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const fraction = match[7];
  const zone = match[8];
  if (year === 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new RangeError("not a calendar date");
  }
  if (hour === 24) {
    if (minute || second || (fraction && fraction.replace(/^[.0]+|[.0]+$/gu, ""))) {
      throw new RangeError("24:00:00 is the only time in hour 24");
    }
  } else if (hour > 23 || minute > 59 || second > 59) {
    throw new RangeError("not a time of day");
  }
  let offset = 0;
  if (zone !== undefined && zone !== "Z") {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(4, 6));
    if (minutes > 59 || hours * 60 + minutes > 14 * 60) throw new RangeError("not a zone offset");
    offset = (hours * 60 + minutes) * (zone[0] === "+" ? 1 : -1);
  }
  const millis = fraction ? Number((fraction.slice(1) + "000").slice(0, 3)) : 0;
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return (seconds - offset * 60) * 1000 + millis;
}

function fail(reason, pointer, rule) {
  return new ModelViolation(reason, pointer, rule);
}

function contexts(document, at) {
  const context = get(document, "@context");
  const here = `${at}/@context`;
  if (!Array.isArray(context) || context.length === 0) {
    throw fail("context_invalid", here, "must be an ordered set (an array)");
  }
  const version = typeof context[0] === "string" ? BASE.get(context[0]) : undefined;
  if (version === undefined) throw fail("context_invalid", `${here}/0`, "the first item");
  context.slice(1).forEach((item, i) => {
    if (!(isUrl(item) || isObject(item))) {
      throw fail("context_invalid", `${here}/${i + 1}`, "must be a URL or an object");
    }
  });
  const strings = context.filter((c) => typeof c === "string");
  if (new Set(strings).size !== strings.length) {
    throw fail("context_invalid", here, "is a set: a URL may appear once");
  }
  return [version, strings];
}

function types(document, at, required) {
  if (!has(document, "type")) throw fail("type_invalid", `${at}/type`, "is required");
  const kinds = asList(document.type);
  if (kinds.length === 0 || !kinds.every((t) => typeof t === "string" && t)) {
    throw fail("type_invalid", `${at}/type`, "must be one or more terms or URLs");
  }
  if (!kinds.includes(required)) throw fail("type_invalid", `${at}/type`, `must include ${required}`);
  return kinds;
}

function optionalUrl(document, member, at, reason) {
  if (has(document, member) && !isUrl(document[member])) {
    throw fail(reason, `${at}/${member}`, "must be a URL");
  }
}

function languageValues(value, pointer) {
  if (Array.isArray(value) && value.length === 0) {
    throw fail("structure_invalid", pointer, "must hold at least one value");
  }
  asList(value).forEach((item, index) => {
    const here = Array.isArray(value) ? `${pointer}/${index}` : pointer;
    if (typeof item === "string") return;
    if (
      !isObject(item) ||
      !Object.keys(item).every((k) => LANGUAGE_KEYS.has(k)) ||
      typeof get(item, "@value") !== "string" ||
      (has(item, "@language") &&
        !(typeof item["@language"] === "string" && LANGUAGE_TAG.test(item["@language"]))) ||
      (has(item, "@direction") && item["@direction"] !== "ltr" && item["@direction"] !== "rtl")
    ) {
      throw fail("structure_invalid", here, "must be a string or a language value object");
    }
  });
}

function issuerOf(document, at) {
  const here = `${at}/issuer`;
  if (!has(document, "issuer")) throw fail("issuer_invalid", here, "is required");
  const issuer = document.issuer;
  if (isObject(issuer)) {
    if (!isUrl(get(issuer, "id"))) throw fail("issuer_invalid", `${here}/id`, "must be a URL");
    for (const member of ["name", "description"]) {
      if (has(issuer, member)) languageValues(issuer[member], `${here}/${member}`);
    }
    return issuer.id;
  }
  if (!isUrl(issuer)) throw fail("issuer_invalid", here, "must be a URL or an object with an id");
  return issuer;
}

function subjects(document, at) {
  const here = `${at}/credentialSubject`;
  if (!has(document, "credentialSubject")) throw fail("subject_invalid", here, "is required");
  const value = document.credentialSubject;
  const list = asList(value);
  if (list.length === 0) throw fail("subject_invalid", here, "must hold at least one subject");
  list.forEach((subject, index) => {
    const pointer = Array.isArray(value) ? `${here}/${index}` : here;
    if (!isObject(subject) || Object.keys(subject).length === 0) {
      throw fail("subject_invalid", pointer, "must be an object with claims");
    }
    optionalUrl(subject, "id", pointer, "subject_invalid");
  });
  return [list, Array.isArray(value)];
}

function date(document, member, at, version) {
  if (!has(document, member)) return null;
  const stamp = version === "2.0";
  try {
    return parseDateTimeStamp(document[member], stamp);
  } catch {
    throw fail("dates_invalid", `${at}/${member}`, stamp ? "must be a dateTimeStamp" : "must be a dateTime");
  }
}

function validity(document, version, at) {
  const [names, other] =
    version === "2.0"
      ? [["validFrom", "validUntil"], ["issuanceDate", "expirationDate"]]
      : [["issuanceDate", "expirationDate"], ["validFrom", "validUntil"]];
  for (const member of other) {
    if (has(document, member)) throw fail("dates_invalid", `${at}/${member}`, "other version");
  }
  if (version === "1.1" && !has(document, "issuanceDate")) {
    throw fail("dates_invalid", `${at}/issuanceDate`, "is required in VCDM 1.1");
  }
  const start = date(document, names[0], at, version);
  const end = date(document, names[1], at, version);
  if (start !== null && end !== null && start > end) {
    throw fail("dates_invalid", `${at}/${names[1]}`, "must not be earlier than the start");
  }
  return [start, end];
}

function typedObjects(document, member, at, also) {
  if (!has(document, member)) return;
  const value = document[member];
  if (Array.isArray(value) && value.length === 0) {
    throw fail("structure_invalid", `${at}/${member}`, "must hold at least one object");
  }
  asList(value).forEach((item, index) => {
    const here = Array.isArray(value) ? `${at}/${member}/${index}` : `${at}/${member}`;
    if (!isObject(item)) throw fail("structure_invalid", here, "must be an object");
    for (const required of ["type", ...also]) {
      if (!has(item, required)) throw fail("structure_invalid", `${here}/${required}`, "is required");
    }
    const kinds = asList(item.type);
    if (kinds.length === 0 || !kinds.every((t) => typeof t === "string" && t)) {
      throw fail("structure_invalid", `${here}/type`, "must be terms or URLs");
    }
    optionalUrl(item, "id", here, "structure_invalid");
  });
}

const TYPED_MEMBERS = {
  "2.0": [
    ["credentialStatus", []],
    ["credentialSchema", ["id"]],
    ["refreshService", []],
    ["termsOfUse", []],
    ["evidence", []],
    ["confidenceMethod", []],
    ["renderMethod", []],
  ],
  "1.1": [
    ["credentialStatus", ["id"]],
    ["credentialSchema", ["id"]],
    ["refreshService", ["id"]],
    ["termsOfUse", []],
    ["evidence", []],
  ],
};

const SRI = /^(sha256|sha384|sha512)-[A-Za-z0-9+/_-]+={0,2}(\?[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*)?$/u;
const MULTIBASE = /^(u[A-Za-z0-9_-]+|z[1-9A-HJ-NP-Za-km-z]+)$/u;
const PY_SPLIT = /[\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

function digests(value, pattern, split) {
  const items = asList(value);
  if (items.length === 0 || !items.every((item) => typeof item === "string")) return false;
  return items.every((item) => {
    const parts = split ? item.split(PY_SPLIT).filter((p) => p) : [item];
    return parts.length > 0 && parts.every((part) => pattern.test(part));
  });
}

function relatedResources(document, at) {
  if (!has(document, "relatedResource")) return;
  const value = document.relatedResource;
  if (Array.isArray(value) && value.length === 0) {
    throw fail("structure_invalid", `${at}/relatedResource`, "must hold an object");
  }
  const seen = new Set();
  asList(value).forEach((item, index) => {
    const here = Array.isArray(value) ? `${at}/relatedResource/${index}` : `${at}/relatedResource`;
    if (!isObject(item)) throw fail("structure_invalid", here, "must be an object");
    if (!isUrl(get(item, "id"))) throw fail("structure_invalid", `${here}/id`, "must be a URL");
    if (!has(item, "digestSRI") && !has(item, "digestMultibase")) {
      throw fail("structure_invalid", here, "needs digestSRI or digestMultibase");
    }
    if (has(item, "digestSRI") && !digests(item.digestSRI, SRI, true)) {
      throw fail("structure_invalid", `${here}/digestSRI`, "must be SRI hash-expressions");
    }
    if (has(item, "digestMultibase") && !digests(item.digestMultibase, MULTIBASE, false)) {
      throw fail("structure_invalid", `${here}/digestMultibase`, "must be multibase strings");
    }
    if (seen.has(item.id)) throw fail("structure_invalid", `${here}/id`, "repeats an id");
    seen.add(item.id);
  });
}

function proofs(document, at) {
  if (!has(document, "proof")) return;
  const list = asList(document.proof);
  if (list.length === 0 || !list.every((p) => isObject(p) && has(p, "type"))) {
    throw fail("proof_set_invalid", `${at}/proof`, "must be an object or an array of objects");
  }
}

/** credentials.vcdm.check_credential: throws ModelViolation; returns what the model says. */
export function checkCredential(document, at = "") {
  if (!isObject(document)) throw fail("structure_invalid", at, "a credential is a JSON object");
  const [version, contextUrls] = contexts(document, at);
  optionalUrl(document, "id", at, "id_invalid");
  const kinds = types(document, at, "VerifiableCredential");
  for (const member of ["name", "description"]) {
    if (has(document, member)) languageValues(document[member], `${at}/${member}`);
  }
  const issuer = issuerOf(document, at);
  const [subjectList, isArray] = subjects(document, at);
  const [start, end] = validity(document, version, at);
  for (const [member, also] of TYPED_MEMBERS[version]) typedObjects(document, member, at, also);
  relatedResources(document, at);
  proofs(document, at);
  return {
    version,
    types: kinds,
    issuer,
    subjects: subjectList,
    subjectIsArray: isArray,
    validFromMs: start,
    validUntilMs: end,
    contexts: contextUrls,
  };
}

export const ENVELOPED_CREDENTIAL = "EnvelopedVerifiableCredential";

function issuerUrl(document) {
  const issuer = has(document, "issuer") ? document.issuer : "";
  const value = isObject(issuer) ? (has(issuer, "id") ? issuer.id : "") : issuer;
  return typeof value === "string" ? value : "";
}

function enveloped(item, here) {
  if (!asList(get(item, "@context")).includes(CREDENTIALS_V2)) {
    throw fail("context_invalid", `${here}/@context`, `must include ${CREDENTIALS_V2}`);
  }
  const id = get(item, "id");
  if (!(typeof id === "string" && id.startsWith("data:"))) {
    throw fail("id_invalid", `${here}/id`, "must be a data: URL");
  }
  const kinds = asList(get(item, "type"));
  if (!(kinds.length === 1 && kinds[0] === ENVELOPED_CREDENTIAL)) {
    throw fail("type_invalid", `${here}/type`, `must be ${ENVELOPED_CREDENTIAL}`);
  }
}

function presented(document, holder, at) {
  if (!has(document, "verifiableCredential")) return [];
  const value = document.verifiableCredential;
  const here = `${at}/verifiableCredential`;
  const list = asList(value);
  if (list.length === 0) throw fail("presentation_malformed", here, "must hold a credential");
  list.forEach((item, index) => {
    const pointer = Array.isArray(value) ? `${here}/${index}` : here;
    if (!isObject(item)) throw fail("presentation_malformed", pointer, "must be an object");
    const kinds = asList(get(item, "type"));
    if (kinds.includes(ENVELOPED_CREDENTIAL)) {
      enveloped(item, pointer);
    } else if (!has(item, "proof") && kinds.includes("VerifiableCredential")) {
      if (holder === null) {
        throw fail("presentation_malformed", `${at}/holder`, "is required here");
      }
      if (issuerUrl(item) !== holder) {
        throw fail("presentation_malformed", `${pointer}/issuer`, "must be its holder");
      }
    }
  });
  return list;
}

/** credentials.vcdm.check_presentation: throws ModelViolation. */
export function checkPresentation(document, at = "") {
  if (!isObject(document)) throw fail("presentation_malformed", at, "a presentation is an object");
  const [version] = contexts(document, at);
  optionalUrl(document, "id", at, "id_invalid");
  types(document, at, "VerifiablePresentation");
  let holder = null;
  if (has(document, "holder")) {
    const value = document.holder;
    const holderId = isObject(value) ? get(value, "id") : value;
    if (!isUrl(holderId) || (version === "1.1" && isObject(value))) {
      throw fail("presentation_malformed", `${at}/holder`, "must be a URL");
    }
    holder = holderId;
  }
  presented(document, holder, at);
  for (const member of ["termsOfUse", "refreshService"]) typedObjects(document, member, at, []);
  proofs(document, at);
}

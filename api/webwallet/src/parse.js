/**
 * Check (0), parse, of credentials/verify/parse.py on decoded JSON: I-JSON caps
 * (credentials/ijson.py ``check``), the VC Data Model, Tongban's own structure and the
 * template's schema. Same order of rules, same reason codes; a failure is a CheckFailed.
 */
import { canonicalize } from "./jcs.js";
import {
  base58Decode,
  compareCodePoints,
  get,
  has,
  hex,
  isObject,
  pyEquals,
} from "./encoding.js";
import { sm3 } from "./sm.js";
import { SchemaViolation, validate } from "./schema.js";
import { CONTEXT_URLS, templateBySchema, templateByType } from "./templates.js";
import { checkMember } from "./zhengzhao.js";
import { CREDENTIALS_V2, ModelViolation, asList, checkCredential, checkPresentation } from "./vcdm.js";

export const TONGBAN_V1 = "https://w3id.org/tongban/credentials/v1";
export const CONTEXT = [CREDENTIALS_V2, TONGBAN_V1];
export const PROOF_TYPE = "DataIntegrityProof";
export const ANCHOR_PROOF_TYPE = "TongbanAnchorProof2026";
export const ANCHOR_MEMBER = "anchor";
export const ZHENGZHAO_MEMBER = "zhengzhao";
export const MAX_PRESENTED_CREDENTIALS = 50;

/** A failure of one check: the reason code (credentials/reasons.py) and a message with no value. */
export class CheckFailed extends Error {
  constructor(reason, message, at = null) {
    super(message);
    this.name = "CheckFailed";
    this.reason = reason;
    this.at = at;
  }
}

// ---------------------------------------------------------------- I-JSON (ijson.check)

export const MAX_SAFE_INTEGER = 2 ** 53 - 1;
export const CREDENTIAL_LIMITS = { maxBytes: 64 * 1024, maxDepth: 16, maxArray: 1000 };
export const PRESENTATION_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 16, maxArray: 1000 };
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** credentials.ijson.check on decoded JSON: types, numbers, lone surrogates, depth, array caps. */
export function checkJson(value, limits) {
  const stack = [[value, 1]];
  while (stack.length) {
    const [item, depth] = stack.pop();
    if (typeof item === "string") {
      if (LONE_SURROGATE.test(item)) {
        throw new CheckFailed("input_invalid_string", "a string has a lone surrogate");
      }
    } else if (typeof item === "boolean" || item === null) {
      continue;
    } else if (typeof item === "number") {
      if (!Number.isFinite(item) || Math.abs(item) > MAX_SAFE_INTEGER) {
        throw new CheckFailed("input_number_out_of_range", "a number is outside +-(2^53 - 1)");
      }
    } else if (Array.isArray(item)) {
      if (depth > limits.maxDepth) {
        throw new CheckFailed("input_too_deep", `the document nests deeper than ${limits.maxDepth}`);
      }
      if (item.length > limits.maxArray) {
        throw new CheckFailed("input_array_too_long", `an array has more than ${limits.maxArray} items`);
      }
      for (const member of item) stack.push([member, depth + 1]);
    } else if (isObject(item)) {
      if (depth > limits.maxDepth) {
        throw new CheckFailed("input_too_deep", `the document nests deeper than ${limits.maxDepth}`);
      }
      for (const [key, member] of Object.entries(item)) {
        if (LONE_SURROGATE.test(key)) {
          throw new CheckFailed("input_invalid_string", "a key has a lone surrogate");
        }
        stack.push([member, depth + 1]);
      }
    } else {
      throw new CheckFailed("input_invalid_type", "a value is not a JSON type");
    }
  }
}

// ------------------------------------------------------------------- small shared rules

const MEMBER_NAME = /^@?[A-Za-z_][A-Za-z0-9_.-]{0,63}$/u;
const DIGIT_RUN = /[0-9]{6}/u;
const B64URL = /^[A-Za-z0-9_-]{1,512}$/u;
const HEX_64 = /^[0-9a-f]{64}$/u;
const URN_UUID = /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/u;
const ISSUER_DID = /^did:tongban:([1-9][0-9]{0,15}):([1-9][0-9]{0,9})$/u;
const DID_KEY = /^did:key:(z[1-9A-HJ-NP-Za-km-z]{40,60})$/u;
export const SM2_PUB_PREFIX = [0x86, 0x24];

function nameable(name) {
  return typeof name === "string" && MEMBER_NAME.test(name) && !DIGIT_RUN.test(name);
}

function escapeToken(token) {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** ``names`` for a message: the nameable ones sorted, ``*`` for the rest, five at most. */
export function memberNames(names) {
  const list = [...names];
  const shown = [...new Set(list.filter(nameable))].sort(compareCodePoints);
  const listed = list.some((n) => !nameable(n)) ? [...shown, "*"] : shown;
  const more = listed.length - 5;
  const text = listed.slice(0, 5).join(", ");
  return more > 0 ? `${text} and ${more} more` : text;
}

/** What is wrong with an object's members, by name. */
export function membersProblem(present, allowed, required) {
  const keys = new Set(present);
  const unknown = [...keys].filter((k) => !allowed.has(k));
  const missing = [...required].filter((k) => !keys.has(k));
  const parts = [];
  if (missing.length) parts.push(`lacks ${memberNames(missing)}`);
  if (unknown.length) parts.push(`has unknown members ${memberNames(unknown)}`);
  return parts.join(" and ");
}

function firstAt(base, names) {
  const shown = [...names].filter(nameable).sort(compareCodePoints);
  return shown.length ? `${base}/${escapeToken(shown[0])}` : null;
}

/** (chain id, issuer id) of ``did:tongban:<chainId>:<issuerId>``; throws RangeError. */
export function parseIssuerDid(did) {
  if (typeof did !== "string") throw new RangeError("an issuer DID is a string");
  const match = ISSUER_DID.exec(did);
  if (match === null) throw new RangeError("not a did:tongban DID");
  const chain = BigInt(match[1]);
  const issuer = BigInt(match[2]);
  if (chain > BigInt(MAX_SAFE_INTEGER) || issuer > 2n ** 32n - 1n) {
    throw new RangeError("chain id or issuer id out of range");
  }
  return [Number(chain), Number(issuer)];
}

/** The 35 bytes of an SM2 did:key's multikey, or null if it is not shaped like one. */
export function didKeyBytes(did) {
  if (typeof did !== "string") return null;
  const match = DID_KEY.exec(did);
  if (match === null) return null;
  let raw;
  try {
    raw = base58Decode(match[1].slice(1));
  } catch {
    return null;
  }
  const shaped =
    raw.length === SM2_PUB_PREFIX.length + 33 &&
    raw[0] === SM2_PUB_PREFIX[0] &&
    raw[1] === SM2_PUB_PREFIX[1] &&
    (raw[2] === 2 || raw[2] === 3);
  return shaped ? raw : null;
}

/** Whether a value is shaped like an SM2 did:key (credentials.did.check_did_key_form). */
export function isDidKeyForm(did) {
  return didKeyBytes(did) !== null;
}

/** Bytes an unpadded base64url salt encodes; throws RangeError if it is not one. */
export function saltLength(salt) {
  if (typeof salt !== "string" || !B64URL.test(salt) || salt.length % 4 === 1) {
    throw new RangeError("a salt is unpadded base64url");
  }
  return Math.floor((salt.length * 3) / 4);
}

/** The claim a disclosure pointer names; throws RangeError unless /credentialSubject/<x>. */
export function claimName(pointer) {
  if (pointer === "") throw new RangeError("not a claim pointer");
  if (!pointer.startsWith("/")) throw new RangeError("a JSON pointer starts with '/'");
  const tokens = pointer.slice(1).split("/");
  for (const token of tokens) {
    if (token.replaceAll("~0", "").replaceAll("~1", "").includes("~")) {
      throw new RangeError("'~' must be followed by 0 or 1");
    }
  }
  const names = tokens.map((t) => t.replaceAll("~1", "/").replaceAll("~0", "~"));
  if (names.length !== 2 || names[0] !== "credentialSubject" || !names[1]) {
    throw new RangeError("a disclosure pointer is /credentialSubject/<claim>");
  }
  if (`/credentialSubject/${escapeToken(names[1])}` !== pointer) {
    throw new RangeError("not in canonical form");
  }
  return names[1];
}

/** hex(SM3(JCS([salt, pointer, value]))). */
export function disclosureDigest(disclosure) {
  return hex(sm3(canonicalize([...disclosure])));
}

// ------------------------------------------------------------------ check (0): credential

const CREDENTIAL_KEYS = new Set([
  "@context", "id", "type", "name", "description", "issuer", "validFrom", "validUntil",
  "issuanceDate", "expirationDate", "credentialSchema", "credentialSubject", "credentialStatus",
  "termsOfUse", "evidence", "refreshService", "relatedResource", "disclosures", "proof",
  ANCHOR_MEMBER, ZHENGZHAO_MEMBER,
]);
const CREDENTIAL_REQUIRED = new Set(["@context", "type", "issuer", "credentialSubject", "proof"]);
const TEMPLATE_REQUIRED = new Set(["id", "validFrom", "credentialSchema"]);
const TEMPLATE_FORBIDDEN = new Set(["issuanceDate", "expirationDate"]);
const NOT_SECURED = new Set(["proof", "disclosures", ANCHOR_MEMBER]);

function templateOf(value, model, where, at) {
  const kinds = model.types;
  const found =
    kinds.length === 2 && kinds[0] === "VerifiableCredential" ? templateByType(kinds[1]) : null;
  if (found === null) {
    if (kinds.some((kind) => templateByType(kind) !== null)) {
      throw new CheckFailed("type_invalid", `the ${where}'s type must be [VerifiableCredential, T]`, `${at}/type`);
    }
    const outside = model.contexts.filter((c) => !CONTEXT_URLS.has(c));
    if (outside.length || model.contexts.length !== value["@context"].length) {
      throw new CheckFailed("context_invalid", `the ${where}'s @context holds a context outside the allow-list`, `${at}/@context`);
    }
    return null;
  }
  if (!pyEquals(value["@context"], CONTEXT)) {
    throw new CheckFailed("context_invalid", `the ${where}'s @context must be ${CONTEXT}`);
  }
  const keys = Object.keys(value);
  if (![...TEMPLATE_REQUIRED].every((k) => has(value, k)) || keys.some((k) => TEMPLATE_FORBIDDEN.has(k))) {
    const allowed = new Set([...CREDENTIAL_KEYS].filter((k) => !TEMPLATE_FORBIDDEN.has(k)));
    throw new CheckFailed("structure_invalid", `the ${where} ${membersProblem(keys, allowed, TEMPLATE_REQUIRED)}`, at || null);
  }
  if (typeof value.id !== "string" || !URN_UUID.test(value.id)) {
    throw new CheckFailed("id_invalid", `the ${where}'s id is not a urn:uuid`);
  }
  const schema = value.credentialSchema;
  if (
    !isObject(schema) ||
    Object.keys(schema).length !== 2 ||
    !has(schema, "id") ||
    !has(schema, "type") ||
    schema.type !== "JsonSchema" ||
    typeof schema.id !== "string" ||
    templateBySchema(schema.id) !== found
  ) {
    throw new CheckFailed("schema_unknown", `the ${where}'s credentialSchema is not its template's`);
  }
  return found;
}

function checkSd(sd, slots, where, here) {
  if (
    !Array.isArray(sd) ||
    (slots !== null && sd.length !== slots) ||
    !sd.every((d) => typeof d === "string" && HEX_64.test(d)) ||
    sd.some((d, i) => i + 1 < sd.length && compareCodePoints(d, sd[i + 1]) >= 0)
  ) {
    throw new CheckFailed("sd_invalid", `the ${where}'s _sd must be sorted, distinct 64-hex digests`, here);
  }
}

function subjectOf(value, found, where, at) {
  const subject = value.credentialSubject;
  const here = `${at}/credentialSubject`;
  if (!isObject(subject) || !has(subject, "id") || !has(subject, "_sd")) {
    throw new CheckFailed("subject_invalid", `the ${where}'s credentialSubject lacks id or _sd`, here);
  }
  if (!isDidKeyForm(subject.id)) {
    throw new CheckFailed("subject_invalid", `the ${where}'s subject id is not a did:key`, `${here}/id`);
  }
  const stray = Object.keys(subject).filter((k) => k !== "id" && k !== "_sd" && !found.clear.includes(k));
  if (stray.length) {
    throw new CheckFailed("subject_invalid", `the ${where}'s subject has members that may not be in clear: ${memberNames(stray)}`, firstAt(here, stray) ?? here);
  }
  checkSd(subject._sd, found.sdSlots, where, `${here}/_sd`);
  return subject;
}

function checkDisclosures(disclosures, disclosable, where, at) {
  if (!Array.isArray(disclosures)) {
    throw new CheckFailed("disclosure_malformed", `the ${where}'s disclosures must be an array`, `${at}/disclosures`);
  }
  const allowed = disclosable === null ? null : new Set(disclosable);
  let previous = "";
  disclosures.forEach((item, index) => {
    const which = `disclosure ${index} of the ${where}`;
    const here = `${at}/disclosures/${index}`;
    if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== "string" || typeof item[1] !== "string") {
      throw new CheckFailed("disclosure_malformed", `${which} is not [salt, pointer, value]`, here);
    }
    try {
      saltLength(item[0]);
    } catch {
      throw new CheckFailed("disclosure_malformed", `${which} has a salt that is not base64url`, here);
    }
    let name;
    try {
      name = claimName(item[1]);
    } catch {
      throw new CheckFailed("disclosure_pointer_invalid", `${which} has a pointer that is not /credentialSubject/<claim>`, here);
    }
    if ((allowed !== null && !allowed.has(name)) || name === "_sd" || name === "id") {
      throw new CheckFailed("disclosure_pointer_invalid", `${which} names claim ${memberNames([name])}, which is not disclosable`, here);
    }
    if (item[1] === previous) {
      throw new CheckFailed("disclosure_duplicate", `${which} discloses claim ${name} a second time`, here);
    }
    if (compareCodePoints(item[1], previous) < 0) {
      throw new CheckFailed("disclosure_malformed", `${which} (claim ${name}) is out of order`, here);
    }
    previous = item[1];
  });
}

function reveal(subject, disclosures) {
  const revealed = Object.create(null);
  for (const [key, value] of Object.entries(subject)) if (key !== "_sd") revealed[key] = value;
  for (const [, pointer, value] of disclosures) revealed[claimName(pointer)] = value;
  return revealed;
}

function checkClaims(found, subject, disclosures, where, at) {
  const shown = new Set(disclosures.map((d) => claimName(d[1])));
  const waived = new Set(found.disclosable.filter((c) => !shown.has(c)));
  try {
    validate(found.subjectSchema, reveal(subject, disclosures), {
      notRequired: new Map([["/credentialSubject", waived]]),
      at: "/credentialSubject",
    });
  } catch (error) {
    if (!(error instanceof SchemaViolation)) throw error;
    throw new CheckFailed("schema_violation", `the ${where} breaks its schema at ${error.pointer}: ${error.rule}`, at + error.pointer);
  }
}

function openSubjects(model, where, at) {
  const here = `${at}/credentialSubject`;
  const digests = new Set();
  model.subjects.forEach((subject, index) => {
    if (!has(subject, "_sd")) return;
    if (model.subjectIsArray) {
      throw new CheckFailed("sd_invalid", `the ${where} may disclose selectively only with one credentialSubject`, `${here}/${index}/_sd`);
    }
    checkSd(subject._sd, null, where, `${here}/_sd`);
    for (const d of subject._sd) digests.add(d);
  });
  let holder = null;
  if (!model.subjectIsArray && has(model.subjects[0], "id") && isDidKeyForm(model.subjects[0].id)) {
    holder = model.subjects[0].id;
  }
  return [digests, holder];
}

function disclosuresNotInClear(model, disclosures, where, at) {
  if (disclosures.length && (model.subjectIsArray || !has(model.subjects[0], "_sd"))) {
    throw new CheckFailed("disclosure_pointer_invalid", `the ${where} has disclosures but its credentialSubject has no _sd`, `${at}/disclosures`);
  }
  disclosures.forEach((item, index) => {
    if (has(model.subjects[0], claimName(item[1]))) {
      throw new CheckFailed("disclosure_pointer_invalid", `disclosure ${index} of the ${where} names a claim that is also in clear`, `${at}/disclosures/${index}`);
    }
  });
}

function proofsOf(value, where, at) {
  const proofs = value.proof;
  const legacy = Array.isArray(proofs) && proofs.length === 2;
  const list = asList(proofs);
  if (
    !(isObject(proofs) || Array.isArray(proofs)) ||
    (Array.isArray(proofs) && !(proofs.length >= 1 && proofs.length <= 2)) ||
    !list.every(isObject) ||
    get(list[0], "type") !== PROOF_TYPE ||
    (legacy && (get(proofs[1], "type") !== ANCHOR_PROOF_TYPE || has(value, ANCHOR_MEMBER)))
  ) {
    throw new CheckFailed("proof_set_invalid", `the ${where}'s proof must be one DataIntegrityProof`, `${at}/proof`);
  }
  const anchor = legacy ? proofs[1] : has(value, ANCHOR_MEMBER) ? value[ANCHOR_MEMBER] : null;
  if (anchor !== null && (!isObject(anchor) || get(anchor, "type") !== ANCHOR_PROOF_TYPE)) {
    throw new CheckFailed("anchor_proof_malformed", `the ${where}'s anchor is not a ${ANCHOR_PROOF_TYPE}`, `${at}/${ANCHOR_MEMBER}`);
  }
  return [list[0], anchor];
}

/** The credential without proof, disclosures and anchor (what is hashed and signed). */
export function securedForm(value) {
  return Object.fromEntries(Object.entries(value).filter(([k]) => !NOT_SECURED.has(k)));
}

/**
 * credentials.verify.parse.parse_credential: check (0) of one decoded credential. Returns the
 * parsed credential; throws CheckFailed.
 */
export function parseCredential(value, where = "credential", at = "") {
  if (!isObject(value)) throw new CheckFailed("structure_invalid", `the ${where} is not a JSON object`, at || null);
  const keys = Object.keys(value);
  if (!keys.every((k) => CREDENTIAL_KEYS.has(k)) || ![...CREDENTIAL_REQUIRED].every((k) => has(value, k))) {
    throw new CheckFailed(
      "structure_invalid",
      `the ${where} ${membersProblem(keys, CREDENTIAL_KEYS, CREDENTIAL_REQUIRED)}`,
      firstAt(at, keys.filter((k) => !CREDENTIAL_KEYS.has(k))) ?? (at || null),
    );
  }
  let model;
  try {
    model = checkCredential(value, at);
  } catch (error) {
    if (!(error instanceof ModelViolation)) throw error;
    throw new CheckFailed(error.reason, `the ${where} breaks the VC data model: ${error.message}`, error.pointer || null);
  }
  const found = templateOf(value, model, where, at);
  if (has(value, ZHENGZHAO_MEMBER)) {
    checkMember(value[ZHENGZHAO_MEMBER], found === null ? null : found.national, (reason, message) =>
      new CheckFailed(reason, `the ${where}'s ${message}`, `${at}/${ZHENGZHAO_MEMBER}`),
    );
  }
  let chain;
  let issuerId;
  try {
    [chain, issuerId] = parseIssuerDid(model.issuer);
  } catch {
    throw new CheckFailed("issuer_invalid", `the ${where}'s issuer is not a did:tongban`, `${at}/issuer`);
  }
  const disclosures = has(value, "disclosures") ? value.disclosures : [];
  let sd;
  let holder;
  if (found !== null) {
    const subject = subjectOf(value, found, where, at);
    checkDisclosures(disclosures, found.disclosable, where, at);
    checkClaims(found, subject, disclosures, where, at);
    holder = subject.id;
    sd = new Set(subject._sd);
  } else {
    [sd, holder] = openSubjects(model, where, at);
    checkDisclosures(disclosures, null, where, at);
    disclosuresNotInClear(model, disclosures, where, at);
  }
  const [issuerProof, anchorProof] = proofsOf(value, where, at);
  const secured = securedForm(value);
  const canonical = canonicalize(secured);
  if (canonical.length > CREDENTIAL_LIMITS.maxBytes) {
    throw new CheckFailed("input_too_large", `the ${where} is larger than the credential cap`);
  }
  return {
    document: value,
    secured,
    digest: sm3(canonical),
    template: found,
    issuer: model.issuer,
    issuerChain: chain,
    issuerId,
    holder,
    validFrom: model.validFromMs,
    validUntil: model.validUntilMs,
    sd,
    disclosures,
    issuerProof,
    anchorProof,
  };
}

/** Check (0) of a decoded credential under the credential caps (load_credential, text=False). */
export function loadCredential(document) {
  checkJson(document, CREDENTIAL_LIMITS);
  return parseCredential(document);
}

// ---------------------------------------------------------------- check (0): presentation

const PRESENTATION_KEYS = new Set(["@context", "id", "type", "holder", "verifiableCredential", "termsOfUse", "proof"]);
const PRESENTATION_REQUIRED = new Set(["@context", "type", "holder", "verifiableCredential", "proof"]);

/** credentials.verify.parse.parse_presentation on decoded JSON; throws CheckFailed. */
export function parsePresentation(value) {
  if (!isObject(value)) throw new CheckFailed("presentation_malformed", "the presentation is not a JSON object");
  const keys = Object.keys(value);
  if (!keys.every((k) => PRESENTATION_KEYS.has(k)) || ![...PRESENTATION_REQUIRED].every((k) => has(value, k))) {
    throw new CheckFailed(
      "presentation_malformed",
      `the presentation ${membersProblem(keys, PRESENTATION_KEYS, PRESENTATION_REQUIRED)}`,
      firstAt("", keys.filter((k) => !PRESENTATION_KEYS.has(k))),
    );
  }
  try {
    checkPresentation(value);
  } catch (error) {
    if (!(error instanceof ModelViolation)) throw error;
    throw new CheckFailed(error.reason, `the presentation breaks the VC data model: ${error.message}`, error.pointer || null);
  }
  if (!pyEquals(value["@context"], CONTEXT)) {
    throw new CheckFailed("context_invalid", `the presentation's @context must be ${CONTEXT}`);
  }
  if (!pyEquals(value.type, ["VerifiablePresentation"])) {
    throw new CheckFailed("type_invalid", "the presentation's type is not [VerifiablePresentation]");
  }
  if (!isDidKeyForm(value.holder)) throw new CheckFailed("presentation_malformed", "the holder is not a did:key");
  const proof = value.proof;
  if (!isObject(proof) || get(proof, "type") !== PROOF_TYPE) {
    throw new CheckFailed("proof_set_invalid", "the presentation's proof is one DataIntegrityProof");
  }
  const embedded = value.verifiableCredential;
  if (!Array.isArray(embedded) || embedded.length === 0) {
    throw new CheckFailed("presentation_malformed", "verifiableCredential must be a non-empty array");
  }
  if (embedded.length > MAX_PRESENTED_CREDENTIALS) {
    throw new CheckFailed("too_many_credentials", `a presentation carries at most ${MAX_PRESENTED_CREDENTIALS} credentials`);
  }
  const credentials = embedded.map((c, i) => parseCredential(c, `credential ${i}`, `/verifiableCredential/${i}`));
  return { document: value, holder: value.holder, credentials };
}

/** Check (0) of a decoded presentation under the presentation caps. */
export function loadPresentation(document) {
  checkJson(document, PRESENTATION_LIMITS);
  return parsePresentation(document);
}


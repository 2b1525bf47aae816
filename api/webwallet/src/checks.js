/**
 * The checks a wallet can make without the chain, ported from credentials/verify/offline.py:
 * (0) parse (parse.js: I-JSON caps, the VC Data Model, Tongban's structure, the template's
 * schema, the 电子证照 member), (1) the issuer proof's form and, given its verification method's key, its SM2
 * signature, (3) the anchor proof's audit path to the root it states, (7) every disclosure
 * listed in ``_sd``; and (6) a presentation's holder signature. Each returns the first failure
 * as {check, reason, message} with the frozen reason codes of credentials/reasons.py, or
 * {check: null} when everything holds. tests/webwallet/test_tamper_agreement.py runs the
 * verifier's tamper corpus through this module and through Python and compares every verdict.
 */
import { canonicalize } from "./jcs.js";
import { base58Decode, concatBytes, fromHex, get, has, isInteger, isObject, pyLength, sameBytes } from "./encoding.js";
import { sm3, verify as sm2Verify, za } from "./sm.js";
import { validateFormat } from "./schema.js";
import {
  ANCHOR_PROOF_TYPE,
  CheckFailed,
  SM2_PUB_PREFIX,
  didKeyBytes,
  disclosureDigest,
  loadCredential,
  loadPresentation,
  parseIssuerDid,
  saltLength,
} from "./parse.js";


/** The check numbers of credentials/reasons.py ``Check``. */
export const CHECK = Object.freeze({ PARSE: 0, ISSUER_PROOF: 1, ANCHOR: 3, PRESENTATION: 6, DISCLOSURES: 7 });

export const CRYPTOSUITE = "sm2-jcs-2026";
const ISSUER_PROOF_KEYS = ["type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue"];
const HOLDER_PROOF_KEYS = [...ISSUER_PROOF_KEYS, "challenge", "domain"];
const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/u;
const HEX_64 = /^[0-9a-f]{64}$/u;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/u;
const MIN_SALT_BYTES = 16;
const MAX_PATH_LENGTH = 64;
const PROOF_VALUE_MAX = 100;

class Failure {
  constructor(check, failed) {
    this.check = check;
    this.reason = failed.reason;
    this.message = failed.message;
  }
}

function failed(reason, message) {
  return new CheckFailed(reason, message);
}

/** The proof's members are exactly ``keys``, all strings, and it is sm2-jcs-2026. */
function checkProofFields(proof, keys, what) {
  if (!isObject(proof)) return failed("proof_malformed", `the ${what} proof is not an object`);
  const names = Object.keys(proof);
  if (names.length !== keys.length || !keys.every((k) => has(proof, k))) {
    return failed("proof_malformed", `the ${what} proof has other members than ${keys.join(", ")}`);
  }
  if (!keys.every((k) => typeof proof[k] === "string")) {
    return failed("proof_malformed", `every member of the ${what} proof is a string`);
  }
  if (!validateFormat("date-time", proof.created)) {
    return failed("proof_malformed", `the ${what} proof's created is not a UTC date-time`);
  }
  if (proof.cryptosuite !== CRYPTOSUITE) {
    return failed("cryptosuite_unsupported", `the ${what} proof is not ${CRYPTOSUITE}`);
  }
  return null;
}

function parseIssuerMethod(value) {
  if (typeof value !== "string") throw new RangeError("a verification method is a string");
  const cut = value.indexOf("#");
  if (cut < 0 || !KEY_ID.test(value.slice(cut + 1))) throw new RangeError("no valid key id");
  const did = value.slice(0, cut);
  parseIssuerDid(did);
  return did;
}

/** The 64-byte r || s of a proofValue ("z" + base58btc); throws RangeError otherwise. */
export function decodeProofValue(value) {
  if (typeof value !== "string" || !value.startsWith("z") || pyLength(value) > PROOF_VALUE_MAX) {
    throw new RangeError("proofValue must be base58btc multibase");
  }
  const raw = base58Decode(value.slice(1));
  if (raw.length !== 64) throw new RangeError("proofValue must encode exactly 64 bytes");
  return raw;
}

/** SM3(JCS(proof configuration)) || document hash: the 64 bytes an sm2-jcs-2026 proof signs. */
export function hashData(document, proof, documentHash = null) {
  const config = Object.fromEntries(Object.entries(proof).filter(([k]) => k !== "proofValue"));
  config["@context"] = document["@context"];
  return concatBytes(sm3(canonicalize(config)), documentHash ?? sm3(canonicalize(document)));
}

/** Check (1) up to the key lookup (offline.py issuer_proof_form). */
export function issuerProofForm(parsed, trusted) {
  const problem = checkProofFields(parsed.issuerProof, ISSUER_PROOF_KEYS, "issuer");
  if (problem) return problem;
  const proof = parsed.issuerProof;
  if (trusted.chainId !== null && parsed.issuerChain !== trusted.chainId) {
    return failed("issuer_chain_mismatch", "the issuer DID names another chain");
  }
  if (proof.proofPurpose !== "assertionMethod") {
    return failed("proof_purpose_mismatch", "the issuer proof's purpose must be assertionMethod");
  }
  let did;
  try {
    did = parseIssuerMethod(proof.verificationMethod);
  } catch {
    return failed("verification_method_not_issuer", "the verification method is not a did:tongban key");
  }
  if (did !== parsed.issuer) {
    return failed("verification_method_not_issuer", "the verification method is not the issuer's");
  }
  return null;
}

/** Check (1) after the key lookup: the SM2 signature over the secured form, by ``publicKey``. */
export function issuerSignature(parsed, publicKey) {
  let signature;
  try {
    signature = decodeProofValue(parsed.issuerProof.proofValue);
  } catch {
    return failed("proof_value_malformed", "the issuer proofValue is malformed");
  }
  const data = hashData(parsed.secured, parsed.issuerProof, parsed.digest);
  if (!sm2Verify(publicKey, data, signature)) {
    return failed("signature_invalid", "the issuer's signature does not verify");
  }
  return null;
}

function uint(document, name, upper) {
  const value = get(document, name);
  if (!isInteger(value) || value < 0 || value > upper) throw new RangeError(`bad ${name}`);
  return value;
}

const ANCHOR_FIELDS = ["type", "chainId", "contract", "issuerId", "root", "leafIndex", "treeSize", "auditPath", "blockNumber"];

function parseAnchorProof(document) {
  if (!isObject(document)) throw new RangeError("not an object");
  const names = Object.keys(document);
  if (names.length !== ANCHOR_FIELDS.length || !ANCHOR_FIELDS.every((f) => has(document, f))) {
    throw new RangeError("not exactly the documented fields");
  }
  if (document.type !== ANCHOR_PROOF_TYPE) throw new RangeError("not a TongbanAnchorProof2026");
  const { contract, root, auditPath } = document;
  if (typeof contract !== "string" || !ADDRESS.test(contract)) throw new RangeError("contract");
  if (typeof root !== "string" || !HEX_64.test(root)) throw new RangeError("root");
  if (!Array.isArray(auditPath) || auditPath.length > MAX_PATH_LENGTH) throw new RangeError("path");
  if (!auditPath.every((p) => typeof p === "string" && HEX_64.test(p))) throw new RangeError("path");
  const treeSize = uint(document, "treeSize", Number.MAX_SAFE_INTEGER);
  const leafIndex = uint(document, "leafIndex", Number.MAX_SAFE_INTEGER);
  if (treeSize < 1 || leafIndex >= treeSize) throw new RangeError("leafIndex");
  return {
    chainId: uint(document, "chainId", Number.MAX_SAFE_INTEGER),
    contract,
    issuerId: uint(document, "issuerId", 2 ** 32 - 1),
    root: fromHex(root),
    leafIndex: BigInt(leafIndex),
    treeSize: BigInt(treeSize),
    auditPath: auditPath.map(fromHex),
    blockNumber: uint(document, "blockNumber", Number.MAX_SAFE_INTEGER),
  };
}

function bitLength(value) {
  return value === 0n ? 0 : value.toString(2).length;
}

function popCount(value) {
  return [...value.toString(2)].filter((bit) => bit === "1").length;
}

/** RFC 9162 section 2.1.3.2: the root an inclusion path proves for the leaf hash; null if misshapen. */
export function rootFromInclusionProof(index, size, leafHash, path) {
  if (!(index >= 0n && index < size) || path.length > MAX_PATH_LENGTH) return null;
  if (!path.every((node) => node.length === 32) || leafHash.length !== 32) return null;
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  if (path.length !== inner + border) return null;
  let node = leafHash;
  path.slice(0, inner).forEach((sibling, level) => {
    node = (index >> BigInt(level)) & 1n
      ? sm3(concatBytes([1], sibling, node))
      : sm3(concatBytes([1], node, sibling));
  });
  for (const sibling of path.slice(inner)) node = sm3(concatBytes([1], sibling, node));
  return node;
}

/** Check (3) up to the chain lookup (offline.py anchor_path). */
export function anchorPath(digest, issuerChain, issuerId, document, trusted) {
  let proof;
  try {
    proof = parseAnchorProof(document);
  } catch {
    return failed("anchor_proof_malformed", "the anchor proof is malformed");
  }
  const chainId = trusted.chainId === null ? issuerChain : trusted.chainId;
  if (proof.chainId !== chainId) return failed("anchor_chain_mismatch", "the anchor proof names another chain");
  if (trusted.credentialAnchor !== null && proof.contract !== trusted.credentialAnchor) {
    return failed("anchor_contract_mismatch", "the anchor proof names another CredentialAnchor");
  }
  if (proof.issuerId !== issuerId || issuerChain !== chainId) {
    return failed("anchor_issuer_mismatch", "the anchor proof names another issuer");
  }
  const leaf = sm3(concatBytes([0], digest));
  const root = rootFromInclusionProof(proof.leafIndex, proof.treeSize, leaf, proof.auditPath);
  if (root === null) return failed("anchor_path_invalid", "the audit path has the wrong shape");
  if (!sameBytes(root, proof.root)) {
    return failed("anchor_root_mismatch", "the audit path does not lead to the proof's root");
  }
  return null;
}

/** Check (7): every disclosure has a long enough salt and hashes to a digest in ``_sd``. */
export function disclosuresListed(parsed) {
  for (const [index, item] of parsed.disclosures.entries()) {
    if (saltLength(item[0]) < MIN_SALT_BYTES) {
      return failed("disclosure_salt_too_short", `disclosure ${index} has a salt shorter than 128 bits`);
    }
    if (!parsed.sd.has(disclosureDigest(item))) {
      return failed("disclosure_not_in_sd", `disclosure ${index} does not hash to a digest in _sd`);
    }
  }
  return null;
}

function trustedOf(trusted) {
  return {
    chainId: trusted?.chainId ?? null,
    credentialAnchor: trusted?.credentialAnchor ?? null,
  };
}

function asFailure(check, error) {
  if (error instanceof CheckFailed) return new Failure(check, error);
  throw error;
}

/**
 * offline.py check_offline: checks (0), (1), (3) and (7) of one decoded credential, in order;
 * the first failure as {check, reason, message}, or {check: null, parsed}.
 * ``issuerKey``: the verification method's public key (33 or 65 bytes), or null to skip the
 * signature; ``trusted``: {chainId, credentialAnchor}, either null when unknown.
 */
export function checkOffline(document, { trusted = null, issuerKey = null } = {}) {
  const chain = trustedOf(trusted);
  let parsed;
  try {
    parsed = loadCredential(document);
  } catch (error) {
    return asFailure(CHECK.PARSE, error);
  }
  const form = issuerProofForm(parsed, chain);
  if (form) return new Failure(CHECK.ISSUER_PROOF, form);
  if (issuerKey !== null) {
    const signed = issuerSignature(parsed, issuerKey);
    if (signed) return new Failure(CHECK.ISSUER_PROOF, signed);
  }
  if (parsed.anchorProof !== null) {
    const path = anchorPath(parsed.digest, parsed.issuerChain, parsed.issuerId, parsed.anchorProof, chain);
    if (path) return new Failure(CHECK.ANCHOR, path);
  }
  const listed = disclosuresListed(parsed);
  if (listed) return new Failure(CHECK.DISCLOSURES, listed);
  return { check: null, reason: null, message: "the checks that need no chain hold", parsed };
}

/**
 * offline.py holder_proof over a presentation: check (0) of the presentation and its
 * credentials, then (6) the holder's authentication signature (not the challenge: that is
 * the verifier's). The first failure, or {check: null, parsed}.
 */
export function checkHolderProof(document) {
  let parsed;
  try {
    parsed = loadPresentation(document);
  } catch (error) {
    return asFailure(CHECK.PARSE, error);
  }
  const fail = (reason, message) => new Failure(CHECK.PRESENTATION, failed(reason, message));
  const problem = checkProofFields(document.proof, HOLDER_PROOF_KEYS, "presentation");
  if (problem) return new Failure(CHECK.PRESENTATION, problem);
  const proof = document.proof;
  if (proof.proofPurpose !== "authentication") {
    return fail("holder_proof_purpose_mismatch", "the presentation proof's purpose must be authentication");
  }
  const method = proof.verificationMethod;
  const cut = method.indexOf("#");
  const did = cut < 0 ? null : method.slice(0, cut);
  const methodKey = did !== null && did === `did:key:${method.slice(cut + 1)}` ? holderKey(did) : null;
  if (methodKey === null) {
    return fail("holder_verification_method_invalid", "the verification method is not the holder's did:key#key");
  }
  if (did !== document.holder) return fail("holder_verification_method_invalid", "the verification method is not the holder's");
  let signature;
  try {
    signature = decodeProofValue(proof.proofValue);
  } catch {
    return fail("proof_value_malformed", "the presentation's proofValue is malformed");
  }
  const unsecured = Object.fromEntries(Object.entries(document).filter(([k]) => k !== "proof"));
  if (!sm2Verify(methodKey, hashData(unsecured, proof), signature)) {
    return fail("holder_signature_invalid", "the holder's signature does not verify");
  }
  return { check: null, reason: null, message: "the holder's signature verifies", parsed };
}

/** The 33-byte SM2 key of a did:key (prefix, codec, compressed point on the curve), or null. */
export function holderKey(did) {
  const raw = didKeyBytes(did);
  if (raw === null) return null;
  const point = raw.subarray(SM2_PUB_PREFIX.length);
  try {
    za(point); // decompresses the point: throws for one that is not on sm2p256v1
  } catch {
    return null;
  }
  return point;
}

// For the tests that hold this port to the Python package (tests/webwallet): the canonical
// form, and the tables check (0) reads.
export { canonicalText, canonicalize } from "./jcs.js";
export { CONTEXT_URLS, TEMPLATES } from "./templates.js";
export { MAX_PRESENTED_CREDENTIALS } from "./parse.js";

/**
 * Presentations signed in the browser, exactly as credentials/holder.py signs them, and the
 * OpenID4VP direct_post answer as `tongban wallet respond` (api/client/oid4vp.py) sends it.
 *
 * A derived credential is the issued one with ``disclosures`` cut down to the chosen claims
 * (sorted by pointer, by code point as Python sorts); a presentation wraps 1 to 50 of them:
 *   {"@context": [v2, tongban], "id": "urn:uuid:<random v4>", "type": ["VerifiablePresentation"],
 *    "holder": did:key, "verifiableCredential": [...],
 *    "termsOfUse": {"type": "TongbanPurposeOfUse", "purpose": code}   (only when bound),
 *    "proof": sm2-jcs-2026 DataIntegrityProof, proofPurpose "authentication",
 *             challenge = the verifier's nonce, domain = the verifier's DID}
 * The proof signs SM3(JCS(proof configuration)) || SM3(JCS(presentation)) (checks.js hashData,
 * the same function the wallet's checks verify with). Unlike `tongban wallet respond` today, an
 * answer to a request that names a purpose (client_metadata.tongban_purpose) is bound to it:
 * issue #18 asks for the purpose in the proof.
 */
import { hashData } from "./checks.js";
import { compareCodePoints } from "./encoding.js";
import { CONTEXT, MAX_PRESENTED_CREDENTIALS, claimName } from "./parse.js";
import { bytesToHex, publicKeyOf, sign } from "./sm.js";
import { base58Encode, didOf, verificationMethodOf } from "./didkey.js";
import { randomBytes } from "@noble/hashes/utils.js";

export const CRYPTOSUITE = "sm2-jcs-2026";
export const PURPOSE_OF_USE_TYPE = "TongbanPurposeOfUse";
const PURPOSE_CODE = /^[a-z][a-z0-9_.-]{0,63}$/u;
const LONG_DIGITS = /[0-9]{9,}/u;

/** A refusal in the wallet's words (never a claim value). */
export class PresentError extends Error {
  constructor(message) {
    super(message);
    this.name = "PresentError";
  }
}

/** purpose_binding.py is_purpose_code: a-z first, then up to 63 of a-z 0-9 _ . -, no run of nine digits. */
export function isPurposeCode(value) {
  return typeof value === "string" && PURPOSE_CODE.test(value) && !LONG_DIGITS.test(value);
}

function claimOf(disclosure) {
  try {
    return claimName(String(disclosure[1]));
  } catch {
    return null;
  }
}

/** The names of a credential's selectively disclosable claims. */
export function disclosableClaims(credential) {
  const names = new Set();
  for (const disclosure of Array.isArray(credential.disclosures) ? credential.disclosures : []) {
    const name = claimOf(disclosure);
    if (name !== null) names.add(name);
  }
  return names;
}

/** holder.py derive_credential: a copy disclosing only ``claims``; PresentError for a claim with no disclosure. */
export function deriveCredential(credential, claims) {
  const byClaim = new Map();
  for (const disclosure of Array.isArray(credential.disclosures) ? credential.disclosures : []) {
    const name = claimName(String(disclosure[1]));
    byClaim.set(name, [...disclosure]);
  }
  const chosen = [];
  for (const name of new Set(claims)) {
    if (!byClaim.has(name)) throw new PresentError("the credential has no disclosure for one of the chosen claims");
    chosen.push(byClaim.get(name));
  }
  chosen.sort((a, b) => compareCodePoints(String(a[1]), String(b[1])));
  const derived = {};
  for (const [name, value] of Object.entries(credential)) {
    if (name !== "disclosures") derived[name] = value;
    else if (chosen.length) derived.disclosures = chosen;
  }
  return derived;
}

function uuid4() {
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = bytesToHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** times.py format_ms: YYYY-MM-DDTHH:MM:SSZ, truncated to the second. */
export function formatCreated(ms) {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/u, "Z");
}

/**
 * A presentation of [[credential, claims], ...] signed with ``privateKey`` (32-byte scalar)
 * over the verifier's ``challenge`` with its DID as ``domain``; ``purpose`` binds it to one code.
 */
export function present(privateKey, selections, { challenge, domain, purpose = null, createdMs = Date.now() }) {
  if (!Array.isArray(selections) || selections.length < 1 || selections.length > MAX_PRESENTED_CREDENTIALS) {
    throw new PresentError(`a presentation carries 1 to ${MAX_PRESENTED_CREDENTIALS} credentials`);
  }
  if (typeof challenge !== "string" || !challenge) throw new PresentError("the verifier's challenge is missing");
  if (typeof domain !== "string" || !domain) throw new PresentError("the verifier's DID (domain) is missing");
  const publicKey = publicKeyOf(privateKey);
  const presentation = {
    "@context": [...CONTEXT],
    id: `urn:uuid:${uuid4()}`,
    type: ["VerifiablePresentation"],
    holder: didOf(publicKey),
    verifiableCredential: selections.map(([credential, claims]) => deriveCredential(credential, claims)),
  };
  if (purpose !== null) {
    if (!isPurposeCode(purpose)) {
      throw new PresentError("a purpose code is a-z first, then up to 63 of a-z 0-9 _ . - (no run of nine digits)");
    }
    presentation.termsOfUse = { type: PURPOSE_OF_USE_TYPE, purpose };
  }
  const proof = {
    type: "DataIntegrityProof",
    cryptosuite: CRYPTOSUITE,
    created: formatCreated(createdMs),
    verificationMethod: verificationMethodOf(publicKey),
    proofPurpose: "authentication",
    challenge,
    domain,
  };
  proof.proofValue = `z${base58Encode(sign(privateKey, hashData(presentation, proof)))}`;
  return { ...presentation, proof };
}

function text(document, name) {
  const value = document[name];
  if (typeof value !== "string" || !value) throw new PresentError(`the request object has no ${name}`);
  return value;
}

/** The http(s) request_uri of an openid4vp:// link, or the http(s) URL given (oid4vp.py request_uri_of). */
export function requestUriOf(link) {
  let url;
  try {
    url = new URL(link);
    if (url.protocol === "openid4vp:") {
      const found = url.searchParams.getAll("request_uri");
      if (found.length !== 1) throw new PresentError("the openid4vp link has no single request_uri");
      url = new URL(found[0]);
    }
  } catch (error) {
    if (error instanceof PresentError) throw error;
    throw new PresentError("the request URL must be openid4vp://… or http(s)://…");
  }
  if (!["http:", "https:"].includes(url.protocol) || !url.hostname) {
    throw new PresentError("the request URL must be openid4vp://… or http(s)://…");
  }
  return url.href;
}

/** oid4vp.py read_request's checks on a fetched request object; the parts the wallet uses. */
export function readRequest(document, requestUri) {
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new PresentError("the request object is not a JSON object");
  }
  if (document.response_type !== "vp_token") throw new PresentError("the request asks for another response_type than vp_token");
  if (document.response_mode !== "direct_post") throw new PresentError("the request asks for another response_mode than direct_post");
  const responseUri = text(document, "response_uri");
  const clientId = text(document, "client_id");
  if (clientId !== `redirect_uri:${responseUri}`) throw new PresentError("the client_id is not redirect_uri: of the response_uri");
  let sameOrigin = false;
  try {
    sameOrigin = new URL(requestUri).origin === new URL(responseUri).origin;
  } catch {
    sameOrigin = false;
  }
  if (!sameOrigin) throw new PresentError("the response_uri is on another origin than the request");
  const metadata = document.client_metadata !== null && typeof document.client_metadata === "object" ? document.client_metadata : {};
  const domain = metadata.tongban_domain;
  if (typeof domain !== "string" || !domain.startsWith("did:")) {
    throw new PresentError("the request names no verifier DID (client_metadata.tongban_domain)");
  }
  const purpose = typeof metadata.tongban_purpose === "string" ? metadata.tongban_purpose : null;
  return {
    clientId,
    responseUri,
    nonce: text(document, "nonce"),
    state: text(document, "state"),
    domain,
    claims: claimsOf(document.dcql_query),
    purpose,
  };
}

function claimsOf(query) {
  const names = [];
  try {
    if (!Array.isArray(query.credentials) || query.credentials.length !== 1) throw new TypeError();
    for (const claim of query.credentials[0].claims) {
      const path = claim.path;
      if (!Array.isArray(path) || path.length !== 2 || path[0] !== "credentialSubject" || typeof path[1] !== "string") {
        throw new PresentError("the DCQL query asks for a claim outside credentialSubject");
      }
      names.push(path[1]);
    }
  } catch (error) {
    if (error instanceof PresentError) throw error;
    throw new PresentError("the DCQL query is not one credential with claims");
  }
  if (!names.length) throw new PresentError("the DCQL query asks for no claim");
  return names;
}

/**
 * Answer a read request with ``credential``: a presentation of ``claims`` (default: those asked
 * for; only some of them may be chosen), bound to the request's purpose, and the form body
 * (application/x-www-form-urlencoded vp_token and state) to POST to request.responseUri.
 */
export function answerRequest(privateKey, request, credential, claims = null) {
  const chosen = claims === null ? request.claims : claims;
  if (chosen.some((name) => !request.claims.includes(name))) {
    throw new PresentError("the chosen claims include some the verifier did not ask for");
  }
  const disclosable = disclosableClaims(credential);
  const subject = credential.credentialSubject ?? {};
  const held = new Set([...disclosable, ...Object.keys(subject).filter((name) => name !== "id" && name !== "_sd")]);
  if (chosen.some((name) => !held.has(name))) throw new PresentError("the credential does not hold every claim asked for");
  const presentation = present(privateKey, [[credential, chosen.filter((name) => disclosable.has(name))]], {
    challenge: request.nonce,
    domain: request.domain,
    purpose: request.purpose,
  });
  return { presentation, body: directPostBody(presentation, request.state) };
}

/** The direct_post form body: vp_token = {"credential": [VP]} (DCQL form) and state. */
export function directPostBody(presentation, state) {
  const token = JSON.stringify({ credential: [presentation] });
  return new URLSearchParams({ vp_token: token, state }).toString();
}

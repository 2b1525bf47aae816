/**
 * Receiving a credential offer in the browser: the wallet's side of OpenID4VCI 1.0's
 * pre-authorized code flow, step for step as `tongban wallet redeem` (api/client/oid4vci.py)
 * does it (docs/oid4vci.md):
 *   readOffer(link): the offer by reference (openid-credential-offer://?credential_offer_uri=…
 *     or that https URL), the issuer's metadata and its authorization server's, every endpoint
 *     on the credential issuer's own origin;
 *   redeemOffer(offer, txCode, privateKey): POST /token (the pre-authorized code and the
 *     tx_code, form-encoded), POST /nonce, POST /credential with a di_vp key proof signed
 *     sm2-jcs-2026 (challenge the c_nonce, domain the credential issuer), then the offline checks
 *     (checks.js) and the binding to this key before the caller stores the credential.
 * Every request is a CORS one from the wallet's origin: /token is form-encoded and /nonce has no
 * body (simple requests); /credential (JSON, a Bearer token) is preflighted.
 * Refusals are OfferError in words: the issuer's error code and description, never a claim
 * value, never the codes.
 */
import { checkOffline, hashData } from "./checks.js";
import { CONTEXT } from "./parse.js";
import { base58Encode, didOf, verificationMethodOf } from "./didkey.js";
import { bytesToHex, publicKeyOf, sign } from "./sm.js";
import { CRYPTOSUITE, formatCreated } from "./present.js";

export const PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
const MAX_ANSWER = 512 * 1024;

/** A refusal of the offer flow in the wallet's words. */
export class OfferError extends Error {
  constructor(message) {
    super(message);
    this.name = "OfferError";
  }
}

const WORDS = {
  invalid_grant: "the offer's code or the tx_code is not accepted",
  invalid_token: "the access token is not accepted",
  invalid_nonce: "the c_nonce is not accepted",
  invalid_proof: "the key proof is not accepted",
};

function httpUrl(text, what) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new OfferError(what);
  }
  if (!["http:", "https:"].includes(url.protocol) || !url.hostname) throw new OfferError(what);
  return url;
}

/** The credential_offer_uri of an openid-credential-offer:// link, or the http(s) URL given. */
export function offerUriOf(link) {
  const wrong = "the offer must be openid-credential-offer://… or an http(s) URL";
  if (typeof link !== "string") throw new OfferError(wrong);
  let text = link.trim();
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new OfferError(wrong);
  }
  if (url.protocol === "openid-credential-offer:") {
    const found = url.searchParams.getAll("credential_offer_uri");
    if (found.length !== 1) throw new OfferError("the offer link has no single credential_offer_uri");
    text = found[0];
  }
  return httpUrl(text, wrong).href;
}

function refusal(status, answer) {
  if (answer !== null && typeof answer === "object" && typeof answer.error === "string") {
    const described = typeof answer.error_description === "string" ? answer.error_description : WORDS[answer.error] ?? "";
    return new OfferError(`the issuer refused (${answer.error})${described ? `: ${described}` : ""}`);
  }
  return new OfferError(`the issuer refused (HTTP ${status})`);
}

async function exchange(fetcher, method, url, { body = null, contentType = null, token = null } = {}) {
  const target = httpUrl(url, "the issuer named an endpoint that is no http(s) URL");
  const headers = { Accept: "application/json" };
  if (contentType !== null) headers["Content-Type"] = contentType;
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  let response;
  let raw;
  try {
    response = await fetcher(target.href, {
      method,
      headers,
      body: body ?? undefined,
      credentials: "omit",
      referrerPolicy: "no-referrer",
      redirect: "error",
      cache: "no-store",
    });
    raw = await response.text();
  } catch {
    throw new OfferError(`the issuer at ${target.origin} is unreachable`);
  }
  if (raw.length > MAX_ANSWER) throw new OfferError("the issuer's answer is too large");
  try {
    return [response.status, raw ? JSON.parse(raw) : null];
  } catch {
    throw new OfferError(`the issuer answered HTTP ${response.status}, not JSON`);
  }
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

async function getJson(fetcher, url) {
  const [status, document] = await exchange(fetcher, "GET", url);
  if (status !== 200) throw refusal(status, document);
  if (!isObject(document)) throw new OfferError("the issuer answered something other than a JSON object");
  return document;
}

function text(document, name, what) {
  const value = document[name];
  if (typeof value !== "string" || !value) throw new OfferError(`the ${what} has no ${name}`);
  return value;
}

function sameOrigin(url, issuer, what) {
  let a;
  let b;
  try {
    a = new URL(url);
    b = new URL(issuer);
  } catch {
    throw new OfferError(`the ${what} is no URL`);
  }
  if (a.origin !== b.origin) throw new OfferError(`the ${what} is on another origin than the credential issuer`);
  return url;
}

const stripSlash = (value) => value.replace(/\/+$/u, "");

/**
 * The offer ``link`` refers to and its issuer's metadata, checked as oid4vci.py read_offer
 * checks them: {credentialIssuer, configurationId, preAuthorizedCode, txCode: {length,
 * inputMode, description} | null, tokenEndpoint, nonceEndpoint, credentialEndpoint}.
 */
export async function readOffer(link, { fetch: fetcher = globalThis.fetch } = {}) {
  const uri = offerUriOf(link);
  const offer = await getJson(fetcher, uri);
  const issuer = stripSlash(text(offer, "credential_issuer", "offer"));
  sameOrigin(uri, issuer, "offer");
  const ids = offer.credential_configuration_ids;
  if (!Array.isArray(ids) || ids.length !== 1 || typeof ids[0] !== "string") {
    throw new OfferError("the offer must name exactly one credential configuration");
  }
  const grant = isObject(offer.grants) ? offer.grants[PRE_AUTHORIZED_GRANT] : undefined;
  if (!isObject(grant)) throw new OfferError("the offer has no pre-authorized code grant");
  const code = text(grant, "pre-authorized_code", "offer's grant");
  const tx = isObject(grant.tx_code) ? grant.tx_code : null;
  const metadata = await getJson(fetcher, `${issuer}/.well-known/openid-credential-issuer`);
  if (typeof metadata.credential_issuer !== "string" || stripSlash(metadata.credential_issuer) !== issuer) {
    throw new OfferError("the issuer's metadata names another credential issuer");
  }
  const servers = metadata.authorization_servers;
  const server = Array.isArray(servers) && servers.length ? stripSlash(String(servers[0])) : issuer;
  sameOrigin(server, issuer, "authorization server");
  const authorization = await getJson(fetcher, `${server}/.well-known/oauth-authorization-server`);
  return {
    credentialIssuer: issuer,
    configurationId: ids[0],
    preAuthorizedCode: code,
    txCode: tx === null ? null : {
      length: Number.isInteger(tx.length) && tx.length > 0 ? tx.length : null,
      inputMode: tx.input_mode === "text" ? "text" : "numeric",
      description: typeof tx.description === "string" ? tx.description : null,
    },
    tokenEndpoint: sameOrigin(text(authorization, "token_endpoint", "authorization server"), issuer, "token endpoint"),
    nonceEndpoint: sameOrigin(text(metadata, "nonce_endpoint", "issuer metadata"), issuer, "nonce endpoint"),
    credentialEndpoint: sameOrigin(text(metadata, "credential_endpoint", "issuer metadata"), issuer, "credential endpoint"),
  };
}

/**
 * The di_vp key proof (OpenID4VCI Appendix F.2) as oid4vci.py key_proof makes it: a
 * presentation of no credential, signed sm2-jcs-2026 with proofPurpose authentication,
 * challenge the c_nonce, domain the credential issuer; the same signing rule as present.js.
 */
export function keyProof(privateKey, cNonce, credentialIssuer, { createdMs = Date.now() } = {}) {
  if (typeof cNonce !== "string" || !cNonce) throw new OfferError("the issuer's c_nonce is missing");
  const publicKey = publicKeyOf(privateKey);
  const presentation = { "@context": [...CONTEXT], type: ["VerifiablePresentation"], holder: didOf(publicKey) };
  const proof = {
    type: "DataIntegrityProof",
    cryptosuite: CRYPTOSUITE,
    created: formatCreated(createdMs),
    verificationMethod: verificationMethodOf(publicKey),
    proofPurpose: "authentication",
    challenge: cNonce,
    domain: credentialIssuer,
  };
  proof.proofValue = `z${base58Encode(sign(privateKey, hashData(presentation, proof)))}`;
  return { ...presentation, proof };
}

/** The tx_code as the offer asks for it, or an OfferError saying what it must be. */
export function checkTxCode(offer, txCode) {
  const code = typeof txCode === "string" ? txCode.trim() : "";
  const shape = offer.txCode;
  if (shape === null) return code;
  if (!code) throw new OfferError("the tx_code is required");
  if (shape.length !== null && code.length !== shape.length) throw new OfferError(`the tx_code is ${shape.length} digits`);
  if (shape.inputMode === "numeric" && !/^[0-9]+$/u.test(code)) {
    throw new OfferError(shape.length !== null ? `the tx_code is ${shape.length} digits` : "the tx_code is digits only");
  }
  return code;
}

/**
 * Redeem ``offer`` (readOffer's) with ``txCode`` for the key ``privateKey``: the credential,
 * its offline checks passed and bound to this key, with its digest (hex) — ready to store.
 */
export async function redeemOffer(offer, txCode, privateKey, { fetch: fetcher = globalThis.fetch, createdMs } = {}) {
  const code = checkTxCode(offer, txCode);
  const form = new URLSearchParams({ grant_type: PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.preAuthorizedCode });
  if (offer.txCode !== null) form.set("tx_code", code);
  let [status, answer] = await exchange(fetcher, "POST", offer.tokenEndpoint, {
    body: form.toString(),
    contentType: "application/x-www-form-urlencoded",
  });
  if (status !== 200 || !isObject(answer)) throw refusal(status, answer);
  const access = text(answer, "access_token", "token answer");
  // No body and no Content-Type: a CORS simple request, no preflight.
  [status, answer] = await exchange(fetcher, "POST", offer.nonceEndpoint);
  if (status !== 200 || !isObject(answer)) throw refusal(status, answer);
  const cNonce = text(answer, "c_nonce", "nonce answer");
  const request = {
    credential_configuration_id: offer.configurationId,
    proofs: { di_vp: [keyProof(privateKey, cNonce, offer.credentialIssuer, createdMs === undefined ? {} : { createdMs })] },
  };
  [status, answer] = await exchange(fetcher, "POST", offer.credentialEndpoint, {
    body: JSON.stringify(request),
    contentType: "application/json",
    token: access,
  });
  if (status !== 200 || !isObject(answer)) throw refusal(status, answer);
  const credentials = answer.credentials;
  if (!Array.isArray(credentials) || credentials.length !== 1) throw new OfferError("the issuer answered no single credential");
  const credential = isObject(credentials[0]) ? credentials[0].credential : undefined;
  if (!isObject(credential)) throw new OfferError("the issuer's credential is not a JSON object");
  const result = checkOffline(credential);
  if (result.check !== null) throw new OfferError(`the issued credential fails its offline checks: ${result.reason}`);
  if (!isObject(credential.credentialSubject) || credential.credentialSubject.id !== didOf(publicKeyOf(privateKey))) {
    throw new OfferError("the issued credential is bound to another key");
  }
  return { credential, digest: bytesToHex(result.parsed.digest) };
}

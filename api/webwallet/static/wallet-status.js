/**
 * Each held credential's live status (docs/wallet.md "Live status"): its Bitstring Status List
 * entries, each list fetched from the issuing province (the entry's statusListCredential URL),
 * the list's sm2-jcs-2026 proof checked with the key IssuerRegistry holds for the list's
 * issuer (read over the chain node's JSON-RPC, the registry's address read from AuditAnchor),
 * then the bit at statusListIndex (credentials/status_list.py decode_list and bit_at, ported
 * exactly: Multibase "u" + canonical base64url without padding of GZIP, index 0 the most
 * significant bit of byte 0, the gunzip capped). Shown as valid, revoked, suspended, or
 * "cannot be confirmed" with the reason in words; never valid unless every entry was checked.
 */
import { decodeProofValue, hashData } from "./checks.js";
import { hexToBytes, verify } from "./wallet.js";

const ENTRY_TYPE = "BitstringStatusListEntry";
const LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential";
const MAX_LIST_BYTES = 16 * 1024 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
// keccak256("registry()")[:4] and keccak256("key(uint32,bytes32)")[:4], as registry.js computes.
const REGISTRY_SELECTOR = "0x7b103999";
const KEY_SELECTOR = "0xedf731a2";
const ISSUER_METHOD = /^did:tongban:(\d+):(\d+)#([A-Za-z0-9._-]{1,32})$/;

/** Why a status cannot be confirmed; `why` names the page's words (status_why_<why>). */
class Unconfirmed extends Error {
  constructor(why) {
    super(why);
    this.why = why;
  }
}

function fromBase64Url(text) {
  const padded = text.replaceAll("-", "+").replaceAll("_", "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  const again = btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  if (again !== text) throw new Unconfirmed("malformed"); // non-canonical trailing bits
  return bytes;
}

async function gunzip(compressed, maxBytes) {
  const stream = new Blob([compressed]).stream().pipeThrough(new DecompressionStream("gzip"));
  const reader = stream.getReader();
  const parts = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > maxBytes) {
        await reader.cancel();
        throw new Unconfirmed("malformed");
      }
      parts.push(value);
    }
  } catch (error) {
    throw error instanceof Unconfirmed ? error : new Unconfirmed("malformed");
  }
  const bits = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bits.set(part, at);
    at += part.length;
  }
  return bits;
}

/** The bitstring of an encodedList (status_list.py decode_list). */
export async function decodeList(encoded, maxBytes = MAX_LIST_BYTES) {
  if (typeof encoded !== "string" || !encoded.startsWith("u")) throw new Unconfirmed("malformed");
  const body = encoded.slice(1);
  const longest = Math.floor(((maxBytes + Math.floor(maxBytes / 1000) + 1024) * 4) / 3) + 4;
  if (body.length > longest || !BASE64URL.test(body)) throw new Unconfirmed("malformed");
  return gunzip(fromBase64Url(body), maxBytes);
}

/** Whether entry `index` is set: index 0 is the most significant bit of byte 0 (bit_at). */
export function bitAt(bits, index) {
  if (!Number.isSafeInteger(index) || index < 0 || index >= bits.length * 8) throw new Unconfirmed("malformed");
  return (bits[index >> 3] & (0x80 >> (index & 7))) !== 0;
}

const asList = (value) => (value === undefined || value === null ? [] : Array.isArray(value) ? value : [value]);
const idOf = (value) => (typeof value === "object" && value !== null ? value.id : value);

async function ethCall(chain, to, data) {
  const answer = await fetch(chain.rpcUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to, data }, "latest"] }),
    credentials: "omit",
    referrerPolicy: "no-referrer",
  });
  const reply = await answer.json();
  if (typeof reply.result !== "string" || !/^0x([0-9a-f]{64})*$/i.test(reply.result)) {
    throw new Unconfirmed("proof");
  }
  return reply.result.slice(2).match(/.{64}/g) ?? [];
}

const wordNumber = (word) => Number(BigInt(`0x${word}`));

/** The SM2 key (bytes) IssuerRegistry holds for `method`, refused when marked compromised. */
async function registryKey(chain, method) {
  const found = ISSUER_METHOD.exec(method);
  if (!found) throw new Unconfirmed("proof");
  const [registryWord] = await ethCall(chain, chain.anchorAddress, REGISTRY_SELECTOR);
  if (!registryWord) throw new Unconfirmed("proof");
  const registry = `0x${registryWord.slice(24)}`;
  let fragment = "";
  for (const char of found[3]) fragment += char.charCodeAt(0).toString(16).padStart(2, "0");
  const words = await ethCall(chain, registry,
    KEY_SELECTOR + BigInt(found[2]).toString(16).padStart(64, "0") + fragment.padEnd(64, "0"));
  // KeyRecord(keyId, publicKey, validFrom, retiredAt, compromised, compromisedFrom): a tuple
  // behind one offset, its publicKey bytes behind another (registry.js decodeKeyRecord).
  if (words.length < 8) throw new Unconfirmed("proof");
  const tuple = wordNumber(words[0]) / 32;
  const tail = tuple + wordNumber(words[tuple + 1]) / 32;
  const length = wordNumber(words[tail] ?? "");
  if (!Number.isInteger(tail) || length === 0 || length > 65) throw new Unconfirmed("proof");
  if (wordNumber(words[tuple + 4]) === 1) throw new Unconfirmed("proof"); // marked compromised
  return hexToBytes(words.slice(tail + 1).join("").slice(0, length * 2));
}

async function verifiedList(url, credential, chain, cache) {
  if (cache.has(url)) return cache.get(url);
  const promise = (async () => {
    let document;
    try {
      const answer = await fetch(url, { credentials: "omit", referrerPolicy: "no-referrer", cache: "no-cache" });
      if (!answer.ok) throw new Error(String(answer.status));
      document = await answer.json();
    } catch {
      throw new Unconfirmed("fetch");
    }
    if (!asList(document.type).includes(LIST_CREDENTIAL_TYPE)) throw new Unconfirmed("malformed");
    if (idOf(document.issuer) !== idOf(credential.issuer)) throw new Unconfirmed("issuer");
    if (!chain.rpcUrl || !chain.anchorAddress) throw new Unconfirmed("chain");
    const proofs = asList(document.proof);
    const proof = proofs[0];
    if (proofs.length !== 1 || proof.type !== "DataIntegrityProof" || proof.cryptosuite !== "sm2-jcs-2026"
      || proof.proofPurpose !== "assertionMethod" || !String(proof.verificationMethod).startsWith(`${idOf(document.issuer)}#`)) {
      throw new Unconfirmed("proof");
    }
    const key = await registryKey(chain, proof.verificationMethod);
    const unsigned = Object.fromEntries(Object.entries(document).filter(([k]) => k !== "proof"));
    let signature;
    try {
      signature = decodeProofValue(proof.proofValue);
    } catch {
      throw new Unconfirmed("proof");
    }
    if (!verify(key, hashData(unsigned, proof), signature)) throw new Unconfirmed("proof");
    const subject = document.credentialSubject ?? {};
    return { id: document.id, purposes: asList(subject.statusPurpose), bits: await decodeList(subject.encodedList) };
  })();
  cache.set(url, promise);
  return promise;
}

/**
 * The live status of `credential`: {state: "valid" | "revoked" | "suspended" | "unknown", why}.
 * `chain` is {rpcUrl, anchorAddress}; `cache` (a Map) shares fetched lists between credentials.
 */
export async function liveStatus(credential, chain, cache = new Map()) {
  const entries = asList(credential.credentialStatus).filter((e) => e && e.type === ENTRY_TYPE);
  if (!entries.length) return { state: "unknown", why: "none" };
  const set = new Set();
  try {
    for (const entry of entries) {
      const index = Number(entry.statusListIndex);
      if (typeof entry.statusListIndex !== "string" || !/^\d+$/.test(entry.statusListIndex)) throw new Unconfirmed("malformed");
      const list = await verifiedList(String(entry.statusListCredential), credential, chain, cache);
      if (list.id !== entry.statusListCredential || !list.purposes.includes(entry.statusPurpose)) {
        throw new Unconfirmed("malformed");
      }
      if (bitAt(list.bits, index)) set.add(entry.statusPurpose);
    }
  } catch (error) {
    if (error instanceof Unconfirmed) return { state: "unknown", why: error.why };
    return { state: "unknown", why: "malformed" };
  }
  if (set.has("revocation")) return { state: "revoked", why: null };
  if (set.has("suspension")) return { state: "suspended", why: null };
  return { state: "valid", why: null };
}

/**
 * Show the live status of each credential card: `cards` is [{element, credential}], `words` the
 * page's words, `chain` {rpcUrl, anchorAddress}. Each card gets one status line, filled in when
 * its lists are checked.
 */
export function showStatuses(cards, words, chain) {
  const cache = new Map();
  for (const { element, credential } of cards) {
    const line = document.createElement("p");
    line.className = "status-line";
    line.textContent = words.status_checking;
    element.append(line);
    liveStatus(credential, chain, cache).then(({ state, why }) => {
      const said = words[`status_${state}`];
      line.textContent = words.status_label + (why ? `${said}（${words[`status_why_${why}`]}）` : said);
      line.dataset.status = state;
      line.classList.add(state === "valid" ? "check-ok" : "check-bad");
    });
  }
}

/**
 * "Who accessed my data, everywhere" (issue #18): one timeline merged from every province.
 *
 * `verifyDirectory` checks the consortium directory as api/province/directory.py does (same
 * form, same rules, same reason words; docs/citizen-timeline.md). `accessTimeline` asks every
 * province the directory lists, in parallel and each under its own timeout, for the holder's
 * access history (POST /citizen/challenge, then POST /citizen/access-history with the
 * challenge signed by the holder's key as ledger/audit/citizen_request.py says), checks each
 * record with auditproof.js against the root AuditAnchor holds for that province's log, and
 * returns one list sorted by time plus one status per province: answered, unreachable (the
 * error in words) or refused (the province's problem code). No province is left out.
 *
 * Nothing here stores anything, and nothing personal is sent but the holder's DID, which the
 * province needs to find the holder's events.
 */
import { canonicalize } from "./jcs.js";
import { JsonRpc } from "./evm.js";
import { readProvinceKey } from "./registry.js";
import { didOf } from "./didkey.js";
import { bytesToHex, hexToBytes, publicKeyOf, sign, utf8ToBytes, verify as sm2Verify } from "./sm.js";
import { compressedKey, verifyEventInBrowser } from "./auditproof.js";

/** api/province/directory.py DIRECTORY_TYPE and DIRECTORY_DOMAIN. */
export const DIRECTORY_TYPE = "TongbanConsortiumDirectory/v1";
export const DIRECTORY_DOMAIN = "tongban/consortium-directory/v1";
/** ledger/audit/citizen_request.py CITIZEN_DOMAIN. */
export const CITIZEN_DOMAIN = "tongban/citizen-view/v1";
/** How long one province may take to answer (both requests), by default. */
export const DEFAULT_TIMEOUT_MS = 8000;

const PAYLOAD_MAGIC = utf8ToBytes("tongban/sm2-payload/v1\u0000");
const FIELDS = ["type", "chainId", "version", "issuedAt", "validFrom", "validUntil", "threshold", "provinces", "signatures"];
const PROVINCE_FIELDS = ["issuerId", "divisionCode", "name", "apiBaseUrl", "walletOrigin"];
const SIGNATURE_FIELDS = ["issuerId", "keyId", "signature"];
const DIVISION = /^[1-9][0-9]0000$/;
const URL_FORM = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[A-Za-z0-9._~/-]*)?$/;
const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/;
const KEY_ID = /^did:tongban:[0-9]{1,20}:[0-9]{1,10}#[A-Za-z0-9._-]{1,32}$/;
const SIGNATURE = /^[0-9a-f]{128}$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{1,6}Z$/;
const MAX_PROVINCES = 64;

/** A broken rule of the directory; `reason` is api/province/directory.py's word. */
export class DirectoryFailure extends Error {
  constructor(reason, detail) {
    super(`${reason}: ${detail}`);
    this.name = "DirectoryFailure";
    this.reason = reason;
    this.detail = detail;
  }
}

const malformed = (detail) => new DirectoryFailure("malformed", detail);

function members(value, allowed, what, optional = ["walletOrigin", "signatures"]) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw malformed(`${what} is not an object`);
  const names = Object.keys(value);
  const extra = names.filter((n) => !allowed.includes(n));
  const missing = allowed.filter((n) => !names.includes(n) && !optional.includes(n));
  if (extra.length || missing.length) throw malformed(`${what} has unknown members or lacks some`);
  return value;
}

function whole(value, what, low = 0) {
  if (!Number.isSafeInteger(value) || value < low) throw malformed(`${what} is not a whole number of at least ${low}`);
  return value;
}

function text(value, what, pattern = null, cap = 200) {
  // Python counts code points; so does the spread.
  if (typeof value !== "string" || value.length === 0 || [...value].length > cap) throw malformed(`${what} is not a text of 1 to ${cap} characters`);
  if (pattern && !pattern.test(value)) throw malformed(`${what} is not of the expected form`);
  return value;
}

function time(value, what) {
  const at = TIME.test(text(value, what)) ? Date.parse(value) : NaN;
  if (!Number.isFinite(at)) throw malformed(`${what} is not a UTC time such as 2026-12-01T00:00:00.000Z`);
  return at;
}

function payload(domain, message) {
  const tag = utf8ToBytes(domain);
  const out = new Uint8Array(PAYLOAD_MAGIC.length + 1 + tag.length + message.length);
  out.set(PAYLOAD_MAGIC, 0);
  out[PAYLOAD_MAGIC.length] = tag.length;
  out.set(tag, PAYLOAD_MAGIC.length + 1);
  out.set(message, PAYLOAD_MAGIC.length + 1 + tag.length);
  return out;
}

/** The directory's form checked (not its signatures): parse_directory's rules. */
export function parseDirectory(document) {
  members(document, FIELDS, "the directory");
  if (document.type !== DIRECTORY_TYPE) throw malformed(`type is not ${DIRECTORY_TYPE}`);
  const listed = document.provinces;
  if (!Array.isArray(listed) || listed.length < 1 || listed.length > MAX_PROVINCES) throw malformed(`provinces is not a list of 1 to ${MAX_PROVINCES}`);
  const provinces = listed.map((item, at) => {
    members(item, PROVINCE_FIELDS, `provinces[${at}]`);
    const origin = item.walletOrigin ?? null;
    return {
      issuerId: whole(item.issuerId, `provinces[${at}].issuerId`, 1),
      divisionCode: text(item.divisionCode, `provinces[${at}].divisionCode`, DIVISION),
      name: text(item.name, `provinces[${at}].name`, null, 64),
      apiBaseUrl: text(item.apiBaseUrl, `provinces[${at}].apiBaseUrl`, URL_FORM).replace(/\/+$/, ""),
      walletOrigin: origin === null ? null : text(origin, `provinces[${at}].walletOrigin`, ORIGIN),
    };
  });
  if (new Set(provinces.map((p) => p.issuerId)).size !== provinces.length) throw malformed("an issuerId is listed twice");
  const threshold = whole(document.threshold, "threshold", 1);
  if (threshold > provinces.length) throw malformed("threshold is more than the provinces listed");
  const validFrom = time(document.validFrom, "validFrom");
  const validUntil = time(document.validUntil, "validUntil");
  if (validUntil <= validFrom) throw malformed("validUntil is not after validFrom");
  return {
    chainId: whole(document.chainId, "chainId", 1),
    version: whole(document.version, "version", 1),
    issuedAt: time(document.issuedAt, "issuedAt"),
    validFrom,
    validUntil,
    threshold,
    provinces,
  };
}

/** The bytes each directory signer signs: SignedPayload(domain, JCS(document - signatures)). */
export function directorySigningBytes(document) {
  const body = Object.fromEntries(Object.entries(document).filter(([name]) => name !== "signatures"));
  return payload(DIRECTORY_DOMAIN, canonicalize(body));
}

/**
 * Check the directory as verify_directory does: its form, `nowMs` inside its window, and
 * signatures by distinct listed provinces reaching both `threshold` and a majority. Each
 * signature's key is `keys[issuerId]` (hex, pinned by the wallet) when given, else the key
 * IssuerRegistry holds under its keyId, read over `chain` ({ rpcUrl, anchorAddress }).
 * Returns the parsed directory; throws DirectoryFailure.
 */
export async function verifyDirectory(document, { keys = {}, chain = null, nowMs = Date.now(), fetch, timeoutMs } = {}) {
  const directory = parseDirectory(document);
  if (nowMs < directory.validFrom) throw new DirectoryFailure("not_yet_valid", `valid from ${document.validFrom}`);
  if (nowMs >= directory.validUntil) throw new DirectoryFailure("expired", `valid until ${document.validUntil}`);
  const signatures = document.signatures ?? [];
  if (!Array.isArray(signatures) || signatures.length > MAX_PROVINCES) throw malformed("signatures is not a list");
  const listed = new Set(directory.provinces.map((p) => p.issuerId));
  const message = directorySigningBytes(document);
  const signed = new Set();
  const rpc = chain?.rpcUrl ? new JsonRpc(chain.rpcUrl, { fetch, timeoutMs }) : null;
  for (const [at, raw] of signatures.entries()) {
    members(raw, SIGNATURE_FIELDS, `signatures[${at}]`, []);
    const issuer = whole(raw.issuerId, `signatures[${at}].issuerId`, 1);
    const keyId = text(raw.keyId, `signatures[${at}].keyId`, KEY_ID);
    const signature = text(raw.signature, `signatures[${at}].signature`, SIGNATURE);
    if (!listed.has(issuer) || !keyId.startsWith(`did:tongban:${directory.chainId}:${issuer}#`)) {
      throw new DirectoryFailure("unknown_signer", `signatures[${at}] is not a listed province's`);
    }
    let key = null;
    try {
      if (typeof keys[issuer] === "string") key = compressedKey(keys[issuer]);
      else if (rpc) {
        const read = { rpc, anchor: chain.anchorAddress.toLowerCase(), logId: BigInt(issuer) };
        key = compressedKey(await readProvinceKey(read, keyId, Math.floor(directory.issuedAt / 1000)));
      }
    } catch {
      key = null;
    }
    if (!key) throw new DirectoryFailure("unknown_signer", `no registered key ${keyId}`);
    if (!sm2Verify(key, message, hexToBytes(signature))) throw new DirectoryFailure("bad_signature", `signatures[${at}] does not verify`);
    signed.add(issuer);
  }
  const needed = Math.max(directory.threshold, Math.floor(listed.size / 2) + 1);
  if (signed.size < needed) throw new DirectoryFailure("too_few_signatures", `${signed.size} provinces signed; ${needed} are needed`);
  return directory;
}

/** Thrown inside one province's exchange; becomes its status. */
class Answer extends Error {
  constructor(status, code, words) {
    super(words);
    this.status = status;
    this.code = code;
    this.words = words;
  }
}

async function post(fetchFn, url, body, signal) {
  let response;
  try {
    response = await fetchFn(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      signal,
      credentials: "omit",
    });
  } catch (error) {
    if (signal.aborted) throw new Answer("unreachable", "timeout", "the province did not answer in time");
    throw new Answer("unreachable", "network", "the province could not be reached");
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (!response.ok) {
    const code = typeof answer?.code === "string" ? answer.code : `http-${response.status}`;
    const title = typeof answer?.title === "string" ? answer.title : `HTTP ${response.status}`;
    if (response.status >= 500) throw new Answer("unreachable", code, `the province could not serve the request (${title})`);
    throw new Answer("refused", code, `the province refused the request (${title})`);
  }
  if (answer === null || typeof answer !== "object") throw new Answer("refused", "bad-answer", "the province's answer is not JSON");
  return answer;
}

async function askProvince(province, holder, privateKey, fetchFn, timeoutMs) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const base = province.apiBaseUrl;
    const issued = await post(fetchFn, `${base}/citizen/challenge`, { holder }, abort.signal);
    if (issued.logId !== province.issuerId || issued.holder !== holder || typeof issued.challenge !== "string") {
      throw new Answer("refused", "wrong-province", "the answer is not from the province the directory names");
    }
    const message = canonicalize({ challenge: issued.challenge, holder, logId: province.issuerId });
    const signature = bytesToHex(sign(privateKey, payload(CITIZEN_DOMAIN, message)));
    const history = await post(fetchFn, `${base}/citizen/access-history`, { holder, challenge: issued.challenge, signature }, abort.signal);
    if (history.logId !== province.issuerId || history.holder !== holder || !Array.isArray(history.records)) {
      throw new Answer("refused", "wrong-province", "the answer is not from the province the directory names");
    }
    return history;
  } finally {
    clearTimeout(timer);
  }
}

async function proveRecord(record, history, chainId, chain, fetchFn, timeoutMs) {
  if (!record || typeof record !== "object" || !record.event || !record.receipt) return { proved: false, reason: "input.malformed" };
  if (!record.inclusion || !history.anchored) return { proved: false, reason: "not_yet_anchored" };
  if (!chain?.rpcUrl) return { proved: false, reason: "chain.not_configured" };
  const result = await verifyEventInBrowser({
    rpcUrl: chain.rpcUrl,
    anchorAddress: chain.anchorAddress,
    chainId,
    confirmations: chain.confirmations ?? 1,
    logId: history.logId,
    event: record.event,
    receipt: record.receipt,
    inclusionProof: {
      index: record.index,
      treeSize: record.inclusion.treeSize,
      leafHash: record.receipt.leafHash,
      proof: record.inclusion.proof,
    },
    checkpoint: history.anchored,
    fetch: fetchFn,
    timeoutMs,
  });
  return { proved: result.ok, reason: result.code };
}

function entryOf(province, record, proof) {
  const event = record?.event ?? {};
  const label = record?.purposeLabel ?? null;
  return {
    time: typeof event.time === "string" ? event.time : "",
    province: { issuerId: province.issuerId, name: province.name, divisionCode: province.divisionCode },
    verifier: typeof event.actor === "string" ? event.actor : null,
    agency: record?.agency ? { code: record.agency.code, name: record.agency.name } : null,
    actorOrg: typeof event.actorOrg === "string" ? event.actorOrg : null,
    action: typeof event.action === "string" ? event.action : null,
    purpose: label ? { code: label.code, zh: label.zh, en: label.en, listed: label.listed } : { code: event.purpose ?? null, zh: null, en: null, listed: false },
    legalBasis: typeof event.legalBasis === "string" ? event.legalBasis : null,
    outcome: typeof event.outcome === "string" ? event.outcome : null,
    index: Number.isSafeInteger(record?.index) ? record.index : null,
    proved: proof.proved,
    reason: proof.reason,
  };
}

/**
 * The holder's access history from every province of `directory` (checked first with
 * verifyDirectory and `directoryKeys`), merged. Options: directory, directoryKeys, privateKey
 * (the holder's 32 bytes, from the wallet's keystore), chain ({ rpcUrl, anchorAddress,
 * confirmations }: where records are proved; without it none is), timeoutMs (per province),
 * fetch, nowMs. Returns { ok, directory: { ok, reason, detail, version }, provinces: [{ issuerId,
 * name, status, code, words, records }], entries: [...sorted by time, newest first] }.
 */
export async function accessTimeline(options) {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const chain = options.chain ?? null;
  let directory;
  try {
    directory = await verifyDirectory(options.directory, { keys: options.directoryKeys ?? {}, chain, nowMs: options.nowMs ?? Date.now(), fetch: fetchFn, timeoutMs });
  } catch (error) {
    if (!(error instanceof DirectoryFailure)) throw error;
    return { ok: false, directory: { ok: false, reason: error.reason, detail: error.detail, version: null }, provinces: [], entries: [] };
  }
  const privateKey = options.privateKey;
  const holder = didOf(publicKeyOf(privateKey));
  const asked = await Promise.all(
    directory.provinces.map(async (province) => {
      try {
        const history = await askProvince(province, holder, privateKey, fetchFn, timeoutMs);
        const entries = [];
        for (const record of history.records) {
          const proof = await proveRecord(record, history, directory.chainId, chain, fetchFn, timeoutMs);
          entries.push(entryOf(province, record, proof));
        }
        return { status: { issuerId: province.issuerId, name: province.name, status: "answered", code: "ok", words: "answered", records: entries.length }, entries };
      } catch (error) {
        if (!(error instanceof Answer)) throw error;
        return { status: { issuerId: province.issuerId, name: province.name, status: error.status, code: error.code, words: error.words, records: 0 }, entries: [] };
      }
    }),
  );
  const entries = asked.flatMap((a) => a.entries);
  entries.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : a.province.issuerId - b.province.issuerId || (a.index ?? 0) - (b.index ?? 0)));
  const provinces = asked.map((a) => a.status);
  return {
    ok: provinces.every((p) => p.status === "answered") && entries.every((e) => e.proved),
    holder,
    directory: { ok: true, reason: "ok", detail: "", version: directory.version },
    provinces,
    entries,
  };
}

/**
 * An audit event's proofs checked in the browser against the root anchored on chain (issue #19).
 *
 * `verifyEventInBrowser` recomputes the event's leaf, checks its receipt (the province's SM2
 * signature over the batch statement, ledger/audit/receipts.py) and the checkpoint's signed note
 * (ledger/audit/checkpoints.py), then reads the checkpoint from AuditAnchor through the JSON-RPC
 * node the auditor names (eth_chainId, eth_getLogs, eth_call, eth_blockNumber) and verifies the
 * event's RFC 9162 inclusion proof against the root *read from the chain*, never against the
 * root the province states. `verifyCheckpointTimeline` does the same for a run of checkpoints
 * and proves each consistent with the one before.
 *
 * Results are data, never exceptions: `{ ok, code, steps: [{ step, ok, code, detail }] }` where
 * `ok` is true, false, or null (not run), and `code` is a stable reason word (docs/consoles.md,
 * "Browser proof"). Nothing personal is in a code or a detail: events carry pseudonyms only,
 * and details name sizes, indexes and hashes.
 */
import { canonicalize } from "./jcs.js";
import { JsonRpc, RpcError, callData, keccakHex, wordBytes, wordUint } from "./evm.js";
import { hashLeaf, sameBytes, verifyConsistency, verifyInclusion } from "./merkle.js";
import { readProvinceKey } from "./registry.js";
import { bytesToHex, hexToBytes, sm3, utf8ToBytes, verify as sm2Verify } from "./sm.js";
import { sha256 } from "@noble/hashes/sha2.js";

export { hashLeaf, hashChildren, rootFromInclusionProof, verifyConsistency, verifyInclusion } from "./merkle.js";
export { JsonRpc, RpcError, callData, selector, keccakHex } from "./evm.js";
export { decodeKeyRecord, keyFragment, readProvinceKey } from "./registry.js";

/** What the province signs for a receipt (ledger/audit/receipts.py RECEIPT_DOMAIN). */
export const RECEIPT_DOMAIN = "tongban/audit-receipt/v1";
/** ledger/crypto/signer.py PAYLOAD_MAGIC. */
const PAYLOAD_MAGIC = utf8ToBytes("tongban/sm2-payload/v1\u0000");

/** AuditAnchor's functions and event, by canonical signature (contracts/src/interfaces). */
export const ABI = Object.freeze({
  checkpointAt: "checkpointAt(uint32,uint256)",
  epochOf: "epochOf(uint32)",
  checkpointAppended: "CheckpointAppended(uint32,uint32,uint256,uint64,bytes32)",
});

/** The steps of verifyEventInBrowser, in the order they are reported. */
export const EVENT_STEPS = Object.freeze(["input", "chain", "key", "event", "receipt", "note", "anchor", "finality", "inclusion"]);

const HEX32 = /^[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

class Failure extends Error {
  constructor(code, detail = "") {
    super(detail || code);
    this.code = code;
    this.detail = detail;
  }
}

function fail(code, detail) {
  throw new Failure(code, detail);
}

function hash32(value, what) {
  if (typeof value !== "string" || !HEX32.test(value)) fail("input.malformed", `${what} is not 32 bytes of lowercase hex`);
  return hexToBytes(value);
}

function count(value, what, { min = 0n } = {}) {
  const ok =
    (typeof value === "number" && Number.isSafeInteger(value)) ||
    (typeof value === "string" && /^[0-9]{1,20}$/.test(value)) ||
    typeof value === "bigint";
  if (!ok) fail("input.malformed", `${what} is not a whole number`);
  const number = BigInt(value);
  if (number < min) fail("input.malformed", `${what} is below ${min}`);
  return number;
}

function object(value, what) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) fail("input.malformed", `${what} is missing`);
  return value;
}

function hashList(value, what) {
  if (!Array.isArray(value) || value.length > 64) fail("input.malformed", `${what} is not a list of at most 64 hashes`);
  return value.map((item, i) => hash32(item, `${what}[${i}]`));
}

/** A public key in hex (33-byte compressed or 65-byte uncompressed) as compressed bytes. */
export function compressedKey(hexKey) {
  if (typeof hexKey !== "string" || !/^(0[23][0-9a-f]{64}|04[0-9a-f]{128})$/.test(hexKey)) {
    fail("input.malformed", "the province key is not an SM2 public key in hex");
  }
  const key = hexToBytes(hexKey);
  if (key.length === 33) return key;
  const out = key.slice(0, 33);
  out[0] = key[64] & 1 ? 3 : 2;
  return out;
}

/** The event's leaf hash in the log: SM3(0x00 || SM3(JCS(event))) (ledger/audit/events.py). */
export function eventLeafHash(event) {
  return hashLeaf(sm3(canonicalize(event)));
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

/**
 * Check a receipt (`Receipt.to_json()`): its path leads from the leaf to the signed batch root
 * and the province's key signed the batch statement. Returns the leaf hash and index it vouches
 * for; throws a Failure with a code otherwise.
 */
export function checkReceipt(receipt, publicKey, logId) {
  object(receipt, "the receipt");
  const batch = object(receipt.batch, "the receipt's batch");
  if (receipt.type !== "TongbanAuditReceipt/v1") fail("receipt.malformed", "not a TongbanAuditReceipt/v1");
  const receiptLog = count(receipt.logId, "the receipt's logId");
  if (receiptLog !== logId) fail("receipt.log_mismatch", `the receipt is from log ${receiptLog}, not ${logId}`);
  const index = count(receipt.index, "the receipt's index");
  const first = count(batch.firstIndex, "the batch's firstIndex");
  const size = count(batch.count, "the batch's count", { min: 1n });
  const leafHash = hash32(receipt.leafHash, "the receipt's leafHash");
  const root = hash32(batch.root, "the batch root");
  const path = hashList(batch.path, "the batch path");
  if (typeof receipt.time !== "string" || typeof receipt.signature !== "string") fail("input.malformed", "the receipt has no time or signature");
  const problem = verifyInclusion(index - first, size, leafHash, path, root);
  if (problem) fail("receipt.path_invalid", `the batch path: ${problem}`);
  const statement = canonicalize({
    logId: Number(receiptLog),
    firstIndex: Number(first),
    count: Number(size),
    batchRoot: batch.root,
    time: receipt.time,
  });
  if (!/^[0-9a-f]{128}$/.test(receipt.signature)) fail("receipt.signature_invalid", "the signature is not 64 bytes of hex");
  if (!sm2Verify(publicKey, payload(RECEIPT_DOMAIN, statement), hexToBytes(receipt.signature))) {
    fail("receipt.signature_invalid", "the province's key did not sign this batch statement");
  }
  return { index, leafHash };
}

function base64Bytes(text) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4) return null;
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/**
 * Check a checkpoint's C2SP signed note (ledger/audit/checkpoints.py): origin
 * tongban/<chainId>/<logId>, the stated size and root, the key id, and the SM2 signature.
 */
export function checkNote(note, { chainId, logId, treeSize, root, publicKey }) {
  if (typeof note !== "string") fail("note.malformed", "the checkpoint has no note");
  const split = note.indexOf("\n\n");
  const lines = split < 0 ? [] : note.slice(0, split).split("\n");
  if (lines.length !== 3) fail("note.malformed", "a note has three body lines, an empty line, a signature");
  const [origin, sizeText, rootText] = lines;
  const signatures = note.slice(split + 2).split("\n").filter(Boolean);
  if (signatures.length !== 1 || !note.endsWith("\n")) fail("note.malformed", "expected exactly one signature line");
  const parts = signatures[0].split(" ");
  const blob = parts.length === 3 && parts[0] === "\u2014" ? base64Bytes(parts[2]) : null;
  if (!blob || blob.length !== 68) fail("note.malformed", "malformed signature line");
  if (origin !== `tongban/${chainId}/${logId}`) fail("note.origin_mismatch", `the note is for ${origin.slice(0, 60)}`);
  if (sizeText !== String(treeSize)) fail("note.body_mismatch", "the note's tree size is not the checkpoint's");
  const noteRoot = base64Bytes(rootText);
  if (!noteRoot || !sameBytes(noteRoot, root)) fail("note.body_mismatch", "the note's root is not the checkpoint's");
  const name = utf8ToBytes(parts[1]);
  const material = new Uint8Array([...name, 0x0a, 0xff, ...utf8ToBytes("sm2-sm3"), ...publicKey]);
  if (!sameBytes(sha256(material).slice(0, 4), blob.slice(0, 4))) fail("note.key_id_mismatch", "the note names another key");
  const body = utf8ToBytes(note.slice(0, split + 1));
  if (!sm2Verify(publicKey, body, blob.slice(4))) fail("note.signature_invalid", "the province's key did not sign this note");
}

function chainInputs(options) {
  const rpcUrl = options.rpcUrl;
  if (typeof rpcUrl !== "string" || !rpcUrl) fail("input.rpc_url", "no RPC URL was named");
  const chainId = count(options.chainId, "chainId", { min: 1n });
  if (typeof options.anchorAddress !== "string" || !ADDRESS.test(options.anchorAddress)) {
    fail("input.anchor_address", "the AuditAnchor address is not 0x and 40 hex digits");
  }
  const logId = count(options.logId, "logId");
  if (logId >= 1n << 32n) fail("input.malformed", "logId is not a uint32");
  const confirmations = count(options.confirmations ?? 1, "confirmations", { min: 1n });
  let rpc;
  try {
    rpc = new JsonRpc(rpcUrl, { fetch: options.fetch, timeoutMs: options.timeoutMs });
  } catch (error) {
    fail(error.code ?? "input.rpc_url", error.message);
  }
  return { rpc, chainId, anchor: options.anchorAddress.toLowerCase(), logId, confirmations };
}

async function checkChainId(chain) {
  const actual = await chain.rpc.quantity("eth_chainId");
  if (actual !== chain.chainId) fail("chain.id_mismatch", `the node serves chain ${actual}, not ${chain.chainId}`);
}

function topicOf(value) {
  return `0x${value.toString(16).padStart(64, "0")}`;
}

/**
 * The checkpoint of tree size `treeSize` as AuditAnchor holds it, found through its
 * CheckpointAppended event in `blockHint` (the block the province says it was anchored in: a
 * hint only, everything is then read back from the contract) and confirmed by checkpointAt.
 */
export async function readAnchoredCheckpoint(chain, treeSize, blockHint, head) {
  if (blockHint === null || blockHint === undefined) fail("anchor.not_anchored", "the province does not say the checkpoint is anchored");
  const block = count(blockHint, "the checkpoint's blockNumber");
  if (block > head) fail("anchor.not_found", `block ${block} is beyond the node's head ${head}`);
  const logs = await chain.rpc.call("eth_getLogs", [
    {
      address: chain.anchor,
      fromBlock: `0x${block.toString(16)}`,
      toBlock: `0x${block.toString(16)}`,
      topics: [keccakHex(ABI.checkpointAppended), topicOf(chain.logId)],
    },
  ]);
  if (!Array.isArray(logs)) fail("rpc.bad_response", "eth_getLogs did not return a list");
  let found = null;
  for (const entry of logs) {
    if (entry?.removed || typeof entry?.address !== "string" || entry.address.toLowerCase() !== chain.anchor) continue;
    const data = entryWords(entry.data);
    if (data.length !== 3 || wordUint(data[1], 64) !== treeSize) continue;
    found = { index: wordUint(data[0]) };
  }
  if (!found) fail("anchor.not_found", `no checkpoint of size ${treeSize} was anchored in block ${block}`);
  const words = await chain.rpc.ethCall(chain.anchor, callData(ABI.checkpointAt, chain.logId, found.index));
  if (words.length !== 5) fail("rpc.bad_response", "checkpointAt did not return a Checkpoint");
  const anchored = {
    index: found.index,
    treeSize: wordUint(words[0], 64),
    timestamp: wordUint(words[1], 64),
    blockNumber: wordUint(words[2], 64),
    epoch: wordUint(words[3], 32),
    root: wordBytes(words[4]),
  };
  if (anchored.treeSize !== treeSize || anchored.blockNumber !== block) {
    fail("anchor.not_found", "the contract's checkpoint differs from its event");
  }
  const [epochWord] = await chain.rpc.ethCall(chain.anchor, callData(ABI.epochOf, chain.logId));
  const epoch = wordUint(epochWord ?? "", 32);
  if (epoch !== anchored.epoch) fail("anchor.old_epoch", `the checkpoint is of epoch ${anchored.epoch}; the log is in epoch ${epoch}`);
  return anchored;
}

function entryWords(data) {
  if (typeof data !== "string" || !/^0x([0-9a-fA-F]{64})*$/.test(data)) return [];
  const body = data.slice(2).toLowerCase();
  return body.match(/.{64}/g) ?? [];
}

/** Runs checks in order, recording each; a thrown Failure/RpcError becomes that step's code. */
class Steps {
  constructor() {
    this.steps = [];
  }

  async run(step, check) {
    try {
      const value = await check();
      this.steps.push({ step, ok: true, code: "ok", detail: "" });
      return { ok: true, value };
    } catch (error) {
      if (!(error instanceof Failure || error instanceof RpcError)) throw error;
      this.steps.push({ step, ok: false, code: error.code, detail: error.detail ?? error.message });
      return { ok: false };
    }
  }

  skip(step, why) {
    this.steps.push({ step, ok: null, code: "skipped", detail: why });
  }

  result(extra = {}) {
    const failed = this.steps.find((s) => s.ok === false);
    const skipped = this.steps.some((s) => s.ok === null);
    const ok = !failed && !skipped;
    return { ok, code: failed ? failed.code : skipped ? "incomplete" : "ok", steps: this.steps, ...extra };
  }
}

function describe(anchored, head) {
  if (!anchored) return null;
  return {
    index: Number(anchored.index),
    treeSize: Number(anchored.treeSize),
    root: bytesToHex(anchored.root),
    blockNumber: Number(anchored.blockNumber),
    epoch: Number(anchored.epoch),
    confirmations: Number(head - anchored.blockNumber + 1n),
  };
}

async function anchorAndFinality(steps, chain, checkpoint, head, checkpointRoot) {
  const found = await steps.run("anchor", async () => {
    const anchored = await readAnchoredCheckpoint(chain, checkpoint.treeSize, checkpoint.blockNumber, head);
    if (!sameBytes(anchored.root, checkpointRoot)) {
      fail("anchor.root_mismatch", "the root on chain is not the root the province states");
    }
    return anchored;
  });
  if (!found.ok) {
    steps.skip("finality", "no anchored checkpoint");
    return null;
  }
  const anchored = found.value;
  await steps.run("finality", () => {
    const depth = head - anchored.blockNumber + 1n;
    if (depth < chain.confirmations) {
      fail("finality.too_shallow", `${depth} confirmations; ${chain.confirmations} required`);
    }
  });
  return anchored;
}

async function headOf(steps, chain) {
  const connected = await steps.run("chain", async () => {
    await checkChainId(chain);
    return chain.rpc.quantity("eth_blockNumber");
  });
  return connected.ok ? connected.value : null;
}

/** The key to check signatures with: the caller's, else IssuerRegistry's over the chain. */
async function provinceKey(steps, chain, given, keyId, timeText) {
  if (given) {
    await steps.run("key", () => {});
    return { key: given, source: "caller" };
  }
  if (!chain) {
    steps.skip("key", "no key given and the chain could not be read");
    return { key: null, source: null };
  }
  const read = await steps.run("key", async () => {
    const seconds = Math.floor(Date.parse(timeText) / 1000);
    if (!Number.isSafeInteger(seconds) || seconds < 0) fail("input.malformed", "the receipt's time is not a time");
    return compressedKey(await readProvinceKey(chain, keyId, seconds));
  });
  return read.ok ? { key: read.value, source: "chain" } : { key: null, source: null };
}

/**
 * Verify one audit event end to end. Arguments (JSON as the province's API returns them):
 * rpcUrl, chainId, anchorAddress — the auditor's own configuration; logId; event, receipt
 * (GET /audit/events/{index}); inclusionProof (GET /audit/proofs/inclusion?size=<checkpoint's>);
 * checkpoint (an anchored entry of GET /audit/checkpoints); provincePublicKey (hex; leave it
 * out to read the receipt's key from IssuerRegistry, the registry AuditAnchor names);
 * confirmations (default 1); fetch, timeoutMs (optional).
 */
export async function verifyEventInBrowser(options) {
  const steps = new Steps();
  let input;
  const parsed = await steps.run("input", () => {
    const logId = count(options?.logId, "logId");
    const proof = object(options.inclusionProof, "the inclusion proof");
    const checkpoint = object(options.checkpoint, "the checkpoint");
    const given = options.provincePublicKey;
    input = {
      logId,
      publicKey: given === undefined || given === null || given === "" ? null : compressedKey(given),
      event: object(options.event, "the event"),
      receipt: object(options.receipt, "the receipt"),
      checkpoint: {
        treeSize: count(checkpoint.treeSize, "the checkpoint's treeSize", { min: 1n }),
        root: hash32(checkpoint.root, "the checkpoint's root"),
        note: checkpoint.note,
        blockNumber: checkpoint.blockNumber,
      },
      proof: {
        index: count(proof.index, "the proof's index"),
        treeSize: count(proof.treeSize, "the proof's treeSize", { min: 1n }),
        leafHash: hash32(proof.leafHash, "the proof's leafHash"),
        path: hashList(proof.proof, "the proof"),
      },
    };
  });
  if (!parsed.ok) {
    for (const step of EVENT_STEPS.slice(1)) steps.skip(step, "bad input");
    return steps.result({ anchored: null, keySource: null });
  }
  const { logId, event, receipt, checkpoint, proof } = input;
  let chain = null;
  const configured = await steps.run("chain", () => {
    chain = chainInputs(options);
  });
  let head = null;
  if (configured.ok) {
    steps.steps.pop(); // "chain" is reported once, with the node's answers
    head = await headOf(steps, chain);
  }
  const reachable = head === null ? null : chain;
  const { key: publicKey, source } = await provinceKey(steps, reachable, input.publicKey, receipt.keyId, receipt.time);
  await steps.run("event", () => {
    if (event.logId !== Number(logId)) fail("event.log_mismatch", `the event is of log ${event.logId}`);
    let leaf;
    try {
      leaf = eventLeafHash(event);
    } catch {
      fail("input.malformed", "the event is not JSON");
    }
    if (receipt.leafHash !== bytesToHex(leaf)) fail("event.leaf_mismatch", "the event's leaf hash is not the receipt's");
    if (!sameBytes(proof.leafHash, leaf)) fail("event.leaf_mismatch", "the event's leaf hash is not the proof's");
  });
  if (publicKey) {
    await steps.run("receipt", () => {
      const vouched = checkReceipt(receipt, publicKey, logId);
      if (vouched.index !== proof.index) fail("receipt.index_mismatch", "the receipt's index is not the proof's");
    });
  } else {
    steps.skip("receipt", "no key to check the signature with");
  }
  if (typeof checkpoint.note !== "string") {
    steps.skip("note", "the checkpoint carries no signed note");
  } else if (!publicKey) {
    steps.skip("note", "no key to check the signature with");
  } else {
    await steps.run("note", () =>
      checkNote(checkpoint.note, { chainId: String(count(options.chainId, "chainId")), logId, ...checkpoint, publicKey }),
    );
  }
  let anchored = null;
  if (head !== null) {
    anchored = await anchorAndFinality(steps, chain, checkpoint, head, checkpoint.root);
  } else {
    steps.skip("anchor", "the chain could not be read");
    steps.skip("finality", "the chain could not be read");
  }
  if (anchored) {
    await steps.run("inclusion", () => {
      if (proof.treeSize !== anchored.treeSize) fail("inclusion.size_mismatch", "the proof is for another tree size");
      const problem = verifyInclusion(proof.index, proof.treeSize, proof.leafHash, proof.path, anchored.root);
      if (problem === "root_mismatch") fail("inclusion.root_mismatch", "the proof does not lead to the anchored root");
      if (problem) fail("inclusion.malformed", problem);
    });
  } else {
    steps.skip("inclusion", "no root read from the chain to check against");
  }
  return steps.result({ anchored: describe(anchored, head ?? 0n), keySource: source });
}

/** The key a note names (`— <origin>#<keyId> ...`), read from IssuerRegistry once per key id. */
async function noteKey(chain, checkpoint, cache) {
  const named = /\n\u2014 (\S+) /.exec(checkpoint.note);
  if (!named) fail("note.malformed", "the note names no key");
  const seconds = Math.floor(Date.parse(checkpoint.createdAt ?? "") / 1000);
  const at = Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : Math.floor(Date.now() / 1000);
  const fragment = named[1].slice(named[1].lastIndexOf("#") + 1);
  const slot = `${fragment}@${at}`;
  if (!cache.has(slot)) cache.set(slot, compressedKey(await readProvinceKey(chain, fragment, at)));
  return cache.get(slot);
}

/**
 * Verify a timeline of checkpoints: each one anchored on chain with the root the province
 * states (and its signed note, with the key given or else the one IssuerRegistry holds), at least `confirmations` deep, and each proved
 * consistent with the one before by `consistencyProofs` (GET /audit/proofs/consistency answers)
 * against the roots read from the chain. Checkpoints that are not anchored (no blockNumber) are
 * reported and left out of the links.
 */
export async function verifyCheckpointTimeline(options) {
  const top = new Steps();
  let chain = null;
  let checkpoints = [];
  let proofs = new Map();
  let publicKey = null;
  const parsed = await top.run("input", () => {
    chain = chainInputs(options);
    if (!Array.isArray(options.checkpoints) || options.checkpoints.length > 1000) fail("input.malformed", "checkpoints is not a list of at most 1000");
    checkpoints = options.checkpoints
      .map((c, i) => ({
        treeSize: count(object(c, `checkpoint ${i}`).treeSize, `checkpoint ${i}'s treeSize`, { min: 1n }),
        root: hash32(c.root, `checkpoint ${i}'s root`),
        note: c.note,
        createdAt: c.createdAt,
        blockNumber: c.blockNumber,
      }))
      .sort((a, b) => (a.treeSize < b.treeSize ? -1 : a.treeSize > b.treeSize ? 1 : 0));
    const given = Array.isArray(options.consistencyProofs) ? options.consistencyProofs : fail("input.malformed", "consistencyProofs is not a list");
    proofs = new Map(
      given.map((p, i) => [
        `${count(object(p, `proof ${i}`).from, `proof ${i}'s from`)}:${count(p.to, `proof ${i}'s to`)}`,
        hashList(p.proof, `proof ${i}`),
      ]),
    );
    if (options.provincePublicKey !== undefined && options.provincePublicKey !== null) {
      publicKey = compressedKey(options.provincePublicKey);
    }
  });
  if (!parsed.ok) return top.result({ checkpoints: [], links: [] });
  const head = await headOf(top, chain);
  if (head === null) return top.result({ checkpoints: [], links: [] });
  const entries = [];
  const registryKeys = new Map();
  for (const checkpoint of checkpoints) {
    const steps = new Steps();
    if (typeof checkpoint.note === "string") {
      await steps.run("note", async () => {
        const key = publicKey ?? (await noteKey(chain, checkpoint, registryKeys));
        checkNote(checkpoint.note, { chainId: String(chain.chainId), logId: chain.logId, ...checkpoint, publicKey: key });
      });
    }
    const anchored = await anchorAndFinality(steps, chain, checkpoint, head, checkpoint.root);
    entries.push({ treeSize: Number(checkpoint.treeSize), ...steps.result({ anchored: describe(anchored, head) }), raw: anchored });
  }
  const links = [];
  const anchoredEntries = entries.filter((e) => e.raw);
  for (let i = 1; i < anchoredEntries.length; i++) {
    const older = anchoredEntries[i - 1].raw;
    const newer = anchoredEntries[i].raw;
    const key = `${older.treeSize}:${newer.treeSize}`;
    const link = { from: Number(older.treeSize), to: Number(newer.treeSize), ok: false, code: "ok" };
    const path = proofs.get(key);
    if (!path) {
      link.code = "consistency.missing";
    } else {
      const problem = verifyConsistency(older.treeSize, newer.treeSize, path, older.root, newer.root);
      link.ok = problem === null;
      link.code = problem === null ? "ok" : problem.startsWith("malformed") ? "consistency.malformed" : "consistency.root_mismatch";
    }
    links.push(link);
  }
  for (const entry of entries) delete entry.raw;
  const badEntry = entries.find((e) => !e.ok);
  const badLink = links.find((l) => !l.ok);
  const result = top.result({ checkpoints: entries, links });
  if (result.ok && (badEntry || badLink)) {
    result.ok = false;
    result.code = badEntry ? badEntry.code : badLink.code;
  }
  return result;
}

function json(text, what) {
  if (text === undefined || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { malformed: what };
  }
}

function present(text) {
  return text === undefined || text === "" ? undefined : text;
}

/**
 * The arguments of verifyEventInBrowser and verifyCheckpointTimeline from the console's
 * `<section id="browser-proof" data-...>` (attribute names in docs/consoles.md, "Browser
 * proof"). `auditor` holds what the auditor configured in this browser (rpcUrl, chainId,
 * anchorAddress, confirmations); it wins over the page's data attributes, which the audited
 * province's server wrote.
 */
export function optionsFromElement(element, auditor = {}) {
  const d = element.dataset;
  const treeSize = present(d.treeSize);
  const proof = present(d.proof);
  const chosen = (name) => (auditor[name] !== undefined && auditor[name] !== "" ? auditor[name] : present(d[name]));
  return {
    rpcUrl: chosen("rpcUrl"),
    chainId: chosen("chainId"),
    anchorAddress: chosen("anchorAddress"),
    confirmations: chosen("confirmations") ?? 1,
    logId: present(d.logId),
    provincePublicKey: present(d.provinceKey),
    event: json(d.event, "event"),
    receipt: json(d.receipt, "receipt"),
    inclusionProof:
      treeSize === undefined
        ? undefined
        : {
            index: present(d.index),
            treeSize,
            leafHash: present(d.leafHash),
            proof: proof === undefined ? [] : proof.split(","),
          },
    checkpoint:
      treeSize === undefined
        ? undefined
        : { treeSize, root: present(d.root), note: present(d.note), blockNumber: present(d.block) ?? null },
    checkpoints: json(d.checkpoints, "checkpoints"),
    consistencyProofs: json(d.consistencyProofs, "consistencyProofs"),
  };
}

// Runs a batch of calls on the committed bundle api/webwallet/static/auditproof.js under node.
// stdin: {"bundle": "<path>", "calls": [["inclusion", index, size, leafHex, [pathHex], rootHex], ...]}
// stdout: [{"ok": <result>} | {"error": "<Name>: <message>"}, ...]. Integers travel as JSON
// numbers and become BigInt here; a check's outcome is its reason word, null for success.
// verifyEvent/timeline talk to the JSON-RPC URL their options name (node's own fetch).
import { readFileSync } from "node:fs";

const request = JSON.parse(readFileSync(0, "utf8"));
const source = readFileSync(request.bundle);
const ap = await import("data:text/javascript;base64," + source.toString("base64"));

const bytes = (hex) => Uint8Array.from(Buffer.from(hex, "hex"));
const hexOf = (value) => Buffer.from(value).toString("hex");
const codeOf = (check) => {
  try {
    check();
    return null;
  } catch (error) {
    if (typeof error.code !== "string") throw error;
    return error.code;
  }
};

const CALLS = {
  inclusion: (index, size, leaf, path, root) =>
    ap.verifyInclusion(BigInt(index), BigInt(size), bytes(leaf), path.map(bytes), bytes(root)),
  consistency: (size1, size2, path, root1, root2) =>
    ap.verifyConsistency(BigInt(size1), BigInt(size2), path.map(bytes), bytes(root1), bytes(root2)),
  leaf: (event) => hexOf(ap.eventLeafHash(event)),
  receipt: (receipt, key, logId) => codeOf(() => ap.checkReceipt(receipt, bytes(key), BigInt(logId))),
  note: (note, chainId, logId, treeSize, root, key) =>
    codeOf(() =>
      ap.checkNote(note, { chainId: String(chainId), logId: BigInt(logId), treeSize: BigInt(treeSize), root: bytes(root), publicKey: bytes(key) }),
    ),
  selector: (signature) => ap.selector(signature),
  topic: (signature) => ap.keccakHex(signature),
  callData: (signature, ...args) => ap.callData(signature, ...args),
  decodeKey: (words) => {
    try {
      const record = ap.decodeKeyRecord(words);
      return { publicKey: record.publicKey, compromised: record.compromised, compromisedFrom: Number(record.compromisedFrom) };
    } catch (error) {
      return error.code;
    }
  },
  keyFragment: (keyId) => ap.keyFragment(keyId),
  verifyEvent: (options) => ap.verifyEventInBrowser(options),
  timeline: (options) => ap.verifyCheckpointTimeline(options),
};

const results = [];
for (const [name, ...args] of request.calls) {
  try {
    results.push({ ok: await CALLS[name](...args) });
  } catch (error) {
    results.push({ error: `${error.name}: ${error.message}` });
  }
}
process.stdout.write(JSON.stringify(results));

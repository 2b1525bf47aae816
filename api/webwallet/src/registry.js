/**
 * The province's SM2 key as IssuerRegistry holds it, read over the auditor's JSON-RPC node.
 *
 * The registry's address is read from AuditAnchor itself (`registry()`, immutable there), so
 * an auditor who configured the anchor's address needs nothing else, and the key never comes
 * from the audited province. `key(uint32,bytes32)` returns a struct with a dynamic `bytes`
 * member; its ABI head-and-tail layout is decoded here, checking every offset and length.
 * As `ledger/audit/chain_view.py` does, the key is taken as the registry holds it now; one
 * marked compromised before the time being checked is refused.
 */
import { RpcError, encodeUint, selector, wordUint } from "./evm.js";

const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;

/** The fragment of a key id: `did:tongban:<chain>:<issuer>#key-1` and `key-1` give `key-1`. */
export function keyFragment(keyId) {
  const fragment = typeof keyId === "string" ? keyId.slice(keyId.lastIndexOf("#") + 1) : "";
  return KEY_ID.test(fragment) ? fragment : null;
}

function keyIdWord(fragment) {
  let hex = "";
  for (const char of fragment) hex += char.charCodeAt(0).toString(16).padStart(2, "0");
  return hex.padEnd(64, "0");
}

function bad(what) {
  return new RpcError("rpc.bad_response", `IssuerRegistry.key returned ${what}`);
}

function wordIndex(words, word, base) {
  const offset = wordUint(word);
  if (offset % 32n !== 0n) throw bad("an offset that is not whole words");
  const at = base + Number(offset / 32n);
  if (!Number.isSafeInteger(at) || at >= words.length) throw bad("an offset past its end");
  return at;
}

/** Decode `KeyRecord` (keyId, publicKey, validFrom, retiredAt, compromised, compromisedFrom). */
export function decodeKeyRecord(words) {
  if (words.length < 8) throw bad("too few words");
  const tuple = wordIndex(words, words[0], 0);
  if (tuple + 6 > words.length) throw bad("a truncated record");
  const tail = wordIndex(words, words[tuple + 1], tuple);
  const length = wordUint(words[tail]);
  if (length > 65n || tail + 1 + Math.ceil(Number(length) / 32) > words.length) throw bad("a bad key length");
  const publicKey = words.slice(tail + 1).join("").slice(0, Number(length) * 2);
  return {
    publicKey,
    validFrom: wordUint(words[tuple + 2], 64),
    retiredAt: wordUint(words[tuple + 3], 64),
    compromised: wordUint(words[tuple + 4], 8) === 1n,
    compromisedFrom: wordUint(words[tuple + 5], 64),
  };
}

/**
 * The public key (hex) of key `keyId` of issuer `logId`, as the registry behind the AuditAnchor
 * at `chain.anchor` holds it. Throws RpcError: `key.unknown` when the registry has no such key,
 * `key.compromised` when it was marked compromised at or before `atSeconds`.
 */
export async function readProvinceKey(chain, keyId, atSeconds) {
  const fragment = keyFragment(keyId);
  if (!fragment) throw new RpcError("key.unknown", "the key id is not one the registry can hold");
  const [registryWord] = await chain.rpc.ethCall(chain.anchor, selector("registry()"));
  if (!registryWord || !registryWord.startsWith("0".repeat(24))) throw bad("no registry address");
  const registry = `0x${registryWord.slice(24)}`;
  let words;
  try {
    words = await chain.rpc.ethCall(
      registry,
      selector("key(uint32,bytes32)") + encodeUint(chain.logId, 32) + keyIdWord(fragment),
    );
  } catch (error) {
    if (error.code === "rpc.error") throw new RpcError("key.unknown", "the registry lists no such key for the log's issuer");
    throw error;
  }
  const record = decodeKeyRecord(words);
  if (record.compromised && record.compromisedFrom <= BigInt(atSeconds)) {
    throw new RpcError("key.compromised", "the registry marks this key compromised at that time");
  }
  return record.publicKey;
}

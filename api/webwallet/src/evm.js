/**
 * The little of Ethereum's JSON-RPC and contract ABI that reading AuditAnchor needs.
 *
 * Every value read is static (uint32, uint64, uint256, bytes32; the Checkpoint struct is five
 * static words), so the ABI here is 32-byte words and nothing more: no dynamic types, no
 * general encoder. Selectors and event topics are Keccak-256 of the canonical signatures,
 * computed with @noble/hashes (already pinned for SM3's neighbours). See
 * docs/browser-crypto.md, "Audit proofs against the chain", for why not viem or ethers.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";

const WORD = 64; // hex digits in one ABI word

/** 0x-prefixed Keccak-256 of a canonical signature: a topic (or, first 4 bytes, a selector). */
export function keccakHex(signature) {
  return `0x${bytesToHex(keccak_256(utf8ToBytes(signature)))}`;
}

/** The 4-byte function selector of a canonical signature, as 0x-hex. */
export function selector(signature) {
  return keccakHex(signature).slice(0, 10);
}

/** One unsigned integer as an ABI word (hex, no 0x). */
export function encodeUint(value, bits = 256) {
  const number = BigInt(value);
  if (number < 0n || number >= 1n << BigInt(bits)) throw new RangeError(`not a uint${bits}`);
  return number.toString(16).padStart(WORD, "0");
}

/** Call data for `signature` with unsigned integer arguments. */
export function callData(signature, ...args) {
  const types = signature.slice(signature.indexOf("(") + 1, -1).split(",").filter(Boolean);
  if (types.length !== args.length) throw new RangeError("argument count differs from signature");
  return selector(signature) + args.map((arg, i) => encodeUint(arg, Number(types[i].slice(4)) || 256)).join("");
}

/** The 32-byte words of ABI return data (0x-hex), as hex strings; throws if not whole words. */
export function words(data) {
  if (typeof data !== "string" || !/^0x([0-9a-fA-F]{64})*$/.test(data)) {
    throw new RpcError("rpc.bad_response", "the node returned data that is not ABI words");
  }
  const body = data.slice(2).toLowerCase();
  const out = [];
  for (let at = 0; at < body.length; at += WORD) out.push(body.slice(at, at + WORD));
  return out;
}

/** A word read as an unsigned integer no wider than `bits` (throws on dirty high bits). */
export function wordUint(word, bits = 256) {
  const value = BigInt(`0x${word}`);
  if (value >= 1n << BigInt(bits)) {
    throw new RpcError("rpc.bad_response", `a uint${bits} value is out of range`);
  }
  return value;
}

/** A word as 32 bytes. */
export function wordBytes(word) {
  return hexToBytes(word);
}

/** A failure reading the chain: `code` is the reason word a result reports. */
export class RpcError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "RpcError";
    this.code = code;
  }
}

/** A JSON-RPC 2.0 client over HTTP POST (fetch), one request per call, with a time limit. */
export class JsonRpc {
  /**
   * @param {string} url the node the auditor names (http: or https:)
   * @param {{fetch?: typeof fetch, timeoutMs?: number}} options
   */
  constructor(url, { fetch: fetcher = globalThis.fetch, timeoutMs = 15_000 } = {}) {
    let parsed;
    try {
      parsed = new URL(url);
    } catch {
      throw new RpcError("input.rpc_url", "the RPC URL is not a URL");
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
      throw new RpcError("input.rpc_url", "the RPC URL must be http: or https:");
    }
    if (typeof fetcher !== "function") throw new RpcError("rpc.unreachable", "no fetch here");
    this.url = parsed.href;
    // Called as a plain function: window.fetch refuses a `this` that is not the window.
    this.send = (target, init) => fetcher(target, init);
    this.timeoutMs = timeoutMs;
    this.nextId = 1;
  }

  /** The result of one method call; RpcError with a code otherwise. */
  async call(method, params = []) {
    const id = this.nextId++;
    let response;
    try {
      response = await this.send(this.url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
        credentials: "omit",
        redirect: "error",
      });
    } catch (error) {
      // A refused connection, a CORS refusal or a CSP block all look alike from here.
      const why = error?.name === "TimeoutError" ? "no answer in time" : "connection, CORS or CSP refused";
      throw new RpcError("rpc.unreachable", `the chain node could not be reached (${why})`);
    }
    let body;
    try {
      body = await response.json();
    } catch {
      throw new RpcError("rpc.bad_response", `the chain node answered HTTP ${response.status}`);
    }
    if (body === null || typeof body !== "object" || body.id !== id) {
      throw new RpcError("rpc.bad_response", "the chain node's answer is not this request's");
    }
    if (body.error !== undefined) {
      const message = typeof body.error?.message === "string" ? body.error.message : "error";
      throw new RpcError("rpc.error", `${method}: ${message.slice(0, 200)}`);
    }
    if (!("result" in body)) throw new RpcError("rpc.bad_response", "no result in the answer");
    return body.result;
  }

  /** A hex quantity result as BigInt. */
  async quantity(method, params = []) {
    const result = await this.call(method, params);
    if (typeof result !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(result)) {
      throw new RpcError("rpc.bad_response", `${method} did not return a quantity`);
    }
    return BigInt(result);
  }

  /** `eth_call` of `data` on `to` at `block` ("latest" or a number); the returned words. */
  async ethCall(to, data, block = "latest") {
    const tag = typeof block === "bigint" ? `0x${block.toString(16)}` : block;
    return words(await this.call("eth_call", [{ to, data }, tag]));
  }
}

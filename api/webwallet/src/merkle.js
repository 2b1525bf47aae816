/**
 * RFC 9162 (section 2.1) Merkle tree proofs with SM3, exactly as ledger/merkle does them:
 * leaf hash = SM3(0x00 || data), node hash = SM3(0x01 || left || right).
 *
 * Indexes and sizes are BigInt (a log may pass 2**32 events; JavaScript's bit operators on
 * Numbers are 32-bit). Every function checks a proof's shape before hashing and answers with
 * a code instead of throwing: `null` for success, else a short reason word.
 * Port of ledger/merkle/verify.py (root_from_inclusion_proof, verify_consistency).
 */
import { sm3 } from "./sm.js";

/** Longest audit path accepted, as in ledger/merkle/verify.py: 2**64 leaves, a cap on abuse. */
export const MAX_PATH_LENGTH = 64;
export const HASH_SIZE = 32;

const LEAF_PREFIX = Uint8Array.of(0);
const NODE_PREFIX = Uint8Array.of(1);

function join(...parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Whether two byte arrays are equal. */
export function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** RFC 9162 leaf hash of `data`. */
export function hashLeaf(data) {
  return sm3(join(LEAF_PREFIX, data));
}

/** RFC 9162 interior node hash. */
export function hashChildren(left, right) {
  return sm3(join(NODE_PREFIX, left, right));
}

function bitLength(value) {
  return value === 0n ? 0 : value.toString(2).length;
}

function popCount(value) {
  let count = 0;
  for (const bit of value.toString(2)) if (bit === "1") count += 1;
  return count;
}

function isHash(value) {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

function shapeProblem(path) {
  if (!Array.isArray(path) || path.length > MAX_PATH_LENGTH) return "proof_too_long";
  return path.every(isHash) ? null : "bad_hash_length";
}

/**
 * The root an inclusion path proves for `leafHash` at `index` in a tree of `size` leaves
 * (RFC 9162 section 2.1.3.2): `{ root }`, or `{ problem }` when the proof is misshapen.
 */
export function rootFromInclusionProof(index, size, leafHash, path) {
  if (typeof index !== "bigint" || typeof size !== "bigint") return { problem: "bad_index" };
  if (!(index >= 0n && index < size)) return { problem: "index_outside_tree" };
  const shape = shapeProblem(path);
  if (shape) return { problem: shape };
  if (!isHash(leafHash)) return { problem: "bad_hash_length" };
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  if (path.length !== inner + border) return { problem: "wrong_proof_length" };
  let node = leafHash;
  path.slice(0, inner).forEach((sibling, level) => {
    node = (index >> BigInt(level)) & 1n ? hashChildren(sibling, node) : hashChildren(node, sibling);
  });
  for (const sibling of path.slice(inner)) node = hashChildren(sibling, node);
  return { root: node };
}

/**
 * Check that `leafHash` is leaf `index` of the tree of `size` leaves with `root`.
 * null on success; "malformed:<why>" or "root_mismatch" otherwise.
 */
export function verifyInclusion(index, size, leafHash, path, root) {
  if (!isHash(root)) return "malformed:bad_hash_length";
  const result = rootFromInclusionProof(index, size, leafHash, path);
  if (result.problem) return `malformed:${result.problem}`;
  return sameBytes(result.root, root) ? null : "root_mismatch";
}

/**
 * Check that the tree of `size2` leaves with `root2` extends the tree of `size1` with `root1`
 * (RFC 9162 section 2.1.4.2; requires 0 < size1 <= size2, as ledger/merkle/verify.py does).
 * null on success; "malformed:<why>", "old_root_mismatch" or "new_root_mismatch" otherwise.
 */
export function verifyConsistency(size1, size2, path, root1, root2) {
  if (typeof size1 !== "bigint" || typeof size2 !== "bigint") return "malformed:bad_size";
  const shape = shapeProblem(path);
  if (shape) return `malformed:${shape}`;
  if (size1 <= 0n) return "malformed:empty_old_tree";
  if (size2 < size1) return "malformed:new_tree_smaller";
  if (!isHash(root1) || !isHash(root2)) return "malformed:bad_hash_length";
  if (size1 === size2) {
    if (path.length) return "malformed:wrong_proof_length";
    return sameBytes(root1, root2) ? null : "new_root_mismatch";
  }
  // The largest complete subtree of the old tree holding its last leaf: at `level`, node
  // `index`. Its hash is root1 when the old tree is complete, else the proof's first entry.
  const level = BigInt(bitLength(size1 & -size1) - 1);
  const index = (size1 - 1n) >> level;
  const inner = bitLength(index ^ ((size2 - 1n) >> level));
  const border = popCount(index >> BigInt(inner));
  const complete = index === 0n;
  const expected = (complete ? 0 : 1) + inner + border;
  if (path.length !== expected) return "malformed:wrong_proof_length";
  const seed = complete ? root1 : path[0];
  const rest = complete ? path : path.slice(1);
  let old = seed;
  let neu = seed;
  rest.slice(0, inner).forEach((sibling, height) => {
    if ((index >> BigInt(height)) & 1n) {
      old = hashChildren(sibling, old);
      neu = hashChildren(sibling, neu);
    } else {
      neu = hashChildren(neu, sibling);
    }
  });
  for (const sibling of rest.slice(inner)) {
    old = hashChildren(sibling, old);
    neu = hashChildren(sibling, neu);
  }
  if (!sameBytes(old, root1)) return "old_root_mismatch";
  return sameBytes(neu, root2) ? null : "new_root_mismatch";
}

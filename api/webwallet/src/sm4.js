/**
 * SM4 (GB/T 32907-2016) and SM4-GCM as ledger/crypto/sm4.py seals with it (RFC 8998 s3.1).
 *
 * A sealed blob is nonce (12 bytes) || ciphertext || tag (16 bytes); the associated data is
 * authenticated but not stored. GCM is NIST SP 800-38D with a 96-bit IV: J0 = IV || 0^31 || 1,
 * counter blocks from inc32(J0), tag = E(J0) xor GHASH(H, A, C), H = E(0^128).
 * Nonces come from crypto.getRandomValues (through @noble/hashes' randomBytes).
 *
 * The GHASH multiply is branch-free on its operands; the S-box is a table lookup, as in most
 * software SM4 (docs/browser-crypto.md says what that leaves to a co-resident attacker).
 * Tested against the standard's example and RFC 8998's vector (tests/webwallet/test_keystore_sm4.py).
 */
import { randomBytes } from "@noble/hashes/utils.js";

export const KEY_SIZE = 16;
export const NONCE_SIZE = 12;
export const TAG_SIZE = 16;
export const OVERHEAD = NONCE_SIZE + TAG_SIZE;

/** The tag did not verify: wrong key, wrong associated data, or altered bytes. */
export class DecryptionFailed extends Error {
  constructor(message = "SM4-GCM authentication failed") {
    super(message);
    this.name = "DecryptionFailed";
  }
}

// prettier-ignore
const SBOX = Uint8Array.of(
  0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
  0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
  0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
  0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
  0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
  0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
  0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
  0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
  0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
  0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
  0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
  0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
  0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
  0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
  0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
  0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
);
const FK = Uint32Array.of(0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc);
// CK_i's byte j is (4i + j) * 7 mod 256 (GB/T 32907 s7.3).
const CK = Uint32Array.from({ length: 32 }, (_, i) => {
  let word = 0;
  for (let j = 0; j < 4; j++) word = (word << 8) | (((4 * i + j) * 7) & 0xff);
  return word >>> 0;
});

const rotl = (x, n) => ((x << n) | (x >>> (32 - n))) >>> 0;
const tau = (x) =>
  ((SBOX[x >>> 24] << 24) | (SBOX[(x >>> 16) & 0xff] << 16) | (SBOX[(x >>> 8) & 0xff] << 8) | SBOX[x & 0xff]) >>> 0;
const roundT = (x) => {
  const b = tau(x);
  return (b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24)) >>> 0;
};
const keyT = (x) => {
  const b = tau(x);
  return (b ^ rotl(b, 13) ^ rotl(b, 23)) >>> 0;
};

function requireBytes(value, what) {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  return value;
}

function word(bytes, at) {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

function putWord(out, at, value) {
  out[at] = value >>> 24;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

/** The 32 round keys of a 16-byte key. */
export function expandKey(key) {
  requireBytes(key, "an SM4 key");
  if (key.length !== KEY_SIZE) throw new RangeError("an SM4 key is 16 bytes");
  const k = [0, 1, 2, 3].map((i) => (word(key, 4 * i) ^ FK[i]) >>> 0);
  const rounds = new Uint32Array(32);
  for (let i = 0; i < 32; i++) {
    const next = (k[i] ^ keyT((k[i + 1] ^ k[i + 2] ^ k[i + 3] ^ CK[i]) >>> 0)) >>> 0;
    k.push(next);
    rounds[i] = next;
  }
  k.fill(0);
  return rounds;
}

/** Encrypt one 16-byte block with expanded round keys (GB/T 32907 s7.1). */
export function encryptBlock(rounds, block) {
  const x = [0, 1, 2, 3].map((i) => word(block, 4 * i));
  for (let i = 0; i < 32; i++) {
    x.push((x[i] ^ roundT((x[i + 1] ^ x[i + 2] ^ x[i + 3] ^ rounds[i]) >>> 0)) >>> 0);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) putWord(out, 4 * i, x[35 - i]);
  return out;
}

// ---- GCM ----

/** X * Y in GF(2^128) with GCM's bit order (SP 800-38D Algorithm 1), on 4 big-endian words. */
function gfMultiply(x, y) {
  let z0 = 0, z1 = 0, z2 = 0, z3 = 0;
  let v0 = y[0], v1 = y[1], v2 = y[2], v3 = y[3];
  for (let i = 0; i < 128; i++) {
    const bit = -((x[i >>> 5] >>> (31 - (i & 31))) & 1);
    z0 ^= v0 & bit;
    z1 ^= v1 & bit;
    z2 ^= v2 & bit;
    z3 ^= v3 & bit;
    const low = -(v3 & 1);
    v3 = (v3 >>> 1) | (v2 << 31);
    v2 = (v2 >>> 1) | (v1 << 31);
    v1 = (v1 >>> 1) | (v0 << 31);
    v0 = (v0 >>> 1) ^ (0xe1000000 & low);
  }
  return [z0 >>> 0, z1 >>> 0, z2 >>> 0, z3 >>> 0];
}

function ghashBlocks(h, state, data) {
  let s = state;
  for (let at = 0; at < data.length; at += 16) {
    const block = new Uint8Array(16);
    block.set(data.subarray(at, Math.min(at + 16, data.length)));
    s = gfMultiply([s[0] ^ word(block, 0), s[1] ^ word(block, 4), s[2] ^ word(block, 8), s[3] ^ word(block, 12)], h);
  }
  return s;
}

function ghash(h, aad, ciphertext) {
  let s = ghashBlocks(h, [0, 0, 0, 0], aad);
  s = ghashBlocks(h, s, ciphertext);
  const lengths = new Uint8Array(16);
  const view = new DataView(lengths.buffer);
  view.setBigUint64(0, BigInt(aad.length) * 8n);
  view.setBigUint64(8, BigInt(ciphertext.length) * 8n);
  return ghashBlocks(h, s, lengths);
}

function counterBlock(nonce, counter) {
  const block = new Uint8Array(16);
  block.set(nonce);
  putWord(block, 12, counter >>> 0);
  return block;
}

function ctr(rounds, nonce, input) {
  const out = new Uint8Array(input.length);
  for (let at = 0, counter = 2; at < input.length; at += 16, counter++) {
    const stream = encryptBlock(rounds, counterBlock(nonce, counter));
    const end = Math.min(at + 16, input.length);
    for (let i = at; i < end; i++) out[i] = input[i] ^ stream[i - at];
  }
  return out;
}

function tagOf(rounds, nonce, aad, ciphertext) {
  const zero = new Uint8Array(16);
  const hBytes = encryptBlock(rounds, zero);
  const h = [word(hBytes, 0), word(hBytes, 4), word(hBytes, 8), word(hBytes, 12)];
  const s = ghash(h, aad, ciphertext);
  const mask = encryptBlock(rounds, counterBlock(nonce, 1));
  const tag = new Uint8Array(16);
  for (let i = 0; i < 4; i++) putWord(tag, 4 * i, (s[i] ^ word(mask, 4 * i)) >>> 0);
  return tag;
}

function checkLengths(plaintextLength, aad) {
  // SP 800-38D s5.2.1.1: at most 2^39 - 256 bits of plaintext; far beyond any wallet entry.
  if (plaintextLength > 2 ** 32) throw new RangeError("SM4-GCM input too long");
  requireBytes(aad, "associated data");
}

/** SM4-GCM with a caller's nonce: nonce || ciphertext || tag. Tests only: seal draws its own. */
export function sealWithNonce(key, nonce, plaintext, aad = new Uint8Array(0)) {
  requireBytes(plaintext, "plaintext");
  requireBytes(nonce, "a nonce");
  if (nonce.length !== NONCE_SIZE) throw new RangeError("an SM4-GCM nonce is 12 bytes");
  checkLengths(plaintext.length, aad);
  const rounds = expandKey(key);
  const ciphertext = ctr(rounds, nonce, plaintext);
  const tag = tagOf(rounds, nonce, aad, ciphertext);
  rounds.fill(0);
  const blob = new Uint8Array(NONCE_SIZE + ciphertext.length + TAG_SIZE);
  blob.set(nonce);
  blob.set(ciphertext, NONCE_SIZE);
  blob.set(tag, NONCE_SIZE + ciphertext.length);
  return blob;
}

/** Encrypt and authenticate ``plaintext`` (and ``aad``) under a fresh random nonce. */
export function seal(key, plaintext, aad = new Uint8Array(0)) {
  return sealWithNonce(key, randomBytes(NONCE_SIZE), plaintext, aad);
}

/** Check and decrypt a sealed blob; throws DecryptionFailed (no plaintext) unless the tag verifies. */
export function open(key, blob, aad = new Uint8Array(0)) {
  requireBytes(blob, "a sealed blob");
  if (blob.length < OVERHEAD) throw new DecryptionFailed("sealed blob too short");
  checkLengths(blob.length, aad);
  const rounds = expandKey(key);
  const nonce = blob.subarray(0, NONCE_SIZE);
  const ciphertext = blob.subarray(NONCE_SIZE, blob.length - TAG_SIZE);
  const expected = tagOf(rounds, nonce, aad, ciphertext);
  const given = blob.subarray(blob.length - TAG_SIZE);
  let difference = 0;
  for (let i = 0; i < TAG_SIZE; i++) difference |= expected[i] ^ given[i];
  if (difference !== 0) {
    rounds.fill(0);
    throw new DecryptionFailed();
  }
  const plaintext = ctr(rounds, nonce, ciphertext);
  rounds.fill(0);
  return plaintext;
}

/**
 * SM3 (GB/T 32905-2016) and SM2 signatures (GB/T 32918.2-2016) for the browser wallet.
 *
 * The curve arithmetic is @noble/curves' short-Weierstrass point over sm2p256v1 (audited,
 * no dependencies beyond @noble/hashes); SM3 and the SM2 signing equations are written here.
 * Encodings match Tongban's Python implementation (ledger/crypto/sm2.py) exactly:
 *   - private key: 32-byte big-endian scalar d, 1 <= d <= n-2;
 *   - public key: 33-byte SEC 1 compressed point (65-byte uncompressed also accepted);
 *   - signature: raw 64 bytes r || s over e = SM3(Z_A || M), Z_A with the GM/T 0009 default
 *     user ID "1234567812345678" (no other ID is offered, as in Python).
 * Every random byte comes from crypto.getRandomValues (through @noble/hashes' randomBytes,
 * which throws when it is missing); Math.random is never used.
 *
 * This is the source: api/webwallet/static/sm.js is its bundle (scripts/build_webwallet.py).
 */
import { weierstrass } from "@noble/curves/abstract/weierstrass.js";
import {
  bytesToHex as nobleBytesToHex,
  hexToBytes as nobleHexToBytes,
  randomBytes,
} from "@noble/hashes/utils.js";

const P = 0xfffffffeffffffffffffffffffffffffffffffff00000000ffffffffffffffffn;
const A = 0xfffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffcn;
const B = 0x28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93n;
const GX = 0x32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7n;
const GY = 0xbc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0n;
const N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

/** The sm2p256v1 point type (GB/T 32918.5 recommended curve). */
const Point = weierstrass({ p: P, n: N, h: 1n, a: A, b: B, Gx: GX, Gy: GY });
const Fn = Point.Fn;
// Lazy fixed-base table (built on first use): key generation and signing multiply G only.
Point.BASE.precompute(8);

/** The GM/T 0009-2012 default distinguishing ID, the only one this module signs with. */
export const DEFAULT_USER_ID = Uint8Array.from("1234567812345678", (c) => c.charCodeAt(0));

/** Sizes in bytes, as in ledger/crypto/sm2.py. */
export const PRIVATE_KEY_SIZE = 32;
export const COMPRESSED_PUBLIC_KEY_SIZE = 33;
export const UNCOMPRESSED_PUBLIC_KEY_SIZE = 65;
export const SIGNATURE_SIZE = 64;

function requireBytes(value, what) {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${what} must be a Uint8Array`);
  }
  return value;
}

/** Lowercase hex of bytes. */
export function bytesToHex(bytes) {
  return nobleBytesToHex(requireBytes(bytes, "bytes"));
}

/** Bytes of an even-length hex string (either case); throws on anything else. */
export function hexToBytes(hex) {
  if (typeof hex !== "string") {
    throw new TypeError("hex must be a string");
  }
  return nobleHexToBytes(hex);
}

/** UTF-8 bytes of a string. */
export function utf8ToBytes(text) {
  if (typeof text !== "string") {
    throw new TypeError("text must be a string");
  }
  return new TextEncoder().encode(text);
}

// ---- SM3 (GB/T 32905-2016) ----

const IV = Uint32Array.of(
  0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e,
);
// T_j rotated left by j mod 32, precomputed once for the 64 rounds.
const T_ROTATED = new Uint32Array(64);
for (let j = 0; j < 64; j++) {
  const t = j < 16 ? 0x79cc4519 : 0x7a879d8a;
  const s = j % 32;
  T_ROTATED[j] = ((t << s) | (t >>> (32 - s))) >>> 0;
}

const rotl = (x, n) => ((x << n) | (x >>> (32 - n))) >>> 0;
const p0 = (x) => (x ^ rotl(x, 9) ^ rotl(x, 17)) >>> 0;
const p1 = (x) => (x ^ rotl(x, 15) ^ rotl(x, 23)) >>> 0;

function compress(state, view, offset, w, w1) {
  for (let j = 0; j < 16; j++) w[j] = view.getUint32(offset + 4 * j, false);
  for (let j = 16; j < 68; j++) {
    w[j] = (p1(w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15)) ^ rotl(w[j - 13], 7) ^ w[j - 6]) >>> 0;
  }
  for (let j = 0; j < 64; j++) w1[j] = (w[j] ^ w[j + 4]) >>> 0;
  let [a, b, c, d, e, f, g, h] = state;
  for (let j = 0; j < 64; j++) {
    const a12 = rotl(a, 12);
    const ss1 = rotl((a12 + e + T_ROTATED[j]) >>> 0, 7);
    const ss2 = (ss1 ^ a12) >>> 0;
    const ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
    const gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
    const tt1 = (ff + d + ss2 + w1[j]) >>> 0;
    const tt2 = (gg + h + ss1 + w[j]) >>> 0;
    d = c;
    c = rotl(b, 9);
    b = a;
    a = tt1;
    h = g;
    g = rotl(f, 19);
    f = e;
    e = p0(tt2);
  }
  state[0] ^= a;
  state[1] ^= b;
  state[2] ^= c;
  state[3] ^= d;
  state[4] ^= e;
  state[5] ^= f;
  state[6] ^= g;
  state[7] ^= h;
}

/** SM3 digest (32 bytes) of a Uint8Array. */
export function sm3(message) {
  requireBytes(message, "message");
  const length = message.length;
  // Padding: 0x80, zeros to 56 mod 64, then the bit length as a 64-bit big-endian integer.
  const padded = new Uint8Array((((length + 8) >> 6) + 1) << 6);
  padded.set(message);
  padded[length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 0x100000000), false);
  view.setUint32(padded.length - 4, bits >>> 0, false);
  const state = Uint32Array.from(IV);
  const w = new Uint32Array(68);
  const w1 = new Uint32Array(64);
  for (let offset = 0; offset < padded.length; offset += 64) {
    compress(state, view, offset, w, w1);
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(4 * i, state[i], false);
  return out;
}

// ---- SM2 signatures (GB/T 32918.2-2016) ----

function toBytes32(value) {
  return nobleHexToBytes(value.toString(16).padStart(64, "0"));
}

function toBigInt(bytes) {
  return BigInt("0x" + (nobleBytesToHex(bytes) || "0"));
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

// ENTL || ID || a || b || Gx || Gy: the part of Z_A that is the same for every key.
const ZA_PREFIX = concat(
  Uint8Array.of(0, DEFAULT_USER_ID.length * 8),
  DEFAULT_USER_ID,
  ...[A, B, GX, GY].map(toBytes32),
);

function privateScalar(privateKey) {
  requireBytes(privateKey, "private key");
  if (privateKey.length !== PRIVATE_KEY_SIZE) {
    throw new RangeError("an SM2 private key is 32 bytes");
  }
  const d = toBigInt(privateKey);
  // SM2 needs 1 + d invertible mod n, so d = n-1 is refused as well as 0 and >= n.
  if (d < 1n || d > N - 2n) {
    throw new RangeError("SM2 private key out of range");
  }
  return d;
}

function publicPoint(publicKey) {
  requireBytes(publicKey, "public key");
  if (
    publicKey.length !== COMPRESSED_PUBLIC_KEY_SIZE &&
    publicKey.length !== UNCOMPRESSED_PUBLIC_KEY_SIZE
  ) {
    throw new RangeError("an SM2 public key is a 33- or 65-byte SEC 1 point");
  }
  try {
    return Point.fromBytes(publicKey);
  } catch {
    throw new RangeError("the public key is not a point of sm2p256v1");
  }
}

/** Uniform scalar in [1, max] by rejection sampling over 32 CSPRNG bytes. */
function randomScalar(max) {
  for (;;) {
    const candidate = toBigInt(randomBytes(32));
    if (candidate >= 1n && candidate <= max) return candidate;
  }
}

/** A new private key: 32 bytes, d uniform in [1, n-2] from crypto.getRandomValues. */
export function generateKey() {
  return toBytes32(randomScalar(N - 2n));
}

/** The public key of a private key: 33-byte compressed point (65 bytes uncompressed if asked). */
export function publicKeyOf(privateKey, { compressed = true } = {}) {
  return Point.BASE.multiply(privateScalar(privateKey)).toBytes(compressed);
}

/** Z_A = SM3(ENTL || ID || a || b || Gx || Gy || xA || yA) for the default ID. */
export function za(publicKey) {
  const { x, y } = publicPoint(publicKey).toAffine();
  return sm3(concat(ZA_PREFIX, toBytes32(x), toBytes32(y)));
}

/** e = SM3(Z_A || message), the value an SM2 signature signs. */
export function signingDigest(publicKey, message) {
  return sm3(concat(za(publicKey), requireBytes(message, "message")));
}

function signWith(privateKey, message, nonce) {
  const d = privateScalar(privateKey);
  const point = Point.BASE.multiply(d);
  const e = Fn.create(toBigInt(signingDigest(point.toBytes(true), message)));
  const dInverse = Fn.inv(1n + d);
  for (;;) {
    const k = nonce();
    const x1 = Point.BASE.multiply(k).toAffine().x;
    const r = Fn.add(e, Fn.create(x1));
    if (r === 0n || r + k === N) continue;
    const s = Fn.mul(dInverse, Fn.sub(k, Fn.mul(r, d)));
    if (s === 0n) continue;
    return concat(toBytes32(r), toBytes32(s));
  }
}

/** Sign a message with the default user ID: raw 64-byte r || s, k from the CSPRNG. */
export function sign(privateKey, message) {
  return signWith(privateKey, message, () => randomScalar(N - 1n));
}

/** Whether a raw 64-byte r || s signature over the SM3 digest e holds for the public key. */
export function verifyDigest(publicKey, digest, signature) {
  requireBytes(digest, "digest");
  requireBytes(signature, "signature");
  if (digest.length !== 32 || signature.length !== SIGNATURE_SIZE) return false;
  let point;
  try {
    point = publicPoint(publicKey);
  } catch {
    return false;
  }
  const r = toBigInt(signature.subarray(0, 32));
  const s = toBigInt(signature.subarray(32));
  if (r < 1n || r >= N || s < 1n || s >= N) return false;
  const t = Fn.add(r, s);
  if (t === 0n) return false;
  const sum = Point.BASE.mulAddUnsafe(s, point, t);
  if (sum.is0()) return false;
  return Fn.add(Fn.create(toBigInt(digest)), Fn.create(sum.toAffine().x)) === r;
}

/**
 * Whether a raw 64-byte r || s signature over the message (default user ID) holds.
 * False for every failure: a tampered message, a wrong key, a malformed key or signature.
 */
export function verify(publicKey, message, signature) {
  requireBytes(message, "message");
  let digest;
  try {
    digest = signingDigest(publicKey, message);
  } catch {
    return false;
  }
  return verifyDigest(publicKey, digest, signature);
}

/**
 * Known-answer tests only: sign with a caller-chosen k (hex), as the GB/T 32918 examples do.
 * A repeated or predictable k reveals the private key; the wallet never calls this.
 */
export function signWithFixedNonceForTests(privateKey, message, kHex) {
  const k = toBigInt(hexToBytes(kHex));
  if (k < 1n || k >= N) throw new RangeError("k out of range");
  let used = false;
  return signWith(privateKey, message, () => {
    if (used) throw new Error("the fixed k gives r = 0, r + k = n or s = 0");
    used = true;
    return k;
  });
}

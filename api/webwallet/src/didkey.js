/**
 * A holder's did:key (credentials/did.py holder_did) and base58btc encoding, for the wallet.
 *
 * did:key:z<base58btc(0x86 0x24 || 33-byte compressed SM2 point)>, and its one verification
 * method did:key:<mb>#<mb> (ledger/crypto/multikey.py). Decoding lives in encoding.js and
 * parse.js, which the verifier's port shares.
 */
import { SM2_PUB_PREFIX } from "./parse.js";

const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** base58btc text of bytes, as the Python ``base58`` package writes it (a "1" per leading zero byte). */
export function base58Encode(bytes) {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros += 1;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let text = "";
  while (value > 0n) {
    text = ALPHABET[Number(value % 58n)] + text;
    value /= 58n;
  }
  return "1".repeat(zeros) + text;
}

/** The publicKeyMultibase of a 33-byte compressed SM2 public key. */
export function multikeyOf(publicKey) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 33) {
    throw new RangeError("a holder key is a 33-byte compressed SM2 point");
  }
  const raw = new Uint8Array(SM2_PUB_PREFIX.length + publicKey.length);
  raw.set(SM2_PUB_PREFIX);
  raw.set(publicKey, SM2_PUB_PREFIX.length);
  return `z${base58Encode(raw)}`;
}

/** The holder's did:key. */
export function didOf(publicKey) {
  return `did:key:${multikeyOf(publicKey)}`;
}

/** The holder's one verification method: did:key:<mb>#<mb>. */
export function verificationMethodOf(publicKey) {
  const encoded = multikeyOf(publicKey);
  return `did:key:${encoded}#${encoded}`;
}

/**
 * The browser wallet's holder key at rest, in the CLI wallet's own formats (api/client/wallet.py).
 *
 * Key file (ledger/crypto/keystore.py, version 1): the 32-byte SM2 scalar sealed with SM4-GCM
 * under scrypt(passphrase) with the parameters and salt the file records; every header field is
 * associated data ("tongban-keystore/v1\n" + the header as sorted, compact, ASCII-escaped JSON),
 * so an edited header, swapped public key or renamed key id does not unlock. Every failure to
 * unlock is one KeystoreError message, as in Python.
 *
 * A wallet directory: wallet.json ({"format": "tongban-wallet/v1", "holder": did}),
 * keys/<SM3 hex of "holder">.json (the key file), credentials/<digest>.sealed (each entry
 * SM4-GCM sealed under HMAC-SM3(scalar, "tongban-wallet/v1/storage")[:16], associated data
 * "tongban-wallet/v1\n" + digest). exportWallet/importWallet carry those files as
 * {path: bytes}, so a page can offer them as a download and read them back.
 *
 * Random bytes (salt, nonces) come from crypto.getRandomValues only.
 */
import { randomBytes } from "@noble/hashes/utils.js";
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { bytesToHex, hexToBytes, publicKeyOf, sm3, utf8ToBytes } from "./sm.js";
import { DecryptionFailed, KEY_SIZE, NONCE_SIZE, TAG_SIZE, open as sm4Open, seal as sm4Seal } from "./sm4.js";
import { didOf } from "./didkey.js";

export const FORMAT_VERSION = 1;
export const WALLET_FORMAT = "tongban-wallet/v1";
export const HOLDER_KEY_ID = "holder";
/** The CLI wallet's production parameters (ledger/crypto/keystore.py DEFAULT_SCRYPT). */
export const DEFAULT_SCRYPT = Object.freeze({ n: 2 ** 17, r: 8, p: 1 });

const KEYSTORE_AAD = utf8ToBytes("tongban-keystore/v1\n");
const STORAGE_LABEL = utf8ToBytes("tongban-wallet/v1/storage");
const ENTRY_AAD = "tongban-wallet/v1\n";
const SALT_SIZE = 16;
const MAX_FILE = 16 * 1024;
const MAX_MEMORY = 256 * 1024 * 1024;
const UNLOCK_FAILED = "cannot unlock the key: wrong passphrase or damaged keystore file";
const DIGEST = /^[0-9a-f]{64}$/u;
const LOWER_HEX = /^[0-9a-f]*$/u;

/** The key does not unlock: one message whatever the cause (passphrase, file, tampering). */
export class KeystoreError extends Error {
  constructor(message = UNLOCK_FAILED) {
    super(message);
    this.name = "KeystoreError";
  }
}

/** The scrypt parameters, checked against the CLI wallet's bounds (ScryptParams). */
export function checkScryptParams(params) {
  const { n, r, p } = params ?? {};
  if (![n, r, p].every((v) => Number.isSafeInteger(v))) throw new RangeError("scrypt parameters must be integers");
  const log = Math.log2(n);
  if (!Number.isInteger(log) || log < 10 || log > 20) throw new RangeError("scrypt n must be a power of two in [2^10, 2^20]");
  if (!(r >= 1 && r <= 32 && p >= 1 && p <= 16)) throw new RangeError("scrypt r must be in [1, 32] and p in [1, 16]");
  if (128 * n * r > MAX_MEMORY) throw new RangeError("scrypt parameters need more than 256 MiB");
  return { n, r, p };
}

/** The passphrase's bytes: NFC, UTF-8, neither empty nor holding NUL (keystore.py's rule). */
export function passphraseBytes(passphrase) {
  if (typeof passphrase !== "string") throw new TypeError("the passphrase must be a string");
  const raw = utf8ToBytes(passphrase.normalize("NFC"));
  if (raw.length === 0) throw new RangeError("the passphrase must not be empty");
  // scrypt keys HMAC with the passphrase, and HMAC zero-pads keys: "pw" and "pw\0" would agree.
  if (raw.includes(0)) throw new RangeError("the passphrase must not contain NUL characters");
  return raw;
}

/** Python's json.dumps(value, sort_keys=True, ensure_ascii=True) with the given separators. */
export function pythonJson(value, { item = ", ", key = ": " } = {}) {
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError("only integers are written here");
    return String(value);
  }
  if (typeof value === "string") {
    // Per UTF-16 code unit (no u flag): Python escapes an astral character as its surrogate pair.
    return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  if (Array.isArray(value)) return `[${value.map((v) => pythonJson(v, { item, key })).join(item)}]`;
  const names = Object.keys(value).sort();
  return `{${names.map((n) => pythonJson(n) + key + pythonJson(value[n], { item, key })).join(item)}}`;
}

function header(keyId, publicKey, params, salt) {
  return {
    algorithm: "sm2",
    cipher: { name: "sm4-gcm" },
    kdf: { n: params.n, name: "scrypt", p: params.p, r: params.r, salt },
    key_id: keyId,
    public_key: publicKey,
    version: FORMAT_VERSION,
  };
}

function aad(head) {
  const text = pythonJson(head, { item: ",", key: ":" });
  const out = new Uint8Array(KEYSTORE_AAD.length + text.length);
  out.set(KEYSTORE_AAD);
  out.set(utf8ToBytes(text), KEYSTORE_AAD.length);
  return out;
}

function checkKeyId(keyId) {
  if (typeof keyId !== "string" || keyId.length === 0 || [...keyId].length > 512) {
    throw new RangeError("key_id must be a non-empty string of at most 512 characters");
  }
}

async function derive(secret, salt, params, onProgress) {
  return scryptAsync(secret, salt, { N: params.n, r: params.r, p: params.p, dkLen: KEY_SIZE, onProgress });
}

/**
 * The key file (text, as keystore.py writes it) protecting ``privateKey`` under ``passphrase``.
 * ``params``: scrypt's n, r, p (default: the CLI wallet's); cheaper ones only in tests.
 */
export async function wrapKey(privateKey, passphrase, { keyId = HOLDER_KEY_ID, params = DEFAULT_SCRYPT, onProgress } = {}) {
  checkKeyId(keyId);
  const cost = checkScryptParams(params);
  const secret = passphraseBytes(passphrase);
  const salt = randomBytes(SALT_SIZE);
  const head = header(keyId, bytesToHex(publicKeyOf(privateKey)), cost, bytesToHex(salt));
  const key = await derive(secret, salt, cost, onProgress);
  const sealed = sm4Seal(key, privateKey, aad(head));
  key.fill(0);
  secret.fill(0);
  const document = {
    ...head,
    cipher: { ciphertext: bytesToHex(sealed.subarray(NONCE_SIZE)), name: "sm4-gcm", nonce: bytesToHex(sealed.subarray(0, NONCE_SIZE)) },
  };
  return `${pythonJson(document)}\n`;
}

function hexField(value, size) {
  // Lowercase only, as keystore.py: a flipped case bit must not decode to the same bytes.
  if (typeof value !== "string" || value.length !== 2 * size || !LOWER_HEX.test(value)) throw new RangeError("bad hex field");
  return hexToBytes(value);
}

function exactly(value, names) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new RangeError("unexpected fields");
  const have = Object.keys(value);
  if (have.length !== names.length || !names.every((n) => Object.hasOwn(value, n))) throw new RangeError("unexpected fields");
  return value;
}

function parseKeyFile(text) {
  if (typeof text !== "string" || utf8ToBytes(text).length > MAX_FILE) throw new RangeError("not a key file");
  const document = exactly(JSON.parse(text), ["algorithm", "cipher", "kdf", "key_id", "public_key", "version"]);
  const kdf = exactly(document.kdf, ["n", "name", "p", "r", "salt"]);
  const cipher = exactly(document.cipher, ["ciphertext", "name", "nonce"]);
  if (document.version !== FORMAT_VERSION) throw new RangeError("unsupported version");
  if (document.algorithm !== "sm2" || kdf.name !== "scrypt" || cipher.name !== "sm4-gcm") throw new RangeError("unsupported algorithm");
  checkKeyId(document.key_id);
  const params = checkScryptParams({ n: kdf.n, r: kdf.r, p: kdf.p });
  const salt = hexField(kdf.salt, SALT_SIZE);
  const publicKey = hexField(document.public_key, 33);
  const nonce = hexField(cipher.nonce, NONCE_SIZE);
  const ciphertext = hexField(cipher.ciphertext, 32 + TAG_SIZE);
  const sealed = new Uint8Array(nonce.length + ciphertext.length);
  sealed.set(nonce);
  sealed.set(ciphertext, nonce.length);
  return { head: header(document.key_id, document.public_key, params, kdf.salt), params, salt, publicKey, sealed };
}

/** The public half of a key file, NOT authenticated (for display and lookup, as Python's public_key). */
export function keyFileInfo(text) {
  try {
    const { head, params } = parseKeyFile(text);
    return { keyId: head.key_id, publicKey: head.public_key, did: didOf(hexToBytes(head.public_key)), params };
  } catch {
    throw new KeystoreError("damaged keystore file");
  }
}

/** Unlock a key file: {keyId, privateKey}; KeystoreError (one message) on any failure. */
export async function unwrapKey(text, passphrase, { onProgress } = {}) {
  const secret = passphraseBytes(passphrase);
  let parsed;
  try {
    parsed = parseKeyFile(text);
  } catch {
    throw new KeystoreError();
  }
  const key = await derive(secret, parsed.salt, parsed.params, onProgress);
  secret.fill(0);
  let privateKey;
  try {
    privateKey = sm4Open(key, parsed.sealed, aad(parsed.head));
  } catch (error) {
    if (error instanceof DecryptionFailed) throw new KeystoreError();
    throw error;
  } finally {
    key.fill(0);
  }
  let matches = false;
  try {
    matches = bytesToHex(publicKeyOf(privateKey)) === parsed.head.public_key;
  } catch {
    matches = false;
  }
  if (!matches) {
    privateKey.fill(0);
    throw new KeystoreError();
  }
  return { keyId: parsed.head.key_id, privateKey };
}

// ---- the wallet directory ----

function hmacSm3(key, message) {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sm3(key) : key);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    inner[i] = block[i] ^ 0x36;
    outer[i] = block[i] ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(sm3(inner), 64);
  block.fill(0);
  inner.fill(0);
  const mac = sm3(outer);
  outer.fill(0);
  return mac;
}

/** HMAC-SM3 (RFC 2104 over SM3): exported for the tests that hold it to ledger/crypto/sm3.py. */
export { hmacSm3 };

/** The key that seals the wallet's credentials: HMAC-SM3(scalar, "tongban-wallet/v1/storage")[:16]. */
export function storageKey(privateKey) {
  return hmacSm3(privateKey, STORAGE_LABEL).slice(0, KEY_SIZE);
}

function entryAad(digest) {
  if (typeof digest !== "string" || !DIGEST.test(digest)) throw new RangeError("a credential digest is 64 lowercase hex");
  return utf8ToBytes(ENTRY_AAD + digest);
}

/** A stored credential's entry ({credential, receivedAt[, status]}) sealed as the CLI wallet does. */
export function sealEntry(key, digest, entry) {
  return sm4Seal(key, utf8ToBytes(JSON.stringify(entry)), entryAad(digest));
}

/** The entry sealed for ``digest``; DecryptionFailed if altered, moved to another digest, or foreign. */
export function openEntry(key, digest, sealed) {
  const body = sm4Open(key, sealed, entryAad(digest));
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
}

/** The path of the holder key's file inside a wallet directory. */
export function holderKeyPath() {
  return `keys/${bytesToHex(sm3(utf8ToBytes(HOLDER_KEY_ID)))}.json`;
}

/**
 * The CLI wallet's files for a wrapped holder key and its credentials, as {path: Uint8Array}.
 * ``entries``: [{digest, sealed}] already sealed (sealEntry), so this needs no secret.
 */
export function exportWallet(keyFile, entries = []) {
  const info = keyFileInfo(keyFile);
  if (info.keyId !== HOLDER_KEY_ID) throw new RangeError("a wallet's key file holds the key id 'holder'");
  const files = {
    "wallet.json": utf8ToBytes(`${pythonJson({ format: WALLET_FORMAT, holder: info.did })}\n`),
    [holderKeyPath()]: utf8ToBytes(keyFile),
  };
  for (const { digest, sealed } of entries) {
    entryAad(digest);
    files[`credentials/${digest}.sealed`] = sealed;
  }
  return files;
}

/**
 * Read a CLI wallet's files ({path: Uint8Array}) and unlock them with the passphrase:
 * {did, keyFile, privateKey, credentials: [{digest, entry}]}. Refused, as Wallet.open refuses,
 * when wallet.json is not a tongban-wallet/v1 naming the key's DID.
 */
export async function importWallet(files, passphrase, { onProgress } = {}) {
  const text = (path) => {
    const bytes = files[path];
    if (!(bytes instanceof Uint8Array)) throw new RangeError(`the wallet has no ${path}`);
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  };
  let meta;
  try {
    meta = JSON.parse(text("wallet.json"));
  } catch (error) {
    throw error instanceof RangeError ? error : new RangeError("damaged wallet file wallet.json");
  }
  if (meta === null || typeof meta !== "object" || meta.format !== WALLET_FORMAT) throw new RangeError(`wallet.json is not a ${WALLET_FORMAT} wallet`);
  const keyFile = text(holderKeyPath());
  const { privateKey } = await unwrapKey(keyFile, passphrase, { onProgress });
  const did = didOf(publicKeyOf(privateKey));
  if (meta.holder !== did) {
    privateKey.fill(0);
    throw new RangeError("damaged wallet: wallet.json names another holder than its key");
  }
  const key = storageKey(privateKey);
  const credentials = [];
  try {
    for (const path of Object.keys(files).sort()) {
      const match = /^credentials\/([0-9a-f]{64})\.sealed$/u.exec(path);
      if (!match) continue;
      try {
        credentials.push({ digest: match[1], entry: openEntry(key, match[1], files[path]) });
      } catch {
        throw new RangeError(`damaged wallet entry ${match[1]}.sealed`);
      }
    }
  } finally {
    key.fill(0);
  }
  return { did, keyFile, privateKey, credentials };
}

// Runs a batch of calls on the committed bundle api/webwallet/static/wallet.js under node.
// stdin: {"bundle": "<path>", "calls": [["wrapKey", "<privHex>", "passphrase", {...}], ...]}
// stdout: [{"ok": <result>} | {"error": "<Name>: <message>"}, ...]; bytes as hex, files as base64.
import { readFileSync } from "node:fs";

// As in the browser test: the module must never need Math.random.
Math.random = () => {
  throw new Error("Math.random called");
};

const request = JSON.parse(readFileSync(0, "utf8"));
const source = readFileSync(request.bundle);
const w = await import("data:text/javascript;base64," + source.toString("base64"));

const bytes = (hex) => w.hexToBytes(hex);
const hex = (b) => w.bytesToHex(b);
const b64 = (b) => Buffer.from(b).toString("base64");
const unb64 = (text) => new Uint8Array(Buffer.from(text, "base64"));
const filesOut = (files) => Object.fromEntries(Object.entries(files).map(([p, b]) => [p, b64(b)]));
const filesIn = (files) => Object.fromEntries(Object.entries(files).map(([p, t]) => [p, unb64(t)]));
const sealed = (privHex, entries) => {
  const key = w.storageKey(bytes(privHex));
  return entries.map(([digest, entry]) => ({ digest, sealed: w.sealEntry(key, digest, entry) }));
};

const CALLS = {
  sm4Block: (key, block) => hex(w.sm4EncryptBlock(w.sm4ExpandKey(bytes(key)), bytes(block))),
  sm4Iterate: (key, block, times) => {
    const rounds = w.sm4ExpandKey(bytes(key));
    let out = bytes(block);
    for (let i = 0; i < times; i++) out = w.sm4EncryptBlock(rounds, out);
    return hex(out);
  },
  sm4SealWithNonce: (key, nonce, pt, aad) => hex(w.sm4SealWithNonce(bytes(key), bytes(nonce), bytes(pt), bytes(aad))),
  sm4Seal: (key, pt, aad) => hex(w.sm4Seal(bytes(key), bytes(pt), bytes(aad))),
  sm4Open: (key, blob, aad) => hex(w.sm4Open(bytes(key), bytes(blob), bytes(aad))),
  hmacSm3: (key, msg) => hex(w.hmacSm3(bytes(key), bytes(msg))),
  storageKey: (priv) => hex(w.storageKey(bytes(priv))),
  wrapKey: (priv, passphrase, options) => w.wrapKey(bytes(priv), passphrase, options),
  unwrapKey: async (text, passphrase) => {
    const { keyId, privateKey } = await w.unwrapKey(text, passphrase);
    return { keyId, privateKey: hex(privateKey) };
  },
  keyFileInfo: (text) => w.keyFileInfo(text),
  didOf: (pub) => w.didOf(bytes(pub)),
  newKey: () => {
    const privateKey = w.generateKey();
    return { privateKey: hex(privateKey), did: w.didOf(w.publicKeyOf(privateKey)) };
  },
  // A fresh key made and wrapped here, exported as a CLI wallet with these entries sealed.
  newWallet: async (passphrase, params, entries) => {
    const privateKey = w.generateKey();
    const keyFile = await w.wrapKey(privateKey, passphrase, { params });
    const files = w.exportWallet(keyFile, sealed(hex(privateKey), entries));
    return { privateKey: hex(privateKey), did: w.didOf(w.publicKeyOf(privateKey)), files: filesOut(files) };
  },
  exportWallet: (keyFile, priv, entries) => filesOut(w.exportWallet(keyFile, sealed(priv, entries))),
  importWallet: async (files, passphrase) => {
    const opened = await w.importWallet(filesIn(files), passphrase);
    return { did: opened.did, privateKey: hex(opened.privateKey), credentials: opened.credentials };
  },
  derive: (credential, claims) => w.deriveCredential(credential, claims),
  isPurposeCode: (value) => w.isPurposeCode(value),
  present: (priv, selections, options) => w.present(bytes(priv), selections, options),
  readRequest: (document, uri) => w.readRequest(document, uri),
  requestUriOf: (link) => w.requestUriOf(link),
  answerRequest: (priv, document, uri, credential, claims) =>
    w.answerRequest(bytes(priv), w.readRequest(document, w.requestUriOf(uri)), credential, claims),
  checkHolderProof: (presentation) => {
    const { check, reason } = w.checkHolderProof(presentation);
    return { check, reason };
  },
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

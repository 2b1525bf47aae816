// Runs a batch of calls on the committed bundle api/webwallet/static/sm.js under node.
// stdin: {"bundle": "<path>", "calls": [["sign", "<privHex>", "<msgHex>"], ...]}
// stdout: [{"ok": <result>} | {"error": "<Name>: <message>"}, ...], bytes as hex.
// The bundle is imported from a data: URL, which only works if it imports nothing.
import { readFileSync } from "node:fs";

// As in the browser test: the module must never need Math.random.
Math.random = () => {
  throw new Error("Math.random called");
};

const request = JSON.parse(readFileSync(0, "utf8"));
const source = readFileSync(request.bundle);
const sm = await import("data:text/javascript;base64," + source.toString("base64"));

const bytes = (hex) => sm.hexToBytes(hex);
const CALLS = {
  sm3: (msg) => sm.bytesToHex(sm.sm3(bytes(msg))),
  generateKey: () => sm.bytesToHex(sm.generateKey()),
  publicKeyOf: (priv, compressed = true) =>
    sm.bytesToHex(sm.publicKeyOf(bytes(priv), { compressed })),
  za: (pub) => sm.bytesToHex(sm.za(bytes(pub))),
  signingDigest: (pub, msg) => sm.bytesToHex(sm.signingDigest(bytes(pub), bytes(msg))),
  sign: (priv, msg) => sm.bytesToHex(sm.sign(bytes(priv), bytes(msg))),
  signFixed: (priv, msg, k) => sm.bytesToHex(sm.signWithFixedNonceForTests(bytes(priv), bytes(msg), k)),
  verify: (pub, msg, sig) => sm.verify(bytes(pub), bytes(msg), bytes(sig)),
  verifyDigest: (pub, e, sig) => sm.verifyDigest(bytes(pub), bytes(e), bytes(sig)),
  // A fresh key, its public key and a signature over msg, in one call.
  keySign: (msg) => {
    const priv = sm.generateKey();
    return [sm.bytesToHex(priv), sm.bytesToHex(sm.publicKeyOf(priv)), sm.bytesToHex(sm.sign(priv, bytes(msg)))];
  },
};

const results = request.calls.map(([name, ...args]) => {
  try {
    return { ok: CALLS[name](...args) };
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
});
process.stdout.write(JSON.stringify(results));

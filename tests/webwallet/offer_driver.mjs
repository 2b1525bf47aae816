// Runs calls of the committed bundle api/webwallet/static/wallet.js's offer functions under node,
// against a real served province (node's own fetch: no CORS here; the browser test has it).
// stdin: {"bundle": "<path>", "calls": [["newKey"] | ["redeem", link, txCode, privHex] | ["read", link]]}
// stdout: [{"ok": <result>} | {"error": "<Name>: <message>"}, ...]
import { readFileSync } from "node:fs";

// As in the browser test: the module must never need Math.random.
Math.random = () => {
  throw new Error("Math.random called");
};

const request = JSON.parse(readFileSync(0, "utf8"));
const source = readFileSync(request.bundle);
const w = await import("data:text/javascript;base64," + source.toString("base64"));

const CALLS = {
  newKey: () => {
    const privateKey = w.generateKey();
    return { privateKey: w.bytesToHex(privateKey), did: w.didOf(w.publicKeyOf(privateKey)) };
  },
  read: (link) => w.readOffer(link),
  redeem: async (link, txCode, privHex) => {
    const offer = await w.readOffer(link);
    return { offer, ...(await w.redeemOffer(offer, txCode, w.hexToBytes(privHex))) };
  },
  keyProof: (privHex, nonce, issuer) => w.keyProof(w.hexToBytes(privHex), nonce, issuer),
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

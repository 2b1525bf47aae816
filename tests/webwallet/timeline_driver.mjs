// Runs a batch of calls on the committed bundle api/webwallet/static/timeline.js under node.
// stdin: {"bundle": "<path>", "calls": [["timeline", options], ["verifyDirectory", doc, opts], ...]}
// stdout: [{"ok": <result>} | {"error": "<Name>: <message>"}, ...]. The holder's private key
// travels as hex; `tamper` (an issuerId) edits that province's answer on its way in: the first
// non-citizen-view record's purpose, as a province that rewrote its log after anchoring would.
import { readFileSync } from "node:fs";

const request = JSON.parse(readFileSync(0, "utf8"));
const source = readFileSync(request.bundle);
const tl = await import("data:text/javascript;base64," + source.toString("base64"));

const bytes = (hex) => Uint8Array.from(Buffer.from(hex, "hex"));

function tamperingFetch(base) {
  return async (url, init) => {
    const response = await fetch(url, init);
    if (!base || !String(url).startsWith(base) || !String(url).endsWith("/citizen/access-history") || !response.ok) return response;
    const answer = await response.json();
    const record = answer.records.find((r) => r.event.action !== "audit.citizen_view");
    if (record) record.event.purpose = "audit.review";
    return new Response(JSON.stringify(answer), { status: 200, headers: { "Content-Type": "application/json" } });
  };
}

const CALLS = {
  timeline: (options) =>
    tl.accessTimeline({ ...options, privateKey: bytes(options.privateKey), fetch: tamperingFetch(options.tamper) }),
  verifyDirectory: async (document, options = {}) => {
    try {
      const directory = await tl.verifyDirectory(document, options);
      return { ok: true, reason: "ok", version: directory.version, provinces: directory.provinces.map((p) => p.issuerId) };
    } catch (error) {
      if (!(error instanceof tl.DirectoryFailure)) throw error;
      return { ok: false, reason: error.reason };
    }
  },
  signingBytes: (document) => Buffer.from(tl.directorySigningBytes(document)).toString("hex"),
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

// Runs a batch of calls on the committed bundle api/webwallet/static/checks.js under node.
// stdin: {"bundle": "<path>", "calls": [["canonicalText", <json value>], ...]}
// stdout: [{"ok": <result>} | {"error": "<Name>: <message>"}, ...].
import { readFileSync } from "node:fs";

Math.random = () => {
  throw new Error("Math.random called");
};

const request = JSON.parse(readFileSync(0, "utf8"));
const source = readFileSync(request.bundle);
const checks = await import("data:text/javascript;base64," + source.toString("base64"));

const CALLS = {
  canonicalText: (value) => checks.canonicalText(value),
  // JCS text of the JSON document's text as JSON.parse reads it (the vectors' inputs).
  canonicalOfText: (text) => checks.canonicalText(JSON.parse(text)),
  // JCS of the IEEE-754 double given as 16 hex digits (the RFC's number lines).
  canonicalNumbers: (lines) =>
    lines.map((bits) => {
      const view = new DataView(new ArrayBuffer(8));
      view.setBigUint64(0, BigInt("0x" + bits));
      return checks.canonicalText(view.getFloat64(0));
    }),
  tables: () => ({
    templates: checks.TEMPLATES.map((t) => ({
      name: t.name,
      credentialType: t.credentialType,
      schemaId: t.schemaId,
      disclosable: t.disclosable,
      clear: t.clear,
      sdSlots: t.sdSlots,
      schema: t.schema,
      national: t.national,
    })),
    contexts: [...checks.CONTEXT_URLS].sort(),
    maxPresented: checks.MAX_PRESENTED_CREDENTIALS,
  }),
};

const results = request.calls.map(([name, ...args]) => {
  try {
    return { ok: CALLS[name](...args) };
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
});
process.stdout.write(JSON.stringify(results));

// Runs the wallet's offline checks (the committed bundle api/webwallet/static/checks.js) over a
// corpus file in one node process. argv: <bundle> <corpus.json>; the corpus is
// {"cases": [{"kind": "credential"|"presentation", "document": ..., "issuerKey": hex|null,
// "trusted": {"chainId": n|null, "credentialAnchor": "0x..."|null}}]}.
// stdout: {"verdicts": [[check, reason] | null | {"error": "..."}], "seconds": <checks only>}.
import { readFileSync } from "node:fs";

// As in the browser: the checks must never need Math.random.
Math.random = () => {
  throw new Error("Math.random called");
};

const [bundlePath, corpusPath] = process.argv.slice(2);
const source = readFileSync(bundlePath);
const checks = await import("data:text/javascript;base64," + source.toString("base64"));
const { cases } = JSON.parse(readFileSync(corpusPath, "utf8"));

const fromHex = (text) => Uint8Array.from(text.match(/../g), (byte) => parseInt(byte, 16));

function verdict(item) {
  try {
    const outcome =
      item.kind === "presentation"
        ? checks.checkHolderProof(item.document)
        : checks.checkOffline(item.document, {
            trusted: item.trusted,
            issuerKey: item.issuerKey === null ? null : fromHex(item.issuerKey),
          });
    return outcome.check === null ? null : [outcome.check, outcome.reason];
  } catch (error) {
    return { error: `${error.name}: ${error.message}` };
  }
}

const started = process.hrtime.bigint();
const verdicts = cases.map(verdict);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
process.stdout.write(JSON.stringify({ verdicts, seconds }));

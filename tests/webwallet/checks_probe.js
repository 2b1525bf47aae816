// Loaded by test_tamper_agreement.py's page under a strict CSP with Trusted Types; the page's
// init script has replaced Math.random with a function that throws. Fetches the corpus slice
// (same origin), runs the bundle's checks on every case and writes the verdicts as JSON into
// <output id="result" data-done> with textContent (not a Trusted Types sink).
import * as checks from "/checks.js";

const out = document.getElementById("result");
const report = {};
const fromHex = (text) => Uint8Array.from(text.match(/../g), (byte) => parseInt(byte, 16));
try {
  const { cases } = await (await fetch("/corpus.json")).json();
  report.verdicts = cases.map((item) => {
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
  });
  report.violations = [...globalThis.__violations];
  try {
    document.body.insertAdjacentHTML("beforeend", "<b>x</b>");
    report.trustedTypesEnforced = false;
  } catch (error) {
    report.trustedTypesEnforced = error instanceof TypeError;
  }
} catch (error) {
  report.error = `${error.name}: ${error.message}`;
}
out.textContent = JSON.stringify(report);
out.dataset.done = "1";

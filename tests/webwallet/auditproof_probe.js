// Loaded by test_auditproof_browser.py's page under a strict CSP with Trusted Types, whose
// connect-src names the chain node. Input (location.hash, JSON): {event: options, timeline:
// options}. The options go through a <section id="browser-proof" data-...> built here with
// dataset (as the console page renders it, docs/consoles.md) and are read back with
// optionsFromElement. Output: JSON in <output id="result" data-done>, set with textContent.
import { optionsFromElement, verifyCheckpointTimeline, verifyEventInBrowser } from "/auditproof.js";

const DATA = {
  rpcUrl: "rpcUrl",
  chainId: "chainId",
  anchorAddress: "anchorAddress",
  logId: "logId",
  confirmations: "confirmations",
  provincePublicKey: "provinceKey",
  event: "event",
  receipt: "receipt",
  inclusionProof: "inclusionProof",
  checkpoint: "checkpoint",
  checkpoints: "checkpoints",
  consistencyProofs: "consistencyProofs",
};

function section(options) {
  const element = document.createElement("section");
  element.id = "browser-proof";
  for (const [name, attribute] of Object.entries(DATA)) {
    if (options[name] === undefined) continue;
    const value = options[name];
    element.dataset[attribute] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  document.body.append(element);
  return element;
}

const input = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const out = document.getElementById("result");
const report = {};
try {
  const element = section(input.event);
  report.attributes = element.getAttributeNames().sort();
  report.event = await verifyEventInBrowser(optionsFromElement(element));
  element.remove();
  report.timeline = await verifyCheckpointTimeline(optionsFromElement(section(input.timeline)));
} catch (error) {
  report.error = `${error.name}: ${error.message}`;
}
out.textContent = JSON.stringify(report);
out.dataset.done = "1";

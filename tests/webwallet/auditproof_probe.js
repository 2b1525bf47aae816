// Loaded by test_auditproof_browser.py's page under a strict CSP with Trusted Types, whose
// connect-src names the chain node. Input (location.hash, JSON): {event: options, timeline:
// options}. The options go through a <section id="browser-proof" data-...> built here with
// dataset, with the console page's attribute names (docs/consoles.md), and are read back with
// optionsFromElement; the RPC URL and contract come from the "auditor's configuration" and
// win over the page's (a decoy URL here, which must not be used). Output: JSON in <output id="result" data-done>, set with textContent.
import { optionsFromElement, verifyCheckpointTimeline, verifyEventInBrowser } from "/auditproof.js";

// The console page's attributes (api/portal/templates/console/event.html, docs/consoles.md).
function flat(options) {
  const proof = options.inclusionProof;
  const checkpoint = options.checkpoint;
  return {
    index: proof.index,
    treeSize: proof.treeSize,
    leafHash: proof.leafHash,
    proof: proof.proof.join(","),
    root: checkpoint.root,
    block: checkpoint.blockNumber ?? "",
    note: checkpoint.note,
    receipt: JSON.stringify(options.receipt),
    event: JSON.stringify(options.event),
    logId: options.logId,
    provinceKey: options.provincePublicKey,
    rpcUrl: "http://127.0.0.1:9/the-provinces-choice-loses",
    chainId: options.chainId,
  };
}

function section(data) {
  const element = document.createElement("section");
  element.id = "browser-proof";
  for (const [name, value] of Object.entries(data)) {
    if (value === undefined) continue;
    element.dataset[name] = typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  document.body.append(element);
  return element;
}

const input = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const out = document.getElementById("result");
const report = {};
try {
  // What the auditor configured in this browser: wins over the page's attributes.
  const auditor = { rpcUrl: input.event.rpcUrl, anchorAddress: input.event.anchorAddress };
  const element = section(flat(input.event));
  report.attributes = element.getAttributeNames().sort();
  report.event = await verifyEventInBrowser(optionsFromElement(element, auditor));
  element.remove();
  const timeline = input.timeline;
  const listed = section({ checkpoints: timeline.checkpoints, consistencyProofs: timeline.consistencyProofs, logId: timeline.logId, provinceKey: timeline.provincePublicKey, chainId: timeline.chainId });
  report.timeline = await verifyCheckpointTimeline(optionsFromElement(listed, auditor));
} catch (error) {
  report.error = `${error.name}: ${error.message}`;
}
out.textContent = JSON.stringify(report);
out.dataset.done = "1";

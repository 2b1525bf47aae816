// The audit console's in-browser proof check (docs/consoles.md "Browser proof").
// Reads the chain through the node the auditor named (#auditor-node, from their own
// cookie), never through the audited province's API. Without this script, or without
// a node, the pages show the server's checks only, marked as the server's.

const node = document.getElementById("auditor-node");

function wordsOf(element) {
  try {
    return JSON.parse(element.dataset.words || "{}");
  } catch {
    return {};
  }
}

const words = node ? wordsOf(node) : {};

function say(key, values = {}) {
  let text = words[key] ?? key;
  for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, String(value));
  return text;
}

function codeWords(code) {
  return words[`code_${code}`] ?? code;
}

function withCode(element, text, code) {
  element.textContent = text;
  const shown = document.createElement("code");
  shown.textContent = code;
  element.append(" (", shown, ")");
}

function auditorConfig() {
  const d = node.dataset;
  return { rpcUrl: d.rpcUrl, chainId: d.chainId, anchorAddress: d.anchorAddress, confirmations: d.confirmations };
}

function verdict(element, result, blockNumber) {
  element.dataset.state = result.ok ? "verified" : "failed";
  element.dataset.code = result.code;
  element.classList.toggle("browser-ok", result.ok);
  element.classList.toggle("browser-bad", !result.ok);
  if (result.ok) {
    element.dataset.block = String(blockNumber);
    withCode(element, say("browser_verified", { block: blockNumber }), result.code);
    return;
  }
  const failed = result.steps.find((s) => s.ok === false);
  const lead = failed ? say("browser_failed") : say("browser_incomplete");
  withCode(element, lead + codeWords(result.code), result.code);
}

function stepList(list, steps) {
  list.replaceChildren();
  for (const step of steps) {
    const item = document.createElement("li");
    item.dataset.step = step.step;
    item.dataset.code = step.code;
    item.dataset.ok = String(step.ok);
    item.className = step.ok === false ? "step-bad" : step.ok ? "step-ok" : "step-skipped";
    withCode(item, `${say(`step_${step.step}`)}: ${codeWords(step.code)}`, step.code);
    list.append(item);
  }
}

async function checkEvent(module, section) {
  const status = document.getElementById("event-browser");
  status.dataset.state = "running";
  status.textContent = say("browser_waiting");
  const result = await module.verifyEventInBrowser(module.optionsFromElement(section, auditorConfig()));
  verdict(status, result, result.anchored ? result.anchored.blockNumber : "");
  stepList(document.getElementById("browser-steps"), result.steps);
}

async function checkTimeline(module, section) {
  const status = document.getElementById("timeline-browser");
  status.dataset.state = "running";
  status.textContent = say("browser_waiting");
  const options = module.optionsFromElement(section, auditorConfig());
  // Only anchored checkpoints have a root on chain to compare with; the others are listed as such.
  const listed = Array.isArray(options.checkpoints) ? options.checkpoints : [];
  const anchoredOnly = listed.filter((c) => c && c.state === "anchored");
  for (const c of listed.filter((c) => c && c.state !== "anchored")) {
    const cell = section.querySelector(`tr[data-tree-size="${c.treeSize}"] .browser-cell`);
    if (!cell) continue;
    cell.dataset.state = "not-anchored";
    withCode(cell, codeWords("anchor.not_anchored"), "anchor.not_anchored");
  }
  const result = await module.verifyCheckpointTimeline({ ...options, checkpoints: anchoredOnly });
  const links = new Map(result.links.map((link) => [link.to, link]));
  for (const entry of result.checkpoints) {
    const cell = section.querySelector(`tr[data-tree-size="${entry.treeSize}"] .browser-cell`);
    if (!cell) continue;
    const link = links.get(entry.treeSize);
    const ok = entry.ok && (!link || link.ok);
    const code = !entry.ok ? entry.code : link && !link.ok ? link.code : "ok";
    cell.dataset.state = ok ? "verified" : "failed";
    cell.dataset.code = code;
    if (ok) {
      const text = say("browser_verified", { block: entry.anchored.blockNumber });
      withCode(cell, link ? `${text} ${say("link_ok")}` : text, code);
    } else {
      withCode(cell, codeWords(code), code);
      cell.closest("tr")?.classList.add("flagged");
    }
  }
  if (result.ok) {
    status.dataset.state = "verified";
    status.dataset.code = "ok";
    withCode(status, say("timeline_verified", { count: result.checkpoints.length }), "ok");
  } else {
    verdict(status, result, "");
  }
}

async function run() {
  if (!node) return;
  const section = document.getElementById("browser-proof");
  const timeline = document.getElementById("checkpoint-timeline");
  const targets = [
    [section, "event-browser"],
    [timeline, "timeline-browser"],
  ].filter(([element, id]) => element && document.getElementById(id));
  if (targets.length === 0) return;
  if (!node.dataset.rpcUrl) {
    for (const [, id] of targets) {
      const status = document.getElementById(id);
      status.dataset.state = "no-node";
      status.textContent = say("node_none");
    }
    return;
  }
  const module = await import(node.dataset.module);
  if (section && document.getElementById("event-browser")) await checkEvent(module, section);
  if (timeline && document.getElementById("timeline-browser")) await checkTimeline(module, timeline);
}

run();

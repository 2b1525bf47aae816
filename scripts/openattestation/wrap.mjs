// Same-run OpenAttestation baseline for scripts/bench_issuance.py --openattestation.
//
//   node scripts/openattestation/wrap.mjs N [--warmup W] < template.json
//
// Reads an OpenAttestation v2 document template (JSON) on stdin, builds N
// documents from it (each with its own `id` and certificate number, as each
// Tongban credential has its own), wraps them with `wrapDocuments` in ONE call
// (one Merkle batch, one merkleRoot) and prints one JSON object on stdout:
// wall seconds and process CPU (process.cpuUsage(), user + system) of the wrap,
// the same for build + wrap, the root, and sizes. A warm-up wrap of W documents
// (default min(N, 200)) runs first so the JIT is warm, as Tongban's run warms up.
//
// It signs nothing and anchors nothing: OpenAttestation would publish the
// merkleRoot in one transaction (DocumentStore.issue); the Python driver times
// that one transaction itself (see scripts/bench_openattestation.py).
// Install first: npm ci --prefix scripts/openattestation

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { wrapDocuments } from "@govtechsg/open-attestation";

const require = createRequire(import.meta.url);

function usage(message) {
  process.stderr.write(`${message}\nusage: node wrap.mjs N [--warmup W] < template.json\n`);
  process.exit(2);
}

function parseCount(text, what) {
  if (!/^\d+$/.test(text ?? "")) usage(`${what} must be a non-negative integer, got ${text}`);
  return Number(text);
}

const args = process.argv.slice(2);
if (args.length < 1) usage("missing N");
const count = parseCount(args[0], "N");
if (count < 1) usage("N must be at least 1");
let warmup = Math.min(count, 200);
for (let i = 1; i < args.length; i += 1) {
  if (args[i] === "--warmup") {
    warmup = parseCount(args[i + 1], "--warmup");
    i += 1;
  } else {
    usage(`unknown argument ${args[i]}`);
  }
}

let template;
try {
  template = JSON.parse(readFileSync(0, "utf8"));
} catch (error) {
  usage(`stdin is not a JSON document template: ${error.message}`);
}
if (template === null || typeof template !== "object" || Array.isArray(template)) {
  usage("the template must be a JSON object");
}

const baseNumber = String(template.certificateNumber ?? "");

function build(n, prefix) {
  const documents = new Array(n);
  for (let i = 0; i < n; i += 1) {
    const document = structuredClone(template);
    document.id = `${prefix}-${i}`;
    if (baseNumber) {
      document.certificateNumber = baseNumber.slice(0, -6) + String(i).padStart(6, "0");
    }
    documents[i] = document;
  }
  return documents;
}

function cpuSeconds(usage) {
  return (usage.user + usage.system) / 1e6;
}

if (warmup > 0) wrapDocuments(build(warmup, "warmup"));

const buildStart = process.hrtime.bigint();
const buildCpu = process.cpuUsage();
const documents = build(count, "urn:uuid:oa-bench");
const wrapStart = process.hrtime.bigint();
const wrapCpu = process.cpuUsage();
const wrapped = wrapDocuments(documents);
const wrapCpuUsed = process.cpuUsage(wrapCpu);
const end = process.hrtime.bigint();
const buildAndWrapCpu = process.cpuUsage(buildCpu);

const roots = new Set(wrapped.map((d) => d.signature.merkleRoot));
if (wrapped.length !== count || roots.size !== 1) {
  process.stderr.write("wrapDocuments did not return one batch under one merkleRoot\n");
  process.exit(1);
}
const wrapSeconds = Number(end - wrapStart) / 1e9;
const wrapCpuSeconds = cpuSeconds(wrapCpuUsed);
const pkg = require("@govtechsg/open-attestation/package.json");

process.stdout.write(
  `${JSON.stringify({
    package: pkg.name,
    version: pkg.version,
    node: process.version,
    documents: count,
    warmup_documents: warmup,
    wrap_wall_s: wrapSeconds,
    wrap_cpu_s: wrapCpuSeconds,
    wrap_cpu_user_s: wrapCpuUsed.user / 1e6,
    wrap_cpu_system_s: wrapCpuUsed.system / 1e6,
    build_and_wrap_wall_s: Number(end - buildStart) / 1e9,
    build_and_wrap_cpu_s: cpuSeconds(buildAndWrapCpu),
    documents_per_s: count / wrapSeconds,
    cpu_ms_per_document: (wrapCpuSeconds * 1000) / count,
    merkle_root: `0x${[...roots][0]}`,
    raw_bytes_per_document: Buffer.byteLength(JSON.stringify(documents[0])),
    wrapped_bytes_per_document: Buffer.byteLength(JSON.stringify(wrapped[0])),
    signed: false,
    anchored: false,
    anchor_note:
      "not anchored here: OpenAttestation publishes the merkleRoot in one transaction " +
      "(DocumentStore.issue); the caller may time one transaction itself",
  })}\n`,
);

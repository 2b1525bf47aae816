// Loaded by test_timeline_browser.py's page (a wallet origin of its own) under a strict CSP
// with Trusted Types. Input (location.hash, JSON): the options of accessTimeline, the holder's
// key in hex. Each province is another origin: the browser sends the CORS preflights and
// refuses any answer that does not name this origin. The timeline is drawn with textContent,
// one <li> per entry and per province status, as the wallet's page will draw it; the result
// (JSON) goes into <output id="result" data-done>.
import { accessTimeline } from "/timeline.js";

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g).map((pair) => parseInt(pair, 16)));

function item(list, text) {
  const li = document.createElement("li");
  li.textContent = text;
  list.append(li);
}

const input = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const out = document.getElementById("result");
const report = {};
try {
  const result = await accessTimeline({ ...input, privateKey: hexBytes(input.privateKey) });
  const entries = document.getElementById("entries");
  for (const e of result.entries) {
    const proved = e.proved ? "已证明 proved" : `未证明 not proved (${e.reason})`;
    item(entries, `${e.time} ${e.province.name} ${e.verifier} ${e.purpose.zh} / ${e.purpose.en} ${e.legalBasis} ${proved}`);
  }
  const provinces = document.getElementById("provinces");
  for (const p of result.provinces) item(provinces, `${p.name}: ${p.status} (${p.words})`);
  report.result = result;
  report.entriesText = [...entries.children].map((li) => li.textContent);
  report.provincesText = [...provinces.children].map((li) => li.textContent);
} catch (error) {
  report.error = `${error.name}: ${error.message}`;
}
out.textContent = JSON.stringify(report);
out.dataset.done = "1";

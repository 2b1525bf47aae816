/**
 * "Who accessed my data, everywhere" (docs/wallet.md "The timeline"): the consortium directory
 * from the wallet's own province (`GET /.well-known/tongban-directory.json`), checked and asked
 * by timeline.js `accessTimeline` with the unlocked holder key; one merged list (time in
 * UTC+8, province, verifier pseudonym, agency, purpose in words, legal basis, proved or not
 * with the reason) and one line per province (answered, unreachable, refused). Built with
 * createElement and textContent only (Trusted Types).
 */
import { accessTimeline } from "./timeline.js";

const DIRECTORY_PATH = "/.well-known/tongban-directory.json";
const UTC8_MS = 8 * 3600 * 1000;

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** `ms` (or an ISO time) as `YYYY-MM-DD HH:MM:SS (UTC+8)`. */
export function chinaTime(time) {
  const ms = typeof time === "number" ? time : Date.parse(time);
  if (!Number.isFinite(ms)) return String(time);
  return `${new Date(ms + UTC8_MS).toISOString().slice(0, 19).replace("T", " ")} (UTC+8)`;
}

function drawEntry(list, entry, words, lang) {
  const item = element("li");
  item.dataset.province = entry.province.divisionCode ?? String(entry.province.issuerId);
  item.append(element("strong", `${chinaTime(entry.time)} · ${entry.province.name}`));
  const facts = element("dl", undefined, "facts");
  const purpose = lang === "en" ? entry.purpose.en : entry.purpose.zh;
  const fact = (term, value) => facts.append(element("dt", term), element("dd", value ?? "—"));
  fact(words.timeline_purpose, purpose ? `${purpose} (${entry.purpose.code})` : entry.purpose.code);
  // The agency's name is the province's label (outside the signed event); its org code is signed.
  const agency = entry.agency ? `${entry.agency.name ?? entry.agency.code} (${entry.actorOrg})` : entry.actorOrg;
  fact(words.timeline_agency, agency);
  fact(words.timeline_verifier, entry.verifier);
  fact(words.timeline_basis, entry.legalBasis);
  item.append(facts);
  const proved = entry.proved ? words.timeline_proved : words.timeline_not_proved + entry.reason;
  const line = element("p", proved, entry.proved ? "check-ok" : "check-bad");
  line.dataset.proved = String(entry.proved);
  item.append(line);
  list.append(item);
}

/**
 * Wire the timeline section: `words` the page's words, `lang` "zh" or "en", `privateKey()`
 * the unlocked holder scalar (null when locked), `apiOrigin` the wallet's own province,
 * `chain` {rpcUrl, anchorAddress} ("" when none: entries are then shown unproved).
 */
export function setupTimeline({ words, lang, privateKey, apiOrigin, chain }) {
  const button = document.getElementById("timeline-load");
  const result = document.getElementById("timeline-result");
  const provinces = document.getElementById("timeline-provinces");
  const entries = document.getElementById("timeline-entries");
  button.addEventListener("click", async () => {
    provinces.replaceChildren();
    entries.replaceChildren();
    result.className = "result";
    const key = privateKey();
    if (!key) {
      result.textContent = words.need_unlock;
      result.classList.add("bad");
      return;
    }
    result.textContent = words.working;
    button.disabled = true;
    try {
      let directory;
      try {
        const answer = await fetch(`${apiOrigin}${DIRECTORY_PATH}`, { credentials: "omit", referrerPolicy: "no-referrer", cache: "no-cache" });
        if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
        directory = await answer.json();
      } catch (error) {
        throw new Error(error.message ?? String(error));
      }
      const timeline = await accessTimeline({
        directory,
        privateKey: key,
        chain: chain.rpcUrl ? { rpcUrl: chain.rpcUrl, anchorAddress: chain.anchorAddress } : null,
      });
      if (!timeline.directory.ok) {
        result.textContent = words.timeline_directory_bad + timeline.directory.reason;
        result.classList.add("bad");
        return;
      }
      for (const province of timeline.provinces) {
        const said = words[`timeline_${province.status}`] ?? province.status;
        const detail = province.status === "answered" ? "" : ` (${province.words ?? province.code})`;
        const line = element("li", `${province.name}: ${said}${detail}`, province.status === "answered" ? "check-ok" : "check-bad");
        line.dataset.status = province.status;
        line.dataset.issuer = String(province.issuerId);
        provinces.append(line);
      }
      for (const entry of timeline.entries) drawEntry(entries, entry, words, lang);
      if (!timeline.entries.length) entries.append(element("li", words.timeline_none));
      result.textContent = words.timeline_done
        .replace("{n}", String(timeline.provinces.length))
        .replace("{m}", String(timeline.entries.length));
    } catch (error) {
      result.textContent = words.timeline_failed + (error.message ?? error);
      result.classList.add("bad");
    } finally {
      button.disabled = false;
    }
  });
}

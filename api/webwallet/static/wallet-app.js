/**
 * The wallet's page (docs/wallet.md): create or unlock the holder key, export and import it,
 * keep credentials, answer a clerk's OpenID4VP request. Trusted Types-safe: the DOM is built
 * with createElement and textContent only; nothing is parsed as HTML.
 *
 * IndexedDB (database tongban-wallet, store keys, through wallet.js's store functions) holds
 * the wrapped key file under "holder", the list of credential digests under "credentials",
 * and each credential sealed under the key's storage key at "credential:<digest>". The
 * unwrapped scalar lives in this module's memory while unlocked, and is zeroed on lock.
 */
import * as w from "./wallet.js";
import { checkOffline } from "./checks.js";
import { setupOffer } from "./wallet-offer.js";
import { showStatuses } from "./wallet-status.js";
import { setupTimeline } from "./wallet-timeline.js";

const main = document.getElementById("main");
const words = JSON.parse(main.dataset.words);
const $ = (id) => document.getElementById(id);
const INDEX = "credentials";
const EXPORT_FORMAT = "tongban-wallet-export/v1";
const chain = { rpcUrl: main.dataset.chainRpc, anchorAddress: main.dataset.auditAnchor };

const state = { keyFile: null, did: null, privateKey: null, credentials: [], request: null };

/** A claim's label in the page's language (the portal's words), or its own name. */
const claimWord = (name) => words[`claim:${name}`] ?? name;

function say(message, bad = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("bad", bad);
}

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function toBase64(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text) {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

async function digestList() {
  const text = await w.loadKeyFile({ name: INDEX });
  return text ? JSON.parse(text) : [];
}

async function keep(digest, sealed) {
  await w.storeKeyFile(toBase64(sealed), { name: `credential:${digest}` });
  const digests = await digestList();
  if (!digests.includes(digest)) {
    digests.push(digest);
    await w.storeKeyFile(JSON.stringify(digests), { name: INDEX });
  }
}

async function sealedEntries() {
  const entries = [];
  for (const digest of await digestList()) {
    const text = await w.loadKeyFile({ name: `credential:${digest}` });
    if (text) entries.push({ digest, sealed: fromBase64(text) });
  }
  return entries;
}

function lock() {
  if (state.privateKey) state.privateKey.fill(0);
  state.privateKey = null;
  state.credentials = [];
  render();
}

async function unlocked(privateKey) {
  state.privateKey = privateKey;
  state.did = w.didOf(w.publicKeyOf(privateKey));
  const key = w.storageKey(privateKey);
  state.credentials = [];
  for (const { digest, sealed } of await sealedEntries()) {
    try {
      state.credentials.push({ digest, entry: w.openEntry(key, digest, sealed) });
    } catch {
      // An entry that does not open under this key is not this wallet's: not shown.
    }
  }
  render();
}

function claimNames(credential) {
  const subject = credential.credentialSubject ?? {};
  const names = new Set(Object.keys(subject).filter((n) => n !== "id" && n !== "_sd"));
  for (const name of w.disclosableClaims(credential)) names.add(name);
  return [...names].sort();
}

function render() {
  const hasKey = state.keyFile !== null;
  const open = state.privateKey !== null;
  $("create-form").hidden = hasKey;
  $("unlock-form").hidden = !hasKey || open;
  $("lock").hidden = !open;
  $("export").hidden = !hasKey;
  $("holder").textContent = !hasKey ? words.no_key : open ? words.unlocked + state.did : words.locked;
  const list = $("credential-list");
  list.replaceChildren();
  if (!state.credentials.length) list.append(element("li", open ? words.none_yet : words.need_unlock));
  const cards = [];
  for (const { digest, entry } of state.credentials) {
    const item = element("li");
    const types = (entry.credential.type ?? []).filter((t) => t !== "VerifiableCredential");
    item.append(element("strong", types.join(", ") || "VerifiableCredential"));
    const result = checkOffline(entry.credential);
    item.append(element("p", result.check === null ? words.check_ok : words.check_failed + result.reason,
      result.check === null ? "check-ok" : "check-bad"));
    item.append(element("p", claimNames(entry.credential).map(claimWord).join(" · ")));
    item.append(element("p", digest, "holder"));
    list.append(item);
    cards.push({ element: item, credential: entry.credential });
  }
  showStatuses(cards, words, chain);
}

async function busy(action) {
  say(words.working);
  try {
    await action();
  } catch (error) {
    say(error instanceof w.KeystoreError ? words.wrong_passphrase : String(error.message ?? error), true);
  }
}

$("create-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const first = $("new-passphrase").value;
  if (!first) return say(words.empty_passphrase, true);
  if (first !== $("new-passphrase-again").value) return say(words.mismatch, true);
  busy(async () => {
    const privateKey = w.generateKey();
    const keyFile = await w.wrapKey(privateKey, first);
    await w.storeKeyFile(keyFile);
    state.keyFile = keyFile;
    $("new-passphrase").value = $("new-passphrase-again").value = "";
    await unlocked(privateKey);
    say(words.created);
  });
});

$("unlock-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const passphrase = $("passphrase").value;
  if (!passphrase) return say(words.empty_passphrase, true);
  busy(async () => {
    const { privateKey } = await w.unwrapKey(state.keyFile, passphrase);
    $("passphrase").value = "";
    await unlocked(privateKey);
    say("");
  });
});

$("lock").addEventListener("click", () => lock());

$("export").addEventListener("click", () => busy(async () => {
  const files = w.exportWallet(state.keyFile, await sealedEntries());
  const document_ = { format: EXPORT_FORMAT, files: {} };
  for (const [path, bytes] of Object.entries(files)) document_.files[path] = toBase64(bytes);
  const blob = new Blob([JSON.stringify(document_)], { type: "application/json" });
  const link = element("a");
  link.href = URL.createObjectURL(blob);
  link.download = "tongban-wallet.json";
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  say("");
}));

$("import-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const file = $("import-file").files[0];
  const passphrase = $("import-passphrase").value;
  if (!passphrase) return say(words.empty_passphrase, true);
  busy(async () => {
    let files;
    try {
      const document_ = JSON.parse(await file.text());
      if (document_.format !== EXPORT_FORMAT) throw new Error();
      files = Object.fromEntries(Object.entries(document_.files).map(([p, t]) => [p, fromBase64(t)]));
    } catch {
      return say(words.bad_file, true);
    }
    const imported = await w.importWallet(files, passphrase);
    await w.storeKeyFile(imported.keyFile);
    for (const [path, bytes] of Object.entries(files)) {
      const found = /^credentials\/([0-9a-f]{64})\.sealed$/.exec(path);
      if (found) await keep(found[1], bytes);
    }
    state.keyFile = imported.keyFile;
    $("import-passphrase").value = "";
    await unlocked(imported.privateKey);
    say(words.imported);
  });
});

$("add-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.privateKey) return say(words.need_unlock, true);
  let credential;
  try {
    credential = JSON.parse($("credential-json").value);
  } catch {
    return say(words.not_json, true);
  }
  const result = checkOffline(credential);
  if (result.check !== null) return say(words.check_failed + result.reason, true);
  if (credential.credentialSubject?.id !== state.did) return say(words.not_mine, true);
  busy(async () => {
    const digest = w.bytesToHex(result.parsed.digest);
    const entry = { credential, receivedAt: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
    await keep(digest, w.sealEntry(w.storageKey(state.privateKey), digest, entry));
    $("credential-json").value = "";
    await unlocked(state.privateKey);
    say(words.added);
  });
});

function fact(list, term, value) {
  list.append(element("dt", term), element("dd", value));
}

$("request-form").addEventListener("submit", (event) => {
  event.preventDefault();
  $("answer-result").textContent = "";
  if (!state.privateKey) return say(words.need_unlock, true);
  busy(async () => {
    let request;
    try {
      const uri = w.requestUriOf($("request-link").value.trim());
      const answer = await fetch(uri, { credentials: "omit", referrerPolicy: "no-referrer" });
      if (!answer.ok) throw new Error((await answer.json()).error_description ?? answer.status);
      request = w.readRequest(await answer.json(), uri);
    } catch (error) {
      return say(words.request_failed + (error.message ?? error), true);
    }
    state.request = request;
    const facts = $("request-facts");
    facts.replaceChildren();
    fact(facts, words.verifier, request.domain);
    if (request.purpose) {
      const said = words[`purpose:${request.purpose}`];
      fact(facts, words.purpose, said ? `${said} (${request.purpose})` : request.purpose);
    }
    const claims = $("claims");
    claims.replaceChildren(claims.querySelector("legend") ?? element("legend", words.asks_for));
    request.claims.forEach((name, i) => {
      const box = element("input");
      box.type = "checkbox";
      box.id = `claim-${i}`;
      box.value = name;
      box.checked = true;
      const label = element("label", claimWord(name));
      label.htmlFor = box.id;
      claims.append(element("div"));
      claims.lastChild.append(box, label);
    });
    const select = $("answer-credential");
    select.replaceChildren();
    for (const { digest, entry } of state.credentials) {
      const held = claimNames(entry.credential);
      if (!request.claims.every((name) => held.includes(name))) continue;
      const types = (entry.credential.type ?? []).filter((t) => t !== "VerifiableCredential");
      const option = element("option", `${types.join(", ")} · ${digest.slice(0, 12)}`);
      option.value = digest;
      select.append(option);
    }
    if (!select.options.length) return say(words.no_credential, true);
    $("answer-form").hidden = false;
    say("");
  });
});

$("answer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (!state.privateKey || !state.request) return say(words.need_unlock, true);
  const chosen = [...$("claims").querySelectorAll("input:checked")].map((box) => box.value);
  const held = state.credentials.find((c) => c.digest === $("answer-credential").value);
  busy(async () => {
    const result = $("answer-result");
    try {
      const { body } = w.answerRequest(state.privateKey, state.request, held.entry.credential, chosen);
      const answer = await fetch(state.request.responseUri, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body,
        credentials: "omit",
        referrerPolicy: "no-referrer",
      });
      const reply = await answer.json();
      if (!answer.ok) throw new Error(reply.error_description ?? answer.status);
      result.textContent = words.sent + reply.tongban_verdict;
      result.className = reply.tongban_verdict === "VALID" ? "result ok" : "result bad";
      $("answer-form").hidden = true;
      state.request = null;
      say("");
    } catch (error) {
      result.textContent = words.send_failed + (error.message ?? error);
      result.className = "result bad";
      say("");
    }
  });
});

setupTimeline({ words, lang: words.html_lang === "en" ? "en" : "zh", privateKey: () => state.privateKey,
  apiOrigin: main.dataset.apiOrigin, chain });

setupOffer({ w, words, say, busy, privateKey: () => state.privateKey,
  keep: async (digest, sealed) => { await keep(digest, sealed); await unlocked(state.privateKey); } });

state.keyFile = (await w.loadKeyFile()) ?? null;
render();
main.dataset.ready = "true";

// Loaded by test_present_browser.py's page under a strict CSP with Trusted Types; the page's
// init script has replaced Math.random with a function that throws and counts its calls.
// Input (GET /input.json): a passphrase and the scrypt parameters; on the second visit also a
// credential, the claims to disclose, and the verifier's challenge, domain and purpose.
// /?create makes a holder key, wraps it and keeps the key file in IndexedDB; / (a later visit)
// reads the file back, unwraps it and signs a presentation. Both then dump every IndexedDB
// database, localStorage and sessionStorage for the test to search.
// Output: JSON in <output id="result" data-done>, set with textContent (not a Trusted Types sink).
import * as w from "/wallet.js";

const out = document.getElementById("result");
const report = {};

function request(operation) {
  return new Promise((resolve, reject) => {
    operation.onsuccess = () => resolve(operation.result);
    operation.onerror = () => reject(operation.error);
  });
}

// Bytes become latin-1 text, so the test can search raw bytes in the dump too.
function plain(value) {
  if (value instanceof ArrayBuffer) value = new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return { $bytes: String.fromCharCode(...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

async function dumpStorage() {
  const dump = { indexedDB: {}, localStorage: {}, sessionStorage: {} };
  for (const { name, version } of await indexedDB.databases()) {
    const db = await request(indexedDB.open(name, version));
    dump.indexedDB[name] = {};
    for (const store of db.objectStoreNames) {
      const transaction = db.transaction(store, "readonly");
      const keys = await request(transaction.objectStore(store).getAllKeys());
      const values = await request(transaction.objectStore(store).getAll());
      dump.indexedDB[name][store] = plain(keys.map((key, i) => [key, values[i]]));
    }
    db.close();
  }
  for (const [area, storage] of [["localStorage", localStorage], ["sessionStorage", sessionStorage]]) {
    for (let i = 0; i < storage.length; i++) dump[area][storage.key(i)] = storage.getItem(storage.key(i));
  }
  return dump;
}

try {
  let threw = false;
  try {
    Math.random();
  } catch {
    threw = true;
  }
  report.mathRandomThrows = threw;
  const input = await (await fetch("/input.json")).json();
  if (location.search === "?create") {
    // First visit: a key made here, wrapped, kept in IndexedDB, then forgotten.
    const privateKey = w.generateKey();
    report.privateKey = w.bytesToHex(privateKey);
    report.did = w.didOf(w.publicKeyOf(privateKey));
    await w.storeKeyFile(await w.wrapKey(privateKey, input.passphrase, { params: input.params }));
    privateKey.fill(0);
  } else {
    // A later visit: the key file from IndexedDB, unlocked with the passphrase, signs.
    report.keyFile = await w.loadKeyFile();
    report.wrongPassphrase = await w.unwrapKey(report.keyFile, input.passphrase + "x").then(
      () => "unlocked",
      (error) => error.name,
    );
    const unlocked = await w.unwrapKey(report.keyFile, input.passphrase);
    report.presentation = w.present(unlocked.privateKey, [[input.credential, input.claims]], {
      challenge: input.challenge,
      domain: input.domain,
      purpose: input.purpose,
    });
    unlocked.privateKey.fill(0);
  }
  report.dump = await dumpStorage();
  report.mathRandomCalls = globalThis.__mathRandomCalls;
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

/**
 * The wrapped holder key in the browser's IndexedDB: only the key file (keystore.js wrapKey's
 * text, the scalar sealed under the passphrase) is ever stored; the unwrapped scalar lives in
 * page memory while the wallet is unlocked and is never written to IndexedDB or localStorage.
 */
const DATABASE = "tongban-wallet";
const STORE = "keys";
const VERSION = 1;

function request(operation) {
  return new Promise((resolve, reject) => {
    operation.onsuccess = () => resolve(operation.result);
    operation.onerror = () => reject(operation.error);
  });
}

function openDatabase(factory) {
  const opening = factory.open(DATABASE, VERSION);
  opening.onupgradeneeded = () => opening.result.createObjectStore(STORE);
  return request(opening);
}

async function withStore(mode, action, factory) {
  const db = await openDatabase(factory ?? globalThis.indexedDB);
  try {
    const transaction = db.transaction(STORE, mode);
    const done = new Promise((resolve, reject) => {
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
    const result = await request(action(transaction.objectStore(STORE)));
    await done;
    return result;
  } finally {
    db.close();
  }
}

/** Keep a wrapped key file (text) under ``name`` (default "holder"). */
export function storeKeyFile(keyFile, { name = "holder", factory } = {}) {
  if (typeof keyFile !== "string") throw new TypeError("a key file is text");
  return withStore("readwrite", (store) => store.put(keyFile, name), factory);
}

/** The wrapped key file kept under ``name``, or undefined. */
export function loadKeyFile({ name = "holder", factory } = {}) {
  return withStore("readonly", (store) => store.get(name), factory);
}

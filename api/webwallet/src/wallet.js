/**
 * The browser wallet's key and presentation module: one entry point bundled into
 * api/webwallet/static/wallet.js (scripts/build_webwallet.py). Key storage in the CLI wallet's
 * formats (keystore.js over sm4.js and scrypt), the wrapped key kept in IndexedDB (store.js),
 * presentations and OpenID4VP answers (present.js), OpenID4VCI offer redemption (offer.js), and
 * the SM2/SM3 functions they use.
 */
export * from "./keystore.js";
export * from "./present.js";
export * from "./store.js";
export { DecryptionFailed, open as sm4Open, seal as sm4Seal, sealWithNonce as sm4SealWithNonce, encryptBlock as sm4EncryptBlock, expandKey as sm4ExpandKey } from "./sm4.js";
export { base58Encode, didOf, multikeyOf, verificationMethodOf } from "./didkey.js";
export { bytesToHex, generateKey, hexToBytes, publicKeyOf, sign, sm3, utf8ToBytes, verify } from "./sm.js";
export { checkHolderProof } from "./checks.js";
export * from "./offer.js";

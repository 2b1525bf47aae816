// Loaded by test_sm_browser.py's page under a strict CSP with Trusted Types. The page's init
// script has already replaced Math.random with a function that throws and counts its calls.
// Input (location.hash, JSON): a message, and a Python signature to verify here.
// Output: JSON in <output id="result" data-done>, set with textContent (not a Trusted Types sink).
import * as sm from "/sm.js";

const input = JSON.parse(decodeURIComponent(location.hash.slice(1)));
const out = document.getElementById("result");
const report = {};
try {
  let threw = false;
  try {
    Math.random();
  } catch {
    threw = true;
  }
  report.mathRandomThrows = threw;
  const message = sm.hexToBytes(input.message);
  const privateKey = sm.generateKey();
  report.publicKey = sm.bytesToHex(sm.publicKeyOf(privateKey));
  report.signature = sm.bytesToHex(sm.sign(privateKey, message));
  report.verifiesHere = sm.verify(sm.hexToBytes(report.publicKey), message, sm.hexToBytes(report.signature));
  report.sm3abc = sm.bytesToHex(sm.sm3(sm.utf8ToBytes("abc")));
  report.pythonSignatureVerifies = sm.verify(
    sm.hexToBytes(input.pythonPublicKey),
    sm.hexToBytes(input.pythonMessage),
    sm.hexToBytes(input.pythonSignature),
  );
  report.tamperedPythonSignatureVerifies = sm.verify(
    sm.hexToBytes(input.pythonPublicKey),
    sm.hexToBytes(input.pythonMessage + "00"),
    sm.hexToBytes(input.pythonSignature),
  );
  report.mathRandomCalls = globalThis.__mathRandomCalls;
  report.violationsDuringCrypto = [...globalThis.__violations];
  // Prove the page really enforces Trusted Types: a string into innerHTML must be refused.
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

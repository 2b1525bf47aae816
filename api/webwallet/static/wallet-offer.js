/**
 * The wallet page's "Receive a credential" section (docs/wallet.md "Receiving an offer"): the
 * citizen pastes an issuer's offer link (openid-credential-offer://… or its https URL), the
 * page reads the offer and its issuer's metadata (wallet.js readOffer), asks for the tx_code
 * the citizen received by another channel (a numeric field of the offer's length), redeems it
 * (redeemOffer: token, nonce, the di_vp key proof, the credential, its offline checks and its
 * binding to this key) and hands the credential, sealed under the key's storage key, to the
 * shell to keep. Trusted Types-safe: createElement and textContent only.
 *
 * It imports nothing: the shell passes wallet.js and its own functions to setupOffer, so the
 * module graph stays the shell's.
 */

/**
 * Wire the section. ``w`` is wallet.js; ``privateKey()`` the unlocked scalar or null;
 * ``keep(digest, sealed)`` stores a sealed entry and shows the list again; ``say`` and
 * ``busy`` are the shell's status line and action wrapper.
 */
export function setupOffer({ w, words, say, busy, privateKey, keep }) {
  const $ = (id) => document.getElementById(id);
  const result = $("offer-result");
  const codeForm = $("offer-code-form");
  const code = $("offer-tx-code");
  let offer = null;

  function show(message, good) {
    result.textContent = message;
    result.className = good ? "result ok" : "result bad";
  }

  function fact(list, term, value) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }

  function reset() {
    offer = null;
    codeForm.hidden = true;
    code.value = "";
  }

  // A link the wallet was opened with (…/wallet?credential_offer_uri=…) is put in the field;
  // nothing is fetched until the citizen asks.
  const given = new URLSearchParams(window.location.search).get("credential_offer_uri");
  if (given) $("offer-link").value = given;

  $("offer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    result.textContent = "";
    reset();
    if (!privateKey()) return say(words.need_unlock, true);
    busy(async () => {
      try {
        offer = await w.readOffer($("offer-link").value);
      } catch (error) {
        return say(words.offer_read_failed + (error.message ?? error), true);
      }
      const facts = $("offer-facts");
      facts.replaceChildren();
      fact(facts, words.offer_issuer, offer.credentialIssuer);
      fact(facts, words.offer_credential, words[`template:${offer.configurationId}`] ?? offer.configurationId);
      const shape = offer.txCode;
      code.inputMode = shape?.inputMode === "text" ? "text" : "numeric";
      if (shape?.length) {
        code.maxLength = shape.length;
        code.pattern = shape.inputMode === "text" ? `.{${shape.length}}` : `[0-9]{${shape.length}}`;
      } else {
        code.removeAttribute("maxlength");
        code.removeAttribute("pattern");
      }
      const hints = [];
      if (shape?.length) hints.push(words.offer_tx_digits.replace("{n}", String(shape.length)));
      if (shape?.description) hints.push(shape.description);
      $("offer-tx-hint").textContent = hints.join(" · ");
      codeForm.hidden = false;
      code.focus();
      say("");
    });
  });

  codeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = privateKey();
    if (!key || !offer) return say(words.need_unlock, true);
    busy(async () => {
      let received;
      try {
        received = await w.redeemOffer(offer, code.value, key);
      } catch (error) {
        show(words.offer_failed + (error.message ?? error), false);
        return say("");
      }
      const { credential, digest } = received;
      const entry = { credential, receivedAt: new Date().toISOString().replace(/\.\d+Z$/u, "Z") };
      await keep(digest, w.sealEntry(w.storageKey(key), digest, entry));
      reset();
      $("offer-link").value = "";
      show(words.offer_received, true);
      say("");
    });
  });
}

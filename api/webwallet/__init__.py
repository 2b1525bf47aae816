"""The citizen's wallet in the browser (issue #18): its static ES modules.

The committed esbuild bundles (``scripts/build_webwallet.py``; docs/browser-crypto.md):
``static/sm.js``, SM2/SM3 from ``src/sm.js`` over the pinned ``@noble/curves``,
``static/checks.js``, the credential checks a wallet makes without the chain,
``static/wallet.js`` and ``static/auditproof.js``. The wallet's page on an origin of its own
(docs/wallet.md): ``api.webwallet.app`` (routes, headers, the dispatch by socket),
``api.webwallet.text`` (its words), ``templates/wallet.html`` and ``static/wallet-app.js``.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The folder of the wallet's static files, served as they are (no build step for the user)."""

SM_MODULE = STATIC_DIR / "sm.js"
"""The self-contained SM2/SM3 ES module (``sm3``, ``generateKey``, ``sign``, ``verify``, ...)."""

CHECKS_MODULE = STATIC_DIR / "checks.js"
"""The wallet's offline credential checks (``checkOffline``, ``checkHolderProof``): a port of
``credentials.verify.offline``, self-contained (it carries the SM2/SM3 code and the schemas)."""

WALLET_MODULE = STATIC_DIR / "wallet.js"
"""The browser wallet's keys and presentations (``wrapKey``, ``unwrapKey``, ``exportWallet``,
``importWallet``, ``present``, ``answerRequest``, and ``readOffer``/``redeemOffer`` for an
issuer's OpenID4VCI offer): CLI-wallet-compatible key files and presentations signed as
``credentials.holder`` signs them, self-contained."""

AUDITPROOF_MODULE = STATIC_DIR / "auditproof.js"
"""An audit event's receipt and inclusion proof, and a run of checkpoints, checked against the
roots AuditAnchor holds, read over the JSON-RPC node the auditor names
(``verifyEventInBrowser``, ``verifyCheckpointTimeline``; docs/consoles.md "Browser proof")."""

TIMELINE_MODULE = STATIC_DIR / "timeline.js"
"""Who accessed my data, everywhere: the consortium directory checked (``verifyDirectory``) and
every province's access history merged into one timeline, each record proved against its
province's anchored log (``accessTimeline``; docs/citizen-timeline.md)."""

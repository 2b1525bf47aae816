"""The citizen's wallet in the browser (issue #18): its static ES modules.

For now this holds the SM2/SM3 module only: ``static/sm.js``, the committed esbuild bundle of
``src/sm.js`` over the pinned ``@noble/curves`` (``scripts/build_webwallet.py``;
docs/browser-crypto.md). The wallet's pages and routes will grow here.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""The folder of the wallet's static files, served as they are (no build step for the user)."""

SM_MODULE = STATIC_DIR / "sm.js"
"""The self-contained SM2/SM3 ES module (``sm3``, ``generateKey``, ``sign``, ``verify``, ...)."""

"""The bundle ``api/webwallet/static/wallet.js`` driven by ``node`` from the tests.

One ``node`` process runs a batch of calls (``wallet_driver.mjs``); async calls are awaited in
order. Bytes travel as lowercase hex, a wallet's files as base64.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from api.webwallet import WALLET_MODULE
from tests.webwallet.jsside import JsError

DRIVER = Path(__file__).resolve().parent / "wallet_driver.mjs"


def run_wallet(calls: list[list[Any]]) -> list[Any]:
    """Run ``calls`` (``[name, *args]``) on the bundle; each result, or a :class:`JsError`."""
    node = shutil.which("node")
    assert node, "node is missing: the browser module's tests run it under node"
    completed = subprocess.run(
        [node, str(DRIVER)],
        input=json.dumps({"bundle": str(WALLET_MODULE), "calls": calls}, ensure_ascii=False),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
    return [
        JsError(item["error"]) if "error" in item else item["ok"]
        for item in json.loads(completed.stdout)
    ]


def wallet_one(*call: Any) -> Any:
    """Run one call and return its result (a :class:`JsError` if it threw)."""
    return run_wallet([list(call)])[0]

"""The bundle ``api/webwallet/static/auditproof.js`` driven by ``node`` from the tests.

One ``node`` process runs a batch of calls (``auditproof_driver.mjs``); bytes travel as
lowercase hex, integers as JSON numbers (BigInt inside). The results of the two top-level
functions are the objects the console page gets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from api.webwallet import AUDITPROOF_MODULE

DRIVER = Path(__file__).resolve().parent / "auditproof_driver.mjs"


def run_calls(calls: list[list[Any]]) -> list[Any]:
    """Run ``calls`` (``[name, *args]``) on the bundle; a call that threw: ``{"error": ...}``."""
    node = shutil.which("node")
    assert node, "node is missing: the browser module's tests run it under node"
    completed = subprocess.run(
        [node, str(DRIVER)],
        input=json.dumps({"bundle": str(AUDITPROOF_MODULE), "calls": calls}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
    return [
        {"error": item["error"]} if "error" in item else item["ok"]
        for item in json.loads(completed.stdout)
    ]

"""The bundle ``api/webwallet/static/timeline.js`` driven by ``node`` from the tests.

One ``node`` process runs a batch of calls (``timeline_driver.mjs``); node's own ``fetch``
talks to the provinces and the chain as a browser's would (node enforces no CORS: the CORS
answers are tested over the app, tests/api/http/test_citizen_cors.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from api.webwallet import TIMELINE_MODULE

DRIVER = Path(__file__).resolve().parent / "timeline_driver.mjs"


def run_timeline(calls: list[list[Any]]) -> list[Any]:
    """Run ``calls`` (``[name, *args]``) on the bundle; a call that threw: ``{"error": ...}``."""
    node = shutil.which("node")
    assert node, "node is missing: the browser module's tests run it under node"
    completed = subprocess.run(
        [node, str(DRIVER)],
        input=json.dumps({"bundle": str(TIMELINE_MODULE), "calls": calls}),
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

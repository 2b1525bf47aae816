"""The bundle ``api/webwallet/static/sm.js`` driven by ``node`` from the tests.

One ``node`` process runs a whole batch of calls (``sm_driver.mjs``), so a test of a hundred
signatures pays for one start-up. Bytes travel as lowercase hex.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.webwallet import SM_MODULE

DRIVER = Path(__file__).resolve().parent / "sm_driver.mjs"


@dataclass(frozen=True)
class JsError:
    """A call the module refused: its error's name and message (``RangeError: ...``)."""

    message: str


def run_js(calls: list[list[Any]], *, bundle: Path = SM_MODULE) -> list[Any]:
    """Run ``calls`` (``[name, *args]``) on the bundle; each result, or a :class:`JsError`."""
    node = shutil.which("node")
    assert node, "node is missing: the browser module's tests run it under node"
    completed = subprocess.run(
        [node, str(DRIVER)],
        input=json.dumps({"bundle": str(bundle), "calls": calls}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
    return [
        JsError(item["error"]) if "error" in item else item["ok"]
        for item in json.loads(completed.stdout)
    ]


def run_one(*call: Any) -> Any:
    """Run one call and return its result (a :class:`JsError` if it threw)."""
    return run_js([list(call)])[0]

"""Real ``tongban`` processes for tests: the entry point, a clean environment, exit checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

TONGBAN = str(Path(sys.executable).with_name("tongban"))
"""The ``tongban`` entry point installed beside the test interpreter."""


def tongban_env(**settings: str) -> dict[str, str]:
    """This process's environment without any ``TONGBAN_*`` setting, plus ``settings``.

    The HTTP port is 0 unless given: tests run side by side and never take the default.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env["TONGBAN_HTTP_PORT"] = "0"
    env.update(settings)
    return env


def process_gone(pid: int, timeout: float = 10.0) -> bool:
    """Whether process ``pid`` has exited within ``timeout`` seconds (a zombie counts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def e2e_env(**extra: str) -> dict[str, str]:
    """``tongban_env`` with the short checkpoint and batch timings of the end-to-end tests."""
    timings = {
        "TONGBAN_LOG_FORMAT": "json",
        "TONGBAN_CHECKPOINT_SECONDS": "1",
        "TONGBAN_BATCH_MAX_WAIT_MS": "300",
    }
    return tongban_env(**(timings | extra))


@dataclass
class Served:
    """A running ``tongban serve --json`` and what it printed."""

    process: subprocess.Popen[str]
    description: dict[str, Any]
    log: Path

    @property
    def url(self) -> str:
        """The service's API URL, as it printed it."""
        return str(self.description["apiUrl"])

    def stop(self) -> int:
        """SIGTERM (if still running) and wait; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def serve(log: Path, *args: str, **settings: str) -> Served:
    """Start ``tongban serve --json *args`` (stderr to ``log``) and wait for its description."""
    with log.open("w") as errors:
        process = subprocess.Popen(
            [TONGBAN, "serve", "--json", *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=e2e_env(**settings),
        )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=30)
        raise AssertionError(f"serve exited early:\n{log.read_text()[-3000:]}")
    return Served(process, json.loads(line), log)


def wait_for(
    what: str, check: Callable[[], T | None], *, timeout: float = 60.0, interval: float = 0.1
) -> T:
    """Call ``check`` every ``interval`` s until it answers something other than None."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child)
    return found


def kill_service(served: Served) -> None:
    """SIGKILL the supervisor and every process under it at once, as a power cut would."""
    tree = [served.process.pid, *_descendants(served.process.pid)]
    for pid in tree:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    served.process.wait(timeout=30)
    for pid in tree:
        assert process_gone(pid, timeout=30), f"process {pid} outlived the kill"

"""The demo and test identity provider: ``node idp/server.mjs`` (panva's oidc-provider).

DEMO AND TEST ONLY (docs/signin.md): it signs in a named demo account without
a password. It binds 127.0.0.1 on a free port and prints its issuer; the
process is a child of whoever started it and ``stop`` ends it.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.errors import SettingsError
from ledger.lifetime import die_with_parent

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "idp" / "server.mjs"
START_SECONDS = 30.0
CALLBACK_PATH = "/signin/callback"
SIGNED_OUT_PATH = "/signed-out"
"""Tongban's sign-in callback and the page RP-Initiated Logout returns to (docs/signin.md)."""


class IdpError(SettingsError):
    """The identity provider could not be started (the message names the log and the fix)."""


@dataclass
class IdpProcess:
    """A running demo identity provider."""

    process: subprocess.Popen[bytes]
    issuer: str

    def stop(self) -> None:
        """End the provider and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def with_signed_out_pages(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with each Tongban client's signed-out page as its post-logout redirect URI.

    A client is Tongban's when a redirect URI ends in ``/signin/callback``; its
    ``post_logout_redirect_uris`` (RP-Initiated Logout 1.0) become the same
    origin's ``/signed-out`` unless the configuration names them already.
    """
    clients = []
    for client in config.get("clients", []):
        uris = [u for u in client.get("redirect_uris", []) if u.endswith(CALLBACK_PATH)]
        if uris and "post_logout_redirect_uris" not in client:
            signed_out = [u.removesuffix(CALLBACK_PATH) + SIGNED_OUT_PATH for u in uris]
            client = {**client, "post_logout_redirect_uris": signed_out}
        clients.append(client)
    return {**config, "clients": clients}


def start_idp(config: dict[str, Any], config_file: Path, log_file: Path) -> IdpProcess:
    """Write ``config`` to ``config_file`` (mode 0600) and start the provider on it.

    Tongban's clients are given their signed-out page (``with_signed_out_pages``).
    """
    node = shutil.which("node")
    if node is None:
        raise IdpError("node is not installed (the demo identity provider needs Node.js)")
    # Absolute: node runs from the repository, the data directory may be relative.
    config_file, log_file = config_file.resolve(), log_file.resolve()
    config_file.touch(mode=0o600)
    config_file.write_text(json.dumps(with_signed_out_pages(config)))
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env["NODE_PATH"] = str(REPO / "node_modules")
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [node, str(SERVER), str(config_file)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            # The kernel ends the provider when its starter dies (like the chain node).
            preexec_fn=die_with_parent,
        )
    assert process.stdout is not None  # noqa: S101 - PIPE above
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + START_SECONDS
    line = b""
    while not line.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or process.poll() is not None:
            IdpProcess(process, "").stop()
            raise IdpError(f"the identity provider did not start (see {log_file})")
        if selector.select(timeout=min(left, 0.5)):
            chunk = os.read(process.stdout.fileno(), 256)
            if not chunk:
                continue
            line += chunk
    selector.close()
    words = line.decode().split()
    if len(words) != 2 or words[0] != "issuer":
        IdpProcess(process, "").stop()
        raise IdpError("the identity provider printed something unexpected")
    return IdpProcess(process, words[1])

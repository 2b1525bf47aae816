"""An HTTP worker process of ``tongban serve``: one uvicorn server on an inherited socket.

The supervisor (``api.runtime.supervisor``) binds the listening socket, then starts each
worker as ``python -m api.runtime.worker <fd>`` with the socket passed as file
descriptor ``fd`` (so every worker accepts on one port, and a restarted worker
needs no new bind) and one line of JSON on stdin: the settings, secrets
included, and the ``ChainPlan``. Secrets therefore never appear in the
command line or the environment of a worker.

The worker builds its own ``ProvinceParts`` (store, keys, audit log, index
reader, issuer, verifier) and serves ``create_app`` with uvicorn's access
log off. SIGTERM stops it gracefully: in-flight requests finish, queued audit
appends commit, the store closes. It dies with the supervisor (parent-death
signal), so nothing outlives a killed service.
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import sys
import threading
from typing import Any

import uvicorn

from api.http.app import create_app
from api.runtime.logs import configure_logging
from api.runtime.parts import ChainPlan, open_province
from api.runtime.settings import Settings
from ledger.lifetime import die_with_parent

log = logging.getLogger(__name__)

READY_LINE = "ready"
"""What a worker prints on stdout once it serves."""


class _ReadyServer(uvicorn.Server):
    """A uvicorn server that says ``ready`` on stdout once it accepts connections."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            sys.stdout.write(READY_LINE + "\n")
            sys.stdout.flush()


def run_worker(fd: int, payload: dict[str, Any]) -> None:
    """Serve the province described by ``payload`` on the listening socket ``fd``."""
    settings = Settings(**payload["settings"])
    plan = ChainPlan.from_json(payload["plan"])
    configure_logging(settings.log_level, settings.log_format)
    parts = open_province(settings, plan)
    stop = threading.Event()
    threading.Thread(
        target=parts.keyring.follow, args=(stop,), name="signing-keys", daemon=True
    ).start()
    listener = socket.socket(fileno=fd)
    config = uvicorn.Config(
        create_app(parts.context()),
        access_log=False,
        lifespan="off",
        http="httptools",  # the C parser and loop (pinned dependencies), not the pure-Python
        loop="uvloop",  # h11 and asyncio defaults: see docs/benchmarks.md
        log_config=None,
        timeout_graceful_shutdown=5,
        timeout_keep_alive=30,
    )
    try:
        _ReadyServer(config).run(sockets=[listener])
    finally:
        stop.set()
        parts.close()


def main() -> None:
    """Entry point: ``python -m api.runtime.worker <fd>`` with the payload on stdin."""
    die_with_parent(signal.SIGTERM)  # a graceful stop: queued audit appends commit
    fd = int(sys.argv[1])
    payload = json.loads(sys.stdin.readline())
    run_worker(fd, payload)


if __name__ == "__main__":
    main()

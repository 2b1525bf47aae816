"""Local chain nodes started by Tongban itself: the embedded ganache and anvil for tests.

Both come from pinned npm packages. Each node binds to 127.0.0.1 only and is
started with ``PR_SET_PDEATHSIG`` so that it dies with the process that started
it, even when that process is killed with ``kill -9``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ledger.chain.errors import NodeBinaryMissingError, NodeStartError
from ledger.lifetime import die_with_parent

_REPO_NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"


def default_node_modules() -> Path:
    """The ``node_modules`` folder installed by ``npm ci`` at the repository root."""
    return _REPO_NODE_MODULES


def ganache_cli(node_modules: Path | None = None) -> Path:
    """Path of the pinned ganache command-line entry point (a Node.js script)."""
    path = (node_modules or default_node_modules()) / "ganache" / "dist" / "node" / "cli.js"
    if not path.is_file():
        raise NodeBinaryMissingError(
            f"ganache is not installed (looked for {path}); run `npm ci` in the repository "
            "root or set TONGBAN_NODE_MODULES to the folder holding node_modules"
        )
    return path


def anvil_binary(node_modules: Path | None = None) -> Path:
    """Path of the pinned anvil binary from ``@foundry-rs/anvil-linux-amd64``."""
    path = (
        (node_modules or default_node_modules())
        / "@foundry-rs"
        / "anvil-linux-amd64"
        / "bin"
        / "anvil"
    )
    if not path.is_file():
        raise NodeBinaryMissingError(
            f"anvil is not installed (looked for {path}); run `npm ci` in the repository root"
        )
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: no node outlives a killed service.
    die_with_parent(signal.SIGKILL)
    os.setpgid(0, 0)


@dataclass
class NodeProcess:
    """A running local node: its RPC URL, chain id and process."""

    kind: str
    url: str
    chain_id: int
    process: subprocess.Popen[bytes]
    log_path: Path | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)
    started_at: float = field(default_factory=time.monotonic)

    @property
    def port(self) -> int:
        """The TCP port the node serves on (127.0.0.1)."""
        return int(self.url.rsplit(":", 1)[1])

    @property
    def pid(self) -> int:
        """Process id of the node."""
        return self.process.pid

    def alive(self) -> bool:
        """Whether the node process is still running."""
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the node gracefully (SIGINT lets ganache close its database), then kill it."""
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._close_log()

    def kill(self) -> None:
        """Kill the node at once (SIGKILL), as a crash would."""
        if self.alive():
            self.process.kill()
        self.process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


_MIN_UPTIME = 0.3  # a node that lost the race for its port exits well within this


def _spawn(
    kind: str,
    command: Callable[[int], list[str]],
    requested_port: int,
    chain_id: int,
    log_path: Path | None,
    ready_timeout: float,
) -> NodeProcess:
    # A port found free may be taken by another process before the node binds
    # it; the node then exits while the other process answers in its place.
    # So a node must still be alive a moment after it answered, and with an
    # automatically chosen port a lost race is retried on another port.
    attempts = 1 if requested_port else 3
    for attempt in range(attempts):
        port = requested_port or free_port()
        node = _spawn_once(kind, command(port), port, chain_id, log_path, ready_timeout)
        time.sleep(max(0.0, _MIN_UPTIME - (time.monotonic() - node.started_at)))
        if node.alive():
            return node
        node.kill()
        if attempt == attempts - 1:
            raise NodeStartError(f"{kind} exited just after starting (port {port} taken?)")
    raise AssertionError("unreachable")  # pragma: no cover


def _spawn_once(
    kind: str,
    argv: list[str],
    port: int,
    chain_id: int,
    log_path: Path | None,
    ready_timeout: float,
) -> NodeProcess:
    log: IO[bytes] | None = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log = log_path.open("ab")
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=log if log is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
        close_fds=True,
    )
    node = NodeProcess(kind, f"http://127.0.0.1:{port}", chain_id, process, log_path, log)
    try:
        _wait_ready(node, ready_timeout)
    except BaseException:
        node.kill()
        raise
    return node


def _wait_ready(node: NodeProcess, timeout: float) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    deadline = time.monotonic() + timeout
    while True:
        if not node.alive():
            where = f"; see {node.log_path}" if node.log_path else ""
            raise NodeStartError(
                f"{node.kind} exited with status {node.process.returncode} while starting{where}"
            )
        request = urllib.request.Request(  # noqa: S310 - our own http://127.0.0.1 URL
            node.url,
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            with urllib.request.urlopen(request, timeout=1.0) as response:  # noqa: S310 - as above
                answer = json.loads(response.read())
            served = int(answer["result"], 16)
            if served != node.chain_id:
                raise NodeStartError(
                    f"{node.kind} started with chain id {served}, expected {node.chain_id}"
                )
            return
        if time.monotonic() > deadline:
            raise NodeStartError(f"{node.kind} did not answer on {node.url} within {timeout:.0f} s")
        time.sleep(0.05)


def start_ganache(
    db_path: Path,
    chain_id: int,
    *,
    block_time: float = 1.0,
    port: int = 0,
    node_modules: Path | None = None,
    log_path: Path | None = None,
    ready_timeout: float = 60.0,
) -> NodeProcess:
    """Start the pinned ganache with its LevelDB database in ``db_path``.

    The database survives ``kill -9``; restarting on the same ``db_path`` resumes
    the chain. ``block_time`` is in seconds (0 mines a block per transaction).
    """
    cli = ganache_cli(node_modules)
    db_path.mkdir(parents=True, exist_ok=True)

    def command(chosen: int) -> list[str]:
        argv = [
            "node",
            str(cli),
            "--server.host=127.0.0.1",
            f"--server.port={chosen}",
            f"--database.dbPath={db_path}",
            f"--chain.chainId={chain_id}",
            f"--chain.networkId={chain_id}",
            "--chain.hardfork=shanghai",
            "--wallet.totalAccounts=0",
            "--logging.quiet=true",
        ]
        if block_time > 0:
            argv.append(f"--miner.blockTime={block_time:g}")
        return argv

    return _spawn("ganache", command, port, chain_id, log_path, ready_timeout)


def start_anvil(
    chain_id: int,
    *,
    block_time: float | None = None,
    port: int = 0,
    node_modules: Path | None = None,
    log_path: Path | None = None,
    ready_timeout: float = 30.0,
) -> NodeProcess:
    """Start the pinned anvil (fast, in memory; ``anvil_reorg`` for reorg tests).

    Without ``block_time`` anvil mines one block per transaction.
    """
    binary = anvil_binary(node_modules)

    def command(chosen: int) -> list[str]:
        argv = [
            str(binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(chosen),
            "--chain-id",
            str(chain_id),
            "--hardfork",
            "shanghai",
            "--accounts",
            "2",
            "--silent",
        ]
        if block_time is not None:
            argv += ["--block-time", f"{block_time:g}"]
        return argv

    return _spawn("anvil", command, port, chain_id, log_path, ready_timeout)

"""The embedded chain's port: chosen once, kept in the data directory, checked before each start.

Provinces that joined the chain by URL keep that URL, so the embedded node
must come back on the same port after a restart. The first start picks a free
port (or takes ``TONGBAN_NODE_PORT``) and records it in ``<data dir>/chain/port``;
every later start reuses it, and stops with one clear line when another
process holds it, rather than silently moving the chain elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import socket
from pathlib import Path

from ledger.chain.errors import ChainConfigError

__all__ = ["NodePortInUseError", "embedded_port", "port_file", "port_is_free", "remember_port"]

HOST = "127.0.0.1"


class NodePortInUseError(ChainConfigError):
    """The embedded chain's port is held by another process."""

    def __init__(self, port: int, source: str) -> None:
        super().__init__(
            f"the embedded chain's port {port} ({source}) is in use by another process; "
            "stop that process, or set TONGBAN_NODE_PORT to a free port (provinces that "
            "joined this chain by URL then need the new URL)"
        )
        self.port = port


def port_file(data_dir: Path) -> Path:
    """Where the embedded chain's port is kept."""
    return data_dir / "chain" / "port"


def port_is_free(port: int, host: str = HOST) -> bool:
    """Whether a server could listen on ``host:port`` now.

    The test socket uses ``SO_REUSEADDR`` as node (libuv) and the HTTP server
    do, so connections of a node stopped a moment ago (``TIME_WAIT``) do not
    count as a holder; a listening socket does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _stored_port(data_dir: Path) -> int:
    path = port_file(data_dir)
    try:
        text = path.read_text("utf-8").strip()
    except FileNotFoundError:
        return 0
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ChainConfigError(f"{path} does not hold a port number; delete it to pick a new port")
    return int(text)


def embedded_port(data_dir: Path, requested: int = 0) -> int:
    """The port to start the embedded node on: ``requested``, else the kept one, else 0 (pick).

    Raises ``NodePortInUseError`` when that port is held by another process.
    """
    if requested:
        port, source = requested, "TONGBAN_NODE_PORT"
    else:
        port, source = _stored_port(data_dir), f"kept in {port_file(data_dir)}"
    if port and not port_is_free(port):
        raise NodePortInUseError(port, source)
    return port


def remember_port(data_dir: Path, port: int) -> None:
    """Record ``port`` as the embedded chain's port (atomically; unchanged: no write)."""
    path = port_file(data_dir)
    with contextlib.suppress(ChainConfigError):
        if _stored_port(data_dir) == port:
            return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(f"{port}\n", "utf-8")
    os.replace(partial, path)

"""Where the wallet agent listens, and how it and the ``tongban wallet`` commands talk.

The agent's directory is ``$XDG_RUNTIME_DIR/tongban`` (the per-user tmpfs the
login manager creates, mode 0700) when that variable is set, else
``<tempdir>/tongban-<uid>``. It is created mode 0700, and both sides refuse it
unless it is a real directory (no symlink) owned by the user with no access
for group or others. Each wallet has its own socket there,
``wallet-<first 32 hex of SHA-256(the wallet directory's real path)>.sock``,
mode 0600, so a wallet never reaches another wallet's agent.

One request and one answer per connection: each a 4-byte big-endian length and
a UTF-8 JSON object, binary values in base64. Each end reads the other's uid
from the kernel (``SO_PEERCRED``) and talks only to its own user.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import stat
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.client.errors import WalletError

__all__ = [
    "MAX_MESSAGE",
    "MAX_UNLOCK_SECONDS",
    "AgentProtocolError",
    "PeerCredentials",
    "agent_directory",
    "decode_bytes",
    "directory_problem",
    "encode_bytes",
    "ensure_agent_directory",
    "peer_credentials",
    "peer_is_user",
    "receive_message",
    "send_message",
    "socket_path",
    "wallet_identity",
]

MAX_MESSAGE = 64 * 1024 * 1024
"""Largest request or answer: a presentation may carry 50 credentials of up to 1 MiB."""

MAX_UNLOCK_SECONDS = 24 * 60 * 60
"""Longest unlock an agent accepts."""

_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes on Linux, with its terminating NUL
_LENGTH = struct.Struct(">I")
_UCRED = struct.Struct("3i")


class AgentProtocolError(Exception):
    """A message on the agent's socket is cut short, too large or not a JSON object."""


def agent_directory() -> Path:
    """The user's agent directory (it may not exist yet)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime):
        return Path(runtime) / "tongban"
    return Path(tempfile.gettempdir()) / f"tongban-{os.getuid()}"


def directory_problem(directory: Path) -> str | None:
    """Why ``directory`` may not hold the agent's socket, or None if it is private to the user."""
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return f"{directory} does not exist"
    except OSError as exc:
        return f"{directory} cannot be read ({exc.strerror})"
    if not stat.S_ISDIR(info.st_mode):
        return f"{directory} is not a directory"
    if info.st_uid != os.getuid():
        return f"{directory} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o077:
        return f"{directory} is open to other users (mode {stat.S_IMODE(info.st_mode):04o})"
    return None


def ensure_agent_directory() -> Path:
    """The agent directory, created mode 0700 if missing; ``WalletError`` unless it is private."""
    directory = agent_directory()
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise WalletError(
            f"cannot create the wallet agent's directory {directory}: {exc.strerror}"
        ) from None
    problem = directory_problem(directory)
    if problem is not None:
        raise WalletError(f"the wallet agent's directory is not private: {problem}; remove it")
    return directory


def wallet_identity(wallet: Path) -> str:
    """The wallet directory's real path: what names its agent."""
    return os.fspath(wallet.expanduser().resolve())


def socket_path(wallet: Path) -> Path:
    """The socket of ``wallet``'s agent in the agent directory."""
    name = hashlib.sha256(os.fsencode(wallet_identity(wallet))).hexdigest()[:32]
    path = agent_directory() / f"wallet-{name}.sock"
    if len(os.fsencode(path)) > _SOCKET_PATH_MAX:
        raise WalletError(
            f"the wallet agent's socket path {path} is too long for a Unix socket; "
            "set XDG_RUNTIME_DIR or TMPDIR to a shorter directory"
        )
    return path


@dataclass(frozen=True)
class PeerCredentials:
    """The process at the other end of a Unix socket, as the kernel recorded it."""

    pid: int
    uid: int
    gid: int


def peer_credentials(sock: socket.socket) -> PeerCredentials:
    """The peer's pid, uid and gid (``SO_PEERCRED``: set by the kernel, not by the peer).

    ``OSError`` where the kernel does not tell (``SO_PEERCRED`` is Linux's).
    """
    if not hasattr(socket, "SO_PEERCRED"):
        raise OSError("this system does not report a Unix socket peer's uid")
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    pid, uid, gid = _UCRED.unpack(raw)
    return PeerCredentials(pid, uid, gid)


def peer_is_user(sock: socket.socket, uid: int | None = None) -> bool:
    """Whether the peer runs as ``uid`` (default: this process's user)."""
    expected = os.getuid() if uid is None else uid
    try:
        return peer_credentials(sock).uid == expected
    except OSError:
        return False


def encode_bytes(data: bytes) -> str:
    """Binary data as it travels in a message (base64)."""
    return base64.b64encode(data).decode("ascii")


def decode_bytes(value: Any) -> bytes:
    """The inverse of ``encode_bytes``; ``AgentProtocolError`` if ``value`` is not base64."""
    if not isinstance(value, str):
        raise AgentProtocolError("a binary field is not a string")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise AgentProtocolError("a binary field is not base64") from None


def send_message(sock: socket.socket, document: dict[str, Any]) -> None:
    """Send one framed JSON object."""
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_MESSAGE:
        raise AgentProtocolError("message too large for the wallet agent")
    sock.sendall(_LENGTH.pack(len(data)) + data)


def _receive_exactly(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1024 * 1024))
        if not chunk:
            raise AgentProtocolError("the message was cut short")
        chunks += chunk
    return bytes(chunks)


def receive_message(sock: socket.socket) -> dict[str, Any]:
    """Receive one framed JSON object."""
    (size,) = _LENGTH.unpack(_receive_exactly(sock, _LENGTH.size))
    if size > MAX_MESSAGE:
        raise AgentProtocolError("message too large for the wallet agent")
    try:
        document = json.loads(_receive_exactly(sock, size))
    except ValueError:
        raise AgentProtocolError("the message is not JSON") from None
    if not isinstance(document, dict):
        raise AgentProtocolError("the message is not a JSON object")
    return document

"""The wallet agent: holds one unlocked wallet's keys in memory until the unlock expires.

``tongban wallet unlock`` starts ``python -m api.client.agent --wallet DIR
--seconds N`` with the passphrase on its standard input (never an argument or
a variable, which ``ps`` and ``/proc`` show). The agent unlocks the wallet (the
one scrypt run), binds its socket (``api.client.agent_socket``), answers one
line on standard output, ``ready <pid> <expiresAtMs>`` or ``error: <why>``, and
serves from a detached child until:

- the unlock expires (``N`` seconds, on the clock that counts suspend);
- ``tongban wallet lock`` (the ``lock`` request), SIGTERM, SIGHUP or SIGINT;
- its socket is removed or replaced (a later ``unlock`` of the same wallet
  binds a new agent in its place; this one exits within a second).

It then removes its socket, overwrites the storage key and exits. It hands out
neither key: it performs the four operations that need them (``seal``,
``open``, ``present``, ``sign-access-request``) for processes of its own user.
It never writes anything but its socket, and cannot dump core (``RLIMIT_CORE``
0, not dumpable: other processes of the user cannot ptrace it or read its
memory either).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import os
import re
import resource
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from api.client.agent_socket import (
    MAX_UNLOCK_SECONDS,
    AgentProtocolError,
    decode_bytes,
    encode_bytes,
    ensure_agent_directory,
    peer_is_user,
    receive_message,
    send_message,
    socket_path,
    wallet_identity,
)
from api.client.errors import SealedEntryError, WalletError
from api.client.vault import Selection, WalletKeys
from api.client.wallet import Wallet

__all__ = ["MAX_PASSPHRASE", "Agent", "harden", "main", "now", "run", "serve"]

MAX_PASSPHRASE = 64 * 1024
"""Longest passphrase read from standard input."""

_PR_SET_DUMPABLE = 4
_POLL_SECONDS = 1.0
_CONNECTION_TIMEOUT = 10.0
_DIGEST = re.compile(r"[0-9a-f]{64}", re.ASCII)


def now() -> float:
    """Seconds on the clock that keeps counting while the machine sleeps (Linux boot time)."""
    if hasattr(time, "CLOCK_BOOTTIME"):
        return time.clock_gettime(time.CLOCK_BOOTTIME)
    return time.monotonic()


class _RequestError(Exception):
    """A request the agent does not serve; the message goes back to the caller."""

    def __init__(self, message: str, code: str = "bad-request") -> None:
        super().__init__(message)
        self.code = code


def _digest(request: dict[str, Any]) -> str:
    digest = request.get("digest")
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise _RequestError("a digest is 64 lowercase hex characters")
    return digest


def _selections(request: dict[str, Any]) -> list[Selection]:
    items = request.get("credentials")
    if not isinstance(items, list):
        raise _RequestError("credentials must be a list")
    selections: list[Selection] = []
    for item in items:
        credential = item.get("credential") if isinstance(item, dict) else None
        claims = item.get("claims") if isinstance(item, dict) else None
        if not isinstance(credential, dict) or not isinstance(claims, list):
            raise _RequestError("each credential is {credential, claims}")
        if not all(isinstance(name, str) for name in claims):
            raise _RequestError("claims are names")
        selections.append((credential, claims))
    return selections


def _text(request: dict[str, Any], name: str) -> str:
    value = request.get(name)
    if not isinstance(value, str):
        raise _RequestError(f"{name} must be a string")
    return value


@dataclass
class Agent:
    """One unlocked wallet's keys and the requests they answer."""

    wallet: str
    keys: WalletKeys
    deadline: float
    expires_at_ms: int
    stopping: bool = False

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """The answer to ``request``: its result, or ``{"error", "code"}``."""
        if now() >= self.deadline:
            self.stopping = True
            return {"error": "the wallet's unlock has expired", "code": "expired"}
        operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "hello": self._hello,
            "seal": self._seal,
            "open": self._open,
            "present": self._present,
            "sign-access-request": self._sign_access_request,
            "lock": self._lock,
        }
        operation = operations.get(str(request.get("op")))
        if operation is None:
            return {"error": "unknown operation", "code": "bad-request"}
        try:
            return operation(request)
        except _RequestError as exc:
            return {"error": str(exc), "code": exc.code}
        except SealedEntryError as exc:
            return {"error": str(exc), "code": "sealed-entry"}
        except AgentProtocolError as exc:
            return {"error": str(exc), "code": "bad-request"}
        except WalletError as exc:
            return {"error": str(exc), "code": "refused"}

    def _hello(self, request: dict[str, Any]) -> dict[str, Any]:
        return {
            "wallet": self.wallet,
            "holder": self.keys.did,
            "pid": os.getpid(),
            "expiresAt": self.expires_at_ms,
        }

    def _seal(self, request: dict[str, Any]) -> dict[str, Any]:
        body = decode_bytes(request.get("body"))
        return {"sealed": encode_bytes(self.keys.seal(_digest(request), body))}

    def _open(self, request: dict[str, Any]) -> dict[str, Any]:
        sealed = decode_bytes(request.get("sealed"))
        return {"body": encode_bytes(self.keys.open(_digest(request), sealed))}

    def _present(self, request: dict[str, Any]) -> dict[str, Any]:
        # An agent of an older wallet never sends purpose: absent means unbound.
        purpose = _text(request, "purpose") if "purpose" in request else None
        presentation = self.keys.present(
            _selections(request),
            challenge=_text(request, "challenge"),
            domain=_text(request, "domain"),
            purpose=purpose,
        )
        return {"presentation": presentation}

    def _sign_access_request(self, request: dict[str, Any]) -> dict[str, Any]:
        log_id = request.get("logId")
        if not isinstance(log_id, int) or isinstance(log_id, bool):
            raise _RequestError("logId must be an integer")
        signature = self.keys.sign_access_request(log_id, _text(request, "challenge"))
        return {"signature": signature}

    def _lock(self, request: dict[str, Any]) -> dict[str, Any]:
        self.stopping = True
        return {"locked": True}


def harden() -> None:
    """No core dump, no ptrace or ``/proc/<pid>/mem`` by the user's other processes."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    os.umask(0o077)
    os.chdir("/")


def _serve_one(agent: Agent, connection: socket.socket) -> None:
    connection.settimeout(_CONNECTION_TIMEOUT)
    # The socket's directory and mode already keep other users out; the kernel's word
    # on the peer's uid is the second lock (and the only one against a root-made path).
    if not peer_is_user(connection):
        return
    try:
        request = receive_message(connection)
    except (AgentProtocolError, OSError):
        return
    with contextlib.suppress(AgentProtocolError, OSError):
        send_message(connection, agent.answer(request))


def _still_ours(path: Path, inode: int) -> bool:
    try:
        return os.lstat(path).st_ino == inode
    except OSError:
        return False


def serve(agent: Agent, listener: socket.socket, path: Path, inode: int) -> None:
    """Answer requests until the unlock expires, a ``lock`` or the socket (``inode``) is gone."""
    while not agent.stopping:
        remaining = agent.deadline - now()
        if remaining <= 0 or not _still_ours(path, inode):
            break
        listener.settimeout(min(remaining, _POLL_SECONDS))
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            _serve_one(agent, connection)


def _bind(path: Path) -> socket.socket:
    """A listening socket at ``path``, mode 0600, replacing whatever socket was there."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(os.fspath(temporary))
        os.chmod(temporary, 0o600)
        listener.listen(16)
        # A rename replaces the old socket in one step: a command never finds none.
        os.replace(temporary, path)
    except BaseException:
        listener.close()
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return listener


def _stop(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)


def _detach_standard_streams() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _report(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def run(wallet_dir: Path, seconds: int, passphrase: str) -> int:
    """Unlock, bind, report ``ready``, then serve from a detached child; the exit status."""
    harden()
    try:
        if not 1 <= seconds <= MAX_UNLOCK_SECONDS:
            raise WalletError(f"an unlock lasts 1 to {MAX_UNLOCK_SECONDS} seconds")
        wallet = Wallet.open(wallet_dir, passphrase)
        del passphrase
        path = socket_path(wallet_dir)
        ensure_agent_directory()
        deadline = now() + seconds
        expires_at_ms = int((time.time() + seconds) * 1000)
        listener = _bind(path)
        inode = os.lstat(path).st_ino
    except WalletError as exc:
        _report(f"error: {exc}")
        return 2
    except OSError as exc:
        _report(f"error: the wallet agent cannot listen: {exc.strerror}")
        return 2
    # The parent reports and exits, so the command that started it is not left with a
    # child; the serving child is in the session the command gave it, without a terminal.
    child = os.fork()
    if child:
        _report(f"ready {child} {expires_at_ms}")
        os._exit(0)
    _detach_standard_streams()
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _stop)
    agent = Agent(wallet_identity(wallet_dir), wallet.keys, deadline, expires_at_ms)
    try:
        serve(agent, listener, path, inode)
    finally:
        listener.close()
        if _still_ours(path, inode):
            with contextlib.suppress(OSError):
                path.unlink()
        agent.keys.close()
        del wallet, agent
        gc.collect()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m api.client.agent --wallet DIR --seconds N``, passphrase on stdin."""
    parser = argparse.ArgumentParser(prog="python -m api.client.agent")
    parser.add_argument("--wallet", required=True, type=Path)
    parser.add_argument("--seconds", required=True, type=int)
    args = parser.parse_args(argv)
    secret = sys.stdin.buffer.read(MAX_PASSPHRASE + 1)
    if len(secret) > MAX_PASSPHRASE or not secret:
        _report("error: the wallet agent needs the passphrase (at most 64 KiB) on stdin")
        return 2
    return run(args.wallet, args.seconds, os.fsdecode(secret))


if __name__ == "__main__":
    sys.exit(main())

"""The commands' side of the wallet agent: find it, ask it, start it, stop it.

``find_agent(wallet)`` returns ``AgentKeys`` when an agent of this user answers
for exactly that wallet directory, else None (no agent, an expired or killed
one, a directory or socket that is not private): the caller then unlocks with
the passphrase as before. ``AgentKeys`` is a ``WalletKeys`` whose four
operations run in the agent; the keys never leave it.
"""

from __future__ import annotations

import os
import select
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.client.agent_socket import (
    AgentProtocolError,
    decode_bytes,
    directory_problem,
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

__all__ = ["AgentKeys", "Unlocked", "find_agent", "lock", "start_agent"]

_HELLO_TIMEOUT = 2.0
_REQUEST_TIMEOUT = 60.0
_START_TIMEOUT = 300.0
"""Seconds to wait for a starting agent: one scrypt run (2^17) on a slow machine."""
_STOP_TIMEOUT = 5.0


class _NoAgentError(Exception):
    """Nothing of this user answers on the socket."""


def _exchange(path: Path, request: dict[str, Any], timeout: float) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(os.fspath(path))
        except OSError as exc:
            raise _NoAgentError(str(exc)) from None
        if not peer_is_user(sock):
            raise _NoAgentError("the socket's listener is another user")
        send_message(sock, request)
        return receive_message(sock)


def _private_socket(path: Path) -> bool:
    if directory_problem(path.parent) is not None:
        return False
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISSOCK(info.st_mode) and info.st_uid == os.getuid()


def _nobody_listens(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_HELLO_TIMEOUT)
        try:
            sock.connect(os.fspath(path))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


class AgentKeys(WalletKeys):
    """The keys of a wallet unlocked in its agent, used over the agent's socket."""

    def __init__(self, path: Path, did: str, pid: int, expires_at_ms: int) -> None:
        """Use ``find_agent``."""
        self.path = path
        self.pid = pid
        self.expires_at_ms = expires_at_ms
        self._did = did

    def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            answer = _exchange(self.path, request, _REQUEST_TIMEOUT)
        except (_NoAgentError, AgentProtocolError, OSError):
            raise WalletError(
                "the wallet agent stopped answering (the unlock may have just expired); "
                "run the command again"
            ) from None
        error = answer.get("error")
        if error is None:
            return answer
        if answer.get("code") == "sealed-entry":
            raise SealedEntryError(str(error))
        if answer.get("code") == "expired":
            raise WalletError("the wallet's unlock expired; run the command again")
        raise WalletError(str(error))

    @property
    def did(self) -> str:
        """The holder's ``did:key``, as the agent reported it."""
        return self._did

    def seal(self, digest: str, body: bytes) -> bytes:
        """``body`` sealed by the agent."""
        answer = self._ask({"op": "seal", "digest": digest, "body": encode_bytes(body)})
        return self._bytes(answer, "sealed")

    def open(self, digest: str, sealed: bytes) -> bytes:
        """The entry opened by the agent (``SealedEntryError`` if it does not open)."""
        answer = self._ask({"op": "open", "digest": digest, "sealed": encode_bytes(sealed)})
        return self._bytes(answer, "body")

    def present(
        self,
        selections: Sequence[Selection],
        *,
        challenge: str,
        domain: str,
        purpose: str | None = None,
    ) -> dict[str, Any]:
        """A presentation signed by the agent."""
        items = [
            {"credential": dict(credential), "claims": list(claims)}
            for credential, claims in selections
        ]
        request: dict[str, Any] = {
            "op": "present",
            "credentials": items,
            "challenge": challenge,
            "domain": domain,
        }
        if purpose is not None:
            request["purpose"] = purpose
        answer = self._ask(request)
        presentation = answer.get("presentation")
        if not isinstance(presentation, dict):
            raise WalletError("the wallet agent answered with no presentation")
        return presentation

    def sign_access_request(self, log_id: int, challenge: str) -> str:
        """The access request's signature, made by the agent."""
        answer = self._ask({"op": "sign-access-request", "logId": log_id, "challenge": challenge})
        signature = answer.get("signature")
        if not isinstance(signature, str):
            raise WalletError("the wallet agent answered with no signature")
        return signature

    @staticmethod
    def _bytes(answer: dict[str, Any], name: str) -> bytes:
        try:
            return decode_bytes(answer.get(name))
        except AgentProtocolError:
            raise WalletError("the wallet agent's answer is malformed") from None


def find_agent(wallet: Path) -> AgentKeys | None:
    """The keys of ``wallet``'s agent if one of this user answers for that directory."""
    try:
        path = socket_path(wallet)
    except WalletError:  # too long a path for a socket: no agent can be there
        return None
    if not _private_socket(path):
        return None
    try:
        hello = _exchange(path, {"op": "hello"}, _HELLO_TIMEOUT)
    except (_NoAgentError, AgentProtocolError, OSError):
        return None
    did, pid, expires = hello.get("holder"), hello.get("pid"), hello.get("expiresAt")
    if hello.get("wallet") != wallet_identity(wallet) or not isinstance(did, str):
        return None
    if not isinstance(pid, int) or not isinstance(expires, int):
        return None
    return AgentKeys(path, did, pid, expires)


@dataclass(frozen=True)
class Unlocked:
    """A started agent: its process and when its unlock ends (ms since the epoch)."""

    pid: int
    expires_at_ms: int


def _agent_environment() -> dict[str, str]:
    # The agent has the passphrase on stdin only; no copy stays in its /proc environ.
    return {k: v for k, v in os.environ.items() if k != "TONGBAN_WALLET_PASSPHRASE"}


def start_agent(wallet: Path, passphrase: str, seconds: int) -> Unlocked:
    """Start ``wallet``'s agent, unlocked for ``seconds``; it replaces a running one.

    The passphrase goes to the agent on a pipe; ``WalletError`` with the agent's own
    reason (a wrong passphrase, say) if it does not start.
    """
    if not hasattr(socket, "SO_PEERCRED"):
        raise WalletError(
            "the wallet agent needs Linux (SO_PEERCRED); use TONGBAN_WALLET_PASSPHRASE instead"
        )
    socket_path(wallet)  # a path too long for a socket fails here, before any work
    ensure_agent_directory()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "api.client.agent",
            "--wallet",
            wallet_identity(wallet),
            "--seconds",
            str(seconds),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=_agent_environment(),
        cwd="/",
        start_new_session=True,
        close_fds=True,
    )
    stdin, stdout = process.stdin, process.stdout
    if stdin is None or stdout is None:  # never: both are pipes
        raise WalletError("the wallet agent did not start")
    try:
        stdin.write(os.fsencode(passphrase))
        stdin.close()
        ready, _, _ = select.select([stdout], [], [], _START_TIMEOUT)
        line = stdout.readline(4096).decode("utf-8", "replace").strip() if ready else ""
        process.wait(timeout=_STOP_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        line = ""
    finally:
        stdout.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    if line.startswith("error: "):
        raise WalletError(line.removeprefix("error: "))
    parts = line.split()
    if len(parts) != 3 or parts[0] != "ready" or not all(p.isdigit() for p in parts[1:]):
        raise WalletError("the wallet agent did not start")
    return Unlocked(int(parts[1]), int(parts[2]))


def lock(wallet: Path) -> int | None:
    """Stop ``wallet``'s agent; its pid, or None if none was running.

    A socket left by an agent that was killed is removed.
    """
    path = socket_path(wallet)
    agent = find_agent(wallet)
    if agent is None:
        if _private_socket(path) and _nobody_listens(path):
            path.unlink(missing_ok=True)
        return None
    try:
        _exchange(path, {"op": "lock"}, _HELLO_TIMEOUT)
    except (_NoAgentError, AgentProtocolError, OSError):
        return None
    deadline = time.monotonic() + _STOP_TIMEOUT
    while time.monotonic() < deadline and os.path.lexists(path):
        time.sleep(0.02)
    return agent.pid

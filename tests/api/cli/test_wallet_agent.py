"""``tongban wallet unlock``/``lock`` and the wallet agent, with real processes.

Each test gets its own short agent directory (``XDG_RUNTIME_DIR``: a socket
path has at most 107 bytes) and stops every agent it started. Wallets are
made in process with the cheap test KDF; everything else runs as ``tongban``
processes, the agent as the detached process ``wallet unlock`` starts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from api.cli.wallet import parse_duration
from api.client.agent_client import find_agent
from api.client.agent_socket import peer_credentials, peer_is_user, socket_path
from api.client.errors import WalletError
from api.client.wallet import Wallet
from credentials.anchor_proof import AnchorProof
from credentials.credential import IssueRequest, credential_digest, issue_credential
from credentials.credential import with_anchor_proof as attach
from credentials.did import issuer_verification_method
from credentials.verify.offline import holder_proof
from credentials.verify.outcome import Passed
from ledger.audit.citizen_request import request_payload
from ledger.crypto.keystore import Keystore
from ledger.crypto.signer import LocalSigner, verify_payload
from ledger.crypto.sm3 import hmac_sm3
from ledger.merkle.hasher import SM3_TREE
from ledger.merkle.tree import MemoryTree
from tests.helpers.contracts import ZJ
from tests.helpers.credentials import DEGREE_CLAIMS, ZJ_KEY
from tests.helpers.processes import TONGBAN, process_gone, tongban_env
from tests.helpers.provinces import FAST

CHAIN_ID = 31337
PASSPHRASE = "correct horse battery staple"
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
LOCKED = "error: the wallet is locked: set TONGBAN_WALLET_PASSPHRASE or run `tongban wallet unlock`"


def _anchored_credential(holder: str, name: str = "张三") -> dict[str, Any]:
    """A credential issued to ``holder`` by Zhejiang (scalar 1) with an anchor proof."""
    signer = LocalSigner(issuer_verification_method(CHAIN_ID, ZJ, "key-1"), ZJ_KEY)
    request = IssueRequest("degree-certificate", holder, {**DEGREE_CLAIMS, "holderName": name})
    credential = issue_credential(
        request, signer, chain_id=CHAIN_ID, issuer_id=ZJ, now_ms=1_780_000_000_000
    ).document
    tree = MemoryTree(SM3_TREE)
    tree.append_data(credential_digest(credential))
    proof = AnchorProof(
        chain_id=CHAIN_ID,
        contract=CONTRACT,
        issuer_id=ZJ,
        root=tree.root(),
        leaf_index=0,
        tree_size=1,
        audit_path=(),
        block_number=42,
    )
    return attach(credential, proof.to_json())


def _agent_pid_alive(pid: int) -> bool:
    try:
        return b"api.client.agent" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _stop_agent(pid: int) -> None:
    # Checked first: a pid that exited long ago may belong to another process by now.
    if _agent_pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        if not process_gone(pid, 5) and _agent_pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            process_gone(pid, 5)


@dataclass
class Session:
    """A user's shell: an agent directory of its own and the agents it started."""

    root: Path
    runtime: Path
    agents: list[int] = field(default_factory=list)

    def env(self, *, passphrase: bool, **extra: str) -> dict[str, str]:
        settings = {"XDG_RUNTIME_DIR": str(self.runtime), **extra}
        if passphrase:
            settings["TONGBAN_WALLET_PASSPHRASE"] = PASSPHRASE
        return tongban_env(**settings)

    def run(
        self, *args: str, wallet: Path, passphrase: bool = False, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TONGBAN, "wallet", *args, "--wallet", str(wallet)],
            capture_output=True,
            text=True,
            env=self.env(passphrase=passphrase, **extra),
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def json(
        self, *args: str, wallet: Path, passphrase: bool = False, **extra: str
    ) -> dict[str, Any]:
        result = self.run(*args, "--json", wallet=wallet, passphrase=passphrase, **extra)
        assert result.returncode == 0, result.stderr
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    def unlock(self, wallet: Path, *args: str, **extra: str) -> dict[str, Any]:
        answer = self.json("unlock", *args, wallet=wallet, passphrase=True, **extra)
        self.agents.append(int(answer["agentPid"]))
        return answer

    def wallet(self, name: str = "wallet") -> Wallet:
        return Wallet.create(self.root / name, PASSPHRASE, kdf=FAST)

    def socket(self, wallet: Path) -> Path:
        return socket_path(wallet)


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    runtime = Path(tempfile.mkdtemp(prefix="tb-", dir="/tmp"))
    os.chmod(runtime, 0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))  # for the in-process checks too
    started = Session(tmp_path, runtime)
    try:
        yield started
    finally:
        for pid in started.agents:
            _stop_agent(pid)
        shutil.rmtree(runtime, ignore_errors=True)


def _locked(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(LOCKED), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_unlocked_commands_need_no_passphrase_and_agree_with_the_passphrase(
    session: Session,
) -> None:
    wallet = session.wallet()
    credential = _anchored_credential(wallet.did)
    digest = credential_digest(credential).hex()
    document = session.root / "credential.json"
    document.write_text(json.dumps(credential, ensure_ascii=False), encoding="utf-8")
    _locked(session.run("did", wallet=wallet.directory))

    unlocked = session.unlock(wallet.directory, "--for", "5m")
    assert unlocked["holder"] == wallet.did
    assert unlocked["unlockedSeconds"] == 300
    assert unlocked["expiresAt"].endswith("Z")

    assert session.json("did", wallet=wallet.directory) == {"holder": wallet.did}
    received = session.json("receive", str(document), wallet=wallet.directory)
    assert (received["digest"], received["state"]) == (digest, "stored")
    listed = session.json("list", wallet=wallet.directory)
    assert [c["digest"] for c in listed["credentials"]] == [digest]
    presented = session.run(
        "present",
        digest[:12],
        "--claims",
        "degreeLevel",
        "--challenge",
        "challenge-1",
        "--domain",
        "did:tongban:31337:2",
        wallet=wallet.directory,
    )
    assert presented.returncode == 0, presented.stderr
    presentation = json.loads(presented.stdout)
    assert presentation["holder"] == wallet.did
    assert isinstance(holder_proof(presentation), Passed)  # signed by the agent's key
    assert "张三" not in presented.stdout
    written = session.root / "presentation.json"
    where = session.json(
        "present",
        digest,
        "--challenge",
        "c",
        "--domain",
        "d",
        "--out",
        str(written),
        wallet=wallet.directory,
    )
    assert where == {"file": str(written), "domain": "d", "holder": wallet.did}
    assert isinstance(holder_proof(json.loads(written.read_text("utf-8"))), Passed)

    # What the agent sealed opens with the passphrase, and the other way round.
    opened = Wallet.open(wallet.directory, PASSPHRASE)
    assert opened.get(digest).anchored
    second = _anchored_credential(wallet.did, name="李四")
    opened.receive(second)
    assert len(session.json("list", wallet=wallet.directory)["credentials"]) == 2

    # The access-history request is signed by the agent with the holder key.
    keys = find_agent(wallet.directory)
    assert keys is not None
    assert keys.pid == unlocked["agentPid"]
    signature = bytes.fromhex(keys.sign_access_request(7, "a-challenge"))
    public_key = Keystore(wallet.directory / "keys").public_key("holder")
    verify_payload(public_key, request_payload(7, wallet.did, "a-challenge"), signature)


def test_the_agent_socket_and_directory_are_private_and_the_agent_cannot_dump(
    session: Session,
) -> None:
    wallet = session.wallet()
    pid = session.unlock(wallet.directory)["agentPid"]
    directory = session.runtime / "tongban"
    path = session.socket(wallet.directory)
    assert path.parent == directory
    info = directory.lstat()
    assert stat.S_ISDIR(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_uid == os.getuid()
    info = path.lstat()
    assert stat.S_ISSOCK(info.st_mode)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert info.st_uid == os.getuid()
    assert [p.name for p in directory.iterdir()] == [path.name]

    limits = Path(f"/proc/{pid}/limits").read_text()
    core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    assert core.split()[4:6] == ["0", "0"]
    # The passphrase reached the agent on a pipe: not in its arguments or environment.
    assert PASSPHRASE.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    assert PASSPHRASE.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
    assert b"TONGBAN_WALLET_PASSPHRASE" not in Path(f"/proc/{pid}/environ").read_bytes()


def test_no_decrypted_key_is_ever_written_to_disk(session: Session) -> None:
    wallet = session.wallet()
    scalar = Keystore(wallet.directory / "keys").load("holder", PASSPHRASE).to_bytes()
    storage = hmac_sm3(scalar, b"tongban-wallet/v1/storage")[:16]
    document = session.root / "credential.json"
    credential = _anchored_credential(wallet.did)
    document.write_text(json.dumps(credential), encoding="utf-8")

    session.unlock(wallet.directory)
    for args in (
        ("did",),
        ("receive", str(document)),
        ("list", "--show-claims"),
        ("present", credential_digest(credential).hex(), "--challenge", "c", "--domain", "d"),
        ("lock",),
    ):
        assert session.run(*args, wallet=wallet.directory).returncode == 0
    session.unlock(wallet.directory)  # and one agent still running while we look

    secrets = [
        scalar,
        scalar.hex().encode(),
        scalar.hex().upper().encode(),
        base64.b64encode(scalar),
        str(int.from_bytes(scalar, "big")).encode(),
        storage,
        storage.hex().encode(),
        base64.b64encode(storage),
    ]
    scanned = 0
    for root in (session.root, session.runtime):
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                scanned += 1
                for secret in secrets:
                    assert secret not in data, f"key material in {path}"
    assert scanned >= 4  # wallet.json, the keystore, the sealed credential, the document


def test_an_unlock_expires_then_the_passphrase_is_needed_again(session: Session) -> None:
    wallet = session.wallet()
    pid = session.unlock(wallet.directory, "--for", "2s")["agentPid"]
    assert session.json("did", wallet=wallet.directory) == {"holder": wallet.did}
    assert process_gone(pid, 15), "the agent outlived its unlock"
    assert not session.socket(wallet.directory).exists()
    _locked(session.run("did", wallet=wallet.directory))
    fallback = session.json("did", wallet=wallet.directory, passphrase=True)
    assert fallback == {"holder": wallet.did}


def test_the_unlock_time_comes_from_the_environment_variable(session: Session) -> None:
    wallet = session.wallet()
    unlocked = session.unlock(wallet.directory, TONGBAN_WALLET_UNLOCK_SECONDS="2")
    assert unlocked["unlockedSeconds"] == 2
    assert process_gone(unlocked["agentPid"], 15)
    wrong = session.run(
        "unlock", wallet=wallet.directory, passphrase=True, TONGBAN_WALLET_UNLOCK_SECONDS="2m"
    )
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: TONGBAN_WALLET_UNLOCK_SECONDS must be")
    too_long = session.run("unlock", "--for", "25h", wallet=wallet.directory, passphrase=True)
    assert too_long.returncode == 2
    assert too_long.stderr.startswith("error: --for takes a duration")


def test_durations() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("90s") == 90
    assert parse_duration("15m") == 900
    assert parse_duration("1h30m") == 5400
    assert parse_duration("24h") == 86400
    for wrong in ("", "0", "m", "1d", "-5", "25h", "1.5h", "15 m"):
        with pytest.raises(WalletError, match="--for takes a duration"):
            parse_duration(wrong)


def test_lock_ends_the_agent(session: Session) -> None:
    wallet = session.wallet()
    pid = session.unlock(wallet.directory)["agentPid"]
    locked = session.json("lock", wallet=wallet.directory)
    assert locked == {
        "wallet": str(wallet.directory),
        "locked": True,
        "agentPid": pid,
        "wasUnlocked": True,
    }
    assert process_gone(pid, 10)
    assert not session.socket(wallet.directory).exists()
    _locked(session.run("did", wallet=wallet.directory))
    again = session.run("lock", wallet=wallet.directory)
    assert (again.returncode, again.stdout) == (0, f"wallet {wallet.directory} was not unlocked\n")


def test_unlocking_again_replaces_the_agent(session: Session) -> None:
    wallet = session.wallet()
    first = session.unlock(wallet.directory, "--for", "10m")["agentPid"]
    second = session.unlock(wallet.directory, "--for", "10m")["agentPid"]
    assert first != second
    assert process_gone(first, 10), "the replaced agent kept running"
    assert session.json("did", wallet=wallet.directory) == {"holder": wallet.did}
    wrong = session.run("unlock", wallet=wallet.directory, TONGBAN_WALLET_PASSPHRASE="wrong")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("error: cannot unlock the wallet: wrong passphrase")
    assert _agent_pid_alive(second)  # a failed unlock leaves the running one alone


def test_a_killed_agent_falls_back_to_the_passphrase(session: Session) -> None:
    wallet = session.wallet()
    pid = session.unlock(wallet.directory)["agentPid"]
    os.kill(pid, signal.SIGKILL)
    assert process_gone(pid, 10)
    stale = session.socket(wallet.directory)
    assert stale.exists()  # SIGKILL left the socket behind
    _locked(session.run("did", wallet=wallet.directory))
    assert session.json("did", wallet=wallet.directory, passphrase=True) == {"holder": wallet.did}
    session.unlock(wallet.directory)
    assert session.json("did", wallet=wallet.directory) == {"holder": wallet.did}
    session.json("lock", wallet=wallet.directory)

    pid = session.unlock(wallet.directory)["agentPid"]
    os.kill(pid, signal.SIGKILL)
    assert process_gone(pid, 10)
    assert session.json("lock", wallet=wallet.directory)["wasUnlocked"] is False
    assert not stale.exists()  # lock removes what a killed agent left


def test_a_wallet_never_uses_another_wallets_agent(session: Session) -> None:
    first, second = session.wallet("first"), session.wallet("second")
    session.unlock(first.directory)
    _locked(session.run("did", wallet=second.directory))
    answer = session.json("did", wallet=second.directory, passphrase=True)
    assert answer == {"holder": second.did}

    # Even an agent socket moved to the other wallet's name is not believed: the agent
    # answers for its own directory only.
    os.rename(session.socket(first.directory), session.socket(second.directory))
    _locked(session.run("did", wallet=second.directory))


def test_a_wallet_created_anew_does_not_use_the_old_wallets_agent(session: Session) -> None:
    old = session.wallet()
    pid = session.unlock(old.directory)["agentPid"]
    shutil.rmtree(old.directory)
    new = session.run("create", "--json", wallet=old.directory, passphrase=True)
    assert new.returncode == 0, new.stderr
    assert process_gone(pid, 10), "the old wallet's agent survived a new wallet in its place"
    created = json.loads(new.stdout)["holder"]
    assert created != old.did
    assert session.json("did", wallet=old.directory, passphrase=True) == {"holder": created}


def test_a_directory_open_to_others_is_refused(session: Session) -> None:
    wallet = session.wallet()
    directory = session.runtime / "tongban"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)
    refused = session.run("unlock", wallet=wallet.directory, passphrase=True)
    assert refused.returncode == 2
    assert "error: the wallet agent's directory is not private" in refused.stderr
    assert "mode 0755" in refused.stderr
    assert list(directory.iterdir()) == []


def test_the_peer_uid_check() -> None:
    left, right = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with left, right:
        peer = peer_credentials(left)
        assert (peer.pid, peer.uid, peer.gid) == (os.getpid(), os.getuid(), os.getgid())
        assert peer_is_user(left)
        assert not peer_is_user(left, uid=os.getuid() + 1)


@pytest.mark.skipif(os.getuid() != 0, reason="needs root to run a process as another user")
def test_another_user_is_refused(session: Session, tmp_path: Path) -> None:
    nobody = 65534
    wallet = session.wallet()
    session.unlock(wallet.directory)
    path = session.socket(wallet.directory)
    ask = (
        "import os, socket, struct, sys\n"
        f"os.setgid({nobody}); os.setuid({nobody})\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "except PermissionError:\n"
        "    print('no access'); sys.exit(0)\n"
        'request = b\'{"op":"hello"}\'\n'
        "try:\n"
        "    s.sendall(struct.pack('>I', len(request)) + request)\n"
        "    print('answered' if s.recv(4) else 'refused')\n"
        "except (ConnectionResetError, BrokenPipeError):\n"
        "    print('refused')\n"
    )

    def as_nobody() -> str:
        result = subprocess.run(
            [sys.executable, "-c", ask, str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    # The directory (0700) keeps another user from reaching the socket at all ...
    assert as_nobody() == "no access"
    # ... and were it open, the agent reads the caller's uid from the kernel and says nothing.
    session.runtime.chmod(0o755)
    path.parent.chmod(0o755)
    path.chmod(0o666)
    assert as_nobody() == "refused"
    path.parent.chmod(0o700)
    assert session.json("did", wallet=wallet.directory)["holder"] == wallet.did


# -- what a wallet command imports ---------------------------------------------------------

SERVICE_MODULES = ("fastapi", "uvicorn", "web3", "credentials.issuance")
"""What ``tongban wallet ...`` must never import: the service's stack and the issuer's."""

MODULES_SCRIPT = """
import atexit, json, sys
listing = sys.argv[1]
atexit.register(lambda: json.dump(sorted(sys.modules), open(listing, "w")))
sys.argv = ["tongban", *sys.argv[2:]]
from api.cli.main import main
main()
"""


def _imported(session: Session, *args: str, passphrase: bool = False) -> set[str]:
    """The modules a real ``tongban ARGS`` process had imported when it exited."""
    listing = session.root / "modules.json"
    result = subprocess.run(
        [sys.executable, "-c", MODULES_SCRIPT, str(listing), *args],
        capture_output=True,
        text=True,
        env=session.env(passphrase=passphrase),
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(listing.read_text()))


def _service_modules(modules: set[str], names: tuple[str, ...] = SERVICE_MODULES) -> list[str]:
    return sorted(m for m in modules for n in names if m == n or m.startswith(n + "."))


def test_unlocked_wallet_commands_import_nothing_of_the_service(session: Session) -> None:
    wallet = session.wallet()
    credential = _anchored_credential(wallet.did)
    wallet.receive(credential)
    digest = credential_digest(credential).hex()
    session.unlock(wallet.directory)
    where = ("--wallet", str(wallet.directory))
    for args in (
        ("wallet", "did", *where),
        ("wallet", "list", *where),
        ("wallet", "present", digest, "--challenge", "c", "--domain", "d", *where),
        ("wallet", "--help"),
    ):
        modules = _imported(session, *args)
        assert "api.cli.wallet" in modules or args[-1] == "--help"
        assert _service_modules(modules) == [], args


def test_wallet_commands_with_the_passphrase_import_no_service_stack(session: Session) -> None:
    wallet = session.wallet()
    where = ("--wallet", str(wallet.directory))
    for args in (("wallet", "did", *where), ("wallet", "list", *where)):
        modules = _imported(session, *args, passphrase=True)
        assert _service_modules(modules, ("fastapi", "uvicorn", "credentials.issuance")) == []


def test_wallet_commands_with_the_passphrase_do_not_import_web3(session: Session) -> None:
    wallet = session.wallet()
    modules = _imported(
        session, "wallet", "did", "--wallet", str(wallet.directory), passphrase=True
    )
    assert _service_modules(modules, ("web3",)) == []

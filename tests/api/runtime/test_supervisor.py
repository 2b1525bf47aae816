"""`tongban serve` and `tongban chain` as real processes: start, restart, crash, bad input."""

from __future__ import annotations

import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.runtime.demo import second_province_command
from api.runtime.settings import Settings
from ledger.chain.node.processes import NodeProcess
from ledger.datadir import DataDirLock
from tests.helpers.fake_node import fake_besu
from tests.helpers.processes import TONGBAN, process_gone, tongban_env


class Service:
    """A `tongban serve --json` process and the description it printed."""

    def __init__(self, data_dir: Path, **settings: str) -> None:
        self.process = subprocess.Popen(
            [TONGBAN, "serve", "--json", "--data-dir", str(data_dir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=tongban_env(**settings),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            _, errors = self.process.communicate(timeout=10)
            raise AssertionError(f"serve exited early: {errors}")
        self.description: dict[str, Any] = json.loads(line)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Service]:
    service = Service(tmp_path / "data")
    yield service
    service.stop()


def _run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(**settings), timeout=60
    )


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.slow
def test_serve_starts_the_embedded_chain_and_deploys(running: Service, tmp_path: Path) -> None:
    description = running.description
    assert description["chain"] == "embedded"
    assert description["chainId"] == 33044
    assert description["rpcUrl"].startswith("http://127.0.0.1:")
    assert set(description["contracts"]) == {"IssuerRegistry", "CredentialAnchor", "AuditAnchor"}
    status = _run("chain", "status", "--json", "--data-dir", str(tmp_path / "data"))
    assert status.returncode == 0, status.stderr
    reported = json.loads(status.stdout)
    assert reported["chainId"] == 33044
    assert all(c["hasCode"] for c in reported["contracts"].values())
    assert "Ganache" in reported["clientVersion"]


@pytest.mark.slow
def test_a_second_service_on_the_same_data_dir_is_refused(running: Service, tmp_path: Path) -> None:
    # A second `make run` beside the first: the directory is the conflict to name, not the port.
    port = running.description["apiUrl"].rsplit(":", 1)[1]
    line = _one_error_line(
        _run("serve", "--data-dir", str(tmp_path / "data"), TONGBAN_HTTP_PORT=port)
    )
    assert "in use by another tongban process" in line
    assert "TONGBAN_DATA_DIR" in line


@pytest.mark.slow
def test_sigterm_stops_the_service_and_its_node(running: Service) -> None:
    node_pid = running.description["nodePid"]
    assert running.stop() == 0
    assert process_gone(node_pid)


@pytest.mark.slow
def test_kill_9_leaves_no_orphan_and_a_restart_resumes_the_chain(tmp_path: Path) -> None:
    first = Service(tmp_path / "data")
    node_pid = first.description["nodePid"]
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    assert process_gone(node_pid), "the embedded node outlived the killed service"

    second = Service(tmp_path / "data")
    try:
        assert second.description["contracts"] == first.description["contracts"]
        assert second.description["operatorAccount"] == first.description["operatorAccount"]
        assert second.description["blockNumber"] >= first.description["blockNumber"]
        assert second.description["rpcUrl"] == first.description["rpcUrl"]  # the kept port
    finally:
        assert second.stop() == 0


def test_unknown_setting_is_one_error_line(tmp_path: Path) -> None:
    line = _one_error_line(_run("serve", "--data-dir", str(tmp_path), TONGBAN_BLOK_TIME="1"))
    assert "TONGBAN_BLOK_TIME" in line


def test_unreachable_rpc_url_is_one_error_line(tmp_path: Path) -> None:
    line = _one_error_line(
        _run(
            "serve",
            "--data-dir",
            str(tmp_path),
            "--chain",
            "http://127.0.0.1:9",
            TONGBAN_EVM_KEY_PASSPHRASE="not-the-demo",
            TONGBAN_KEY_PASSPHRASE="not-the-demo-either",
            TONGBAN_RPC_TIMEOUT="2",
        )
    )
    assert "unreachable" in line
    assert "TONGBAN_CHAIN" in line


def test_wrong_chain_id_is_one_error_line(anvil_node: NodeProcess, tmp_path: Path) -> None:
    line = _one_error_line(
        _run(
            "serve",
            "--data-dir",
            str(tmp_path),
            "--chain",
            anvil_node.url,
            "--chain-id",
            "4242",
            TONGBAN_EVM_KEY_PASSPHRASE="not-the-demo",
            TONGBAN_KEY_PASSPHRASE="not-the-demo-either",
        )
    )
    assert "chain id mismatch" in line
    assert "TONGBAN_CHAIN_ID" in line


def test_demo_passphrase_is_refused_on_a_real_chain(tmp_path: Path) -> None:
    with fake_besu(1337) as url:
        args = ["serve", "--data-dir", str(tmp_path), "--chain", url, "--chain-id", "1337"]
        line = _one_error_line(_run(*args))
    assert "TONGBAN_EVM_KEY_PASSPHRASE" in line
    assert not (tmp_path / "keys").exists()  # refused before any key was made


def test_missing_node_binary_is_one_error_line(tmp_path: Path) -> None:
    line = _one_error_line(
        _run("serve", "--data-dir", str(tmp_path / "d"), TONGBAN_NODE_MODULES=str(tmp_path))
    )
    assert "ganache is not installed" in line
    assert "npm ci" in line
    with DataDirLock(tmp_path / "d"):  # the failed start released the data directory
        pass


def test_chain_status_without_a_running_service_says_how_to_start_one(tmp_path: Path) -> None:
    line = _one_error_line(_run("chain", "status", "--data-dir", str(tmp_path)))
    assert "tongban serve" in line


@pytest.mark.slow
def test_chain_deploy_against_an_existing_node_records_the_contracts(
    anvil_node: NodeProcess, tmp_path: Path
) -> None:
    args = ["chain", "deploy", "--json", "--data-dir", str(tmp_path), "--chain", anvil_node.url]
    args += ["--chain-id", str(anvil_node.chain_id)]
    first = _run(*args, TONGBAN_EVM_KEY_PASSPHRASE="operator-secret")
    assert first.returncode == 0, first.stderr
    deployed = json.loads(first.stdout)["contracts"]
    again = _run(*args, TONGBAN_EVM_KEY_PASSPHRASE="operator-secret")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["contracts"] == deployed
    wrong = _run(*args, TONGBAN_EVM_KEY_PASSPHRASE="wrong")
    assert "cannot decrypt" in _one_error_line(wrong)


def test_demo_key_passphrase_is_refused_on_a_real_chain(tmp_path: Path) -> None:
    with fake_besu(1337) as url:
        args = ["serve", "--data-dir", str(tmp_path), "--chain", url, "--chain-id", "1337"]
        line = _one_error_line(_run(*args, TONGBAN_EVM_KEY_PASSPHRASE="not-the-demo"))
    assert "TONGBAN_KEY_PASSPHRASE" in line


def test_demo_passphrases_are_accepted_on_a_local_development_node(
    anvil_node: NodeProcess, tmp_path: Path
) -> None:
    # The demo's second province joins the first one's ganache by URL with demo keys.
    args = ["chain", "deploy", "--json", "--data-dir", str(tmp_path), "--chain", anvil_node.url]
    result = _run(*args, "--chain-id", str(anvil_node.chain_id))
    assert result.returncode == 0, result.stderr


def test_demo_seeding_is_refused_on_a_real_chain(anvil_node: NodeProcess, tmp_path: Path) -> None:
    line = _one_error_line(
        _run(
            "serve",
            "--data-dir",
            str(tmp_path),
            "--chain",
            anvil_node.url,
            TONGBAN_DEMO="1",
            TONGBAN_EVM_KEY_PASSPHRASE="not-the-demo",
            TONGBAN_KEY_PASSPHRASE="not-the-demo-either",
        )
    )
    assert "TONGBAN_DEMO" in line


def _workers_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == pid and b"api.runtime.worker" in command:
            found.add(int(entry.name))
    return found


@pytest.mark.slow
def test_a_killed_http_worker_is_replaced_and_the_api_keeps_answering(running: Service) -> None:
    url = running.description["apiUrl"]
    host, port = url.removeprefix("http://").split(":")
    workers = _workers_of(running.process.pid)
    assert len(workers) == running.description["workers"] == 2
    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while True:
        current = _workers_of(running.process.pid)
        if len(current) == 2 and victim not in current:
            break
        assert time.monotonic() < deadline, f"no replacement worker: {current}"
        time.sleep(0.2)
    for _ in range(10):  # both workers accept on the one socket
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
        connection.close()
    assert running.stop() == 0
    assert not _workers_of(running.process.pid)


def _listening() -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    return server


def test_a_busy_http_port_is_one_error_line_before_anything_starts(tmp_path: Path) -> None:
    with _listening() as holder:
        port = holder.getsockname()[1]
        result = _run("serve", "--data-dir", str(tmp_path), TONGBAN_HTTP_PORT=str(port))
    line = _one_error_line(result)
    assert f"127.0.0.1:{port}" in line
    assert "TONGBAN_HTTP_PORT" in line
    assert not (tmp_path / "deployment.json").exists()  # nothing was deployed
    assert not (tmp_path / "chain").exists()  # no chain was started
    assert not (tmp_path / "keys").exists()


def test_a_kept_chain_port_taken_by_another_process_is_one_error_line(tmp_path: Path) -> None:
    with _listening() as holder:
        port = holder.getsockname()[1]
        (tmp_path / "chain").mkdir()
        (tmp_path / "chain" / "port").write_text(f"{port}\n")
        line = _one_error_line(_run("serve", "--data-dir", str(tmp_path)))
    assert f"port {port}" in line
    assert "TONGBAN_NODE_PORT" in line
    assert not (tmp_path / "deployment.json").exists()
    assert not (tmp_path / "keys").exists()
    with DataDirLock(tmp_path):  # the failed start released the data directory
        pass


def test_the_second_province_command_runs_as_printed_from_where_the_first_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repository = Path(TONGBAN).parents[2]
    settings = Settings(data_dir=Path("data"), demo=True)
    url = "http://127.0.0.1:47003"
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(repository)
    assert second_province_command(settings, url) == (
        ".venv/bin/tongban serve --config data/demo/440000/tongban.toml "
        "--chain http://127.0.0.1:47003"
    )
    monkeypatch.chdir(tmp_path)
    spaced = Settings(data_dir=tmp_path / "my data", demo=True)
    printed = shlex.split(second_province_command(spaced, url))
    assert printed == [
        TONGBAN, "serve", "--config", str(tmp_path / "my data/demo/440000/tongban.toml"),
        "--chain", url,
    ]  # fmt: skip
    monkeypatch.setenv("PATH", f"{Path(TONGBAN).parent}:/usr/bin:/bin")
    assert second_province_command(settings, url).startswith("tongban serve --config data/")

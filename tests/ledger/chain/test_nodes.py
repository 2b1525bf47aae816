"""Real local nodes: crash safety of the embedded ganache, lifetimes, failures."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import deploy
from ledger.chain.errors import (
    ChainConfigError,
    ChainIdMismatchError,
    ChainUnavailableError,
    NodeBinaryMissingError,
    NodeStartError,
)
from ledger.chain.node.accounts import create_account
from ledger.chain.node.client import ChainClient
from ledger.chain.node.connection import EMBEDDED, ChainConfig, open_chain
from ledger.chain.node.ports import NodePortInUseError, embedded_port, port_file, remember_port
from ledger.chain.node.processes import NodeProcess, start_anvil, start_ganache
from ledger.chain.node.transactions import NonceManager
from tests.helpers.processes import process_gone

GANACHE_CHAIN_ID = 33044


@pytest.mark.slow
def test_ganache_killed_with_sigkill_comes_back_with_every_receipted_transaction(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ganache"
    node = start_ganache(db, GANACHE_CHAIN_ID, block_time=1)
    try:
        client = ChainClient(node.url, GANACHE_CHAIN_ID)
        account = create_account()
        client.set_balance(account.address, 10**24)
        sender = NonceManager(client, account)
        probe = deploy(sender, load_artifact("ChainProbe"), account.address)
        sent = [
            sender.send(probe.address, probe.encode("record", i), gas=120_000) for i in range(30)
        ]
        receipts = sender.wait_all([s.tx_hash for s in sent])
        head = client.block_number()
    finally:
        node.kill()  # SIGKILL: no chance to flush anything
    assert process_gone(node.pid)

    restarted = start_ganache(db, GANACHE_CHAIN_ID, block_time=1)
    try:
        client = ChainClient(restarted.url, GANACHE_CHAIN_ID)
        assert client.block_number() >= head
        for receipt in receipts:
            again = client.receipt(receipt["transactionHash"])
            assert again is not None
            assert again["blockHash"] == receipt["blockHash"]
        reopened = type(probe)(client, probe.artifact, probe.address)
        assert reopened.call("count") == 30
        # The chain goes on from where it was: the same account can keep sending.
        sender = NonceManager(client, account)
        assert sender.next_nonce == 31
        reopened.transact(sender, "record", 1)
        assert reopened.call("count") == 31
    finally:
        restarted.stop()


def test_a_node_dies_with_the_process_that_started_it_even_on_sigkill(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from ledger.chain.node.processes import start_anvil, start_ganache
        nodes = [start_anvil(31337), start_ganache(Path(sys.argv[1]), 33044, block_time=0)]
        print(" ".join(str(n.pid) for n in nodes), flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "db")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2
        assert not process_gone(pids[0], 0.2)
        assert not process_gone(pids[1], 0.2)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    for pid in pids:
        assert process_gone(pid), f"node {pid} outlived its killed parent"


def test_a_node_that_dies_mid_session_gives_a_clear_error_fast() -> None:
    node = start_anvil(31337)
    client = ChainClient(node.url, 31337, timeout=2)
    assert client.block_number() == 0
    node.kill()
    started = time.monotonic()
    with pytest.raises(ChainUnavailableError, match="unreachable"):
        client.block_number()
    assert time.monotonic() - started < 2


def test_a_node_that_hangs_mid_call_times_out_with_a_clear_error() -> None:
    node = start_anvil(31337)
    try:
        client = ChainClient(node.url, 31337, timeout=1)
        os.kill(node.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(ChainUnavailableError, match="did not answer"):
            client.block_number()
        assert time.monotonic() - started < 5
    finally:
        os.kill(node.pid, signal.SIGCONT)
        node.stop()


def test_wrong_chain_id_is_refused_at_connect(anvil_node: NodeProcess) -> None:
    with pytest.raises(ChainIdMismatchError) as caught:
        ChainClient(anvil_node.url, 1)
    assert caught.value.actual == anvil_node.chain_id
    assert "TONGBAN_CHAIN_ID" in str(caught.value)


def test_missing_node_binary_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(NodeBinaryMissingError, match="npm ci"):
        start_ganache(tmp_path / "db", GANACHE_CHAIN_ID, node_modules=tmp_path)
    with pytest.raises(NodeBinaryMissingError, match="npm ci"):
        start_anvil(31337, node_modules=tmp_path)


def test_open_chain_rejects_an_unknown_chain_kind(tmp_path: Path) -> None:
    with pytest.raises(ChainConfigError, match="TONGBAN_CHAIN"):
        open_chain(ChainConfig("ftp://example", 1, tmp_path))


def test_open_chain_over_http_reaches_an_existing_node(
    anvil_node: NodeProcess, tmp_path: Path
) -> None:
    with open_chain(ChainConfig(anvil_node.url, anvil_node.chain_id, tmp_path)) as chain:
        assert chain.node is None
        assert chain.client.chain_id_served() == anvil_node.chain_id


def test_a_node_that_loses_its_port_to_another_is_not_mistaken_for_it(
    anvil_node: NodeProcess,
) -> None:
    port = int(anvil_node.url.rsplit(":", 1)[1])
    # The other anvil answers on that port with the same chain id; ours must not
    # be reported as started just because something answered.
    with pytest.raises(NodeStartError):
        start_anvil(anvil_node.chain_id, port=port)
    assert anvil_node.alive()


def _listening(port: int = 0) -> socket.socket:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", port))
    server.listen(1)
    return server


def test_the_embedded_port_is_the_requested_one_else_the_kept_one_else_a_free_pick(
    tmp_path: Path,
) -> None:
    assert embedded_port(tmp_path) == 0  # first start: the node picks
    remember_port(tmp_path, 47003)
    assert port_file(tmp_path).read_text() == "47003\n"
    assert embedded_port(tmp_path) == 47003
    assert embedded_port(tmp_path, 47004) == 47004  # TONGBAN_NODE_PORT wins
    port_file(tmp_path).write_text("not a port")
    with pytest.raises(ChainConfigError, match="delete it"):
        embedded_port(tmp_path)


def test_a_kept_port_held_by_another_process_is_refused_naming_it_and_the_setting(
    tmp_path: Path,
) -> None:
    with _listening() as holder:
        port = holder.getsockname()[1]
        remember_port(tmp_path, port)
        with pytest.raises(NodePortInUseError) as kept:
            open_chain(ChainConfig(EMBEDDED, GANACHE_CHAIN_ID, tmp_path))
        with pytest.raises(NodePortInUseError) as requested:
            embedded_port(tmp_path / "other", port)
    message = str(kept.value)
    assert f"port {port} (kept in {port_file(tmp_path)})" in message
    assert "TONGBAN_NODE_PORT" in message
    assert "\n" not in message
    assert f"port {port} (TONGBAN_NODE_PORT)" in str(requested.value)
    assert not (tmp_path / "chain" / "ganache").exists()  # refused before starting a node


@pytest.mark.slow
def test_the_embedded_chain_comes_back_on_the_port_it_had(tmp_path: Path) -> None:
    config = ChainConfig(EMBEDDED, GANACHE_CHAIN_ID, tmp_path, block_time=0)
    with open_chain(config) as first:
        url = first.client.url
        assert first.node is not None
        head = first.client.block_number()
    assert port_file(tmp_path).read_text().strip() == url.rsplit(":", 1)[1]
    with open_chain(config) as again:
        assert again.client.url == url
        assert again.client.block_number() >= head

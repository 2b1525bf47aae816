"""The chain client against a node that answers like Besu (QBFT, free gas), issue #15.

Besu cannot run here (no Java distribution from the allowed registries, no
Docker), so ``tests/helpers/besu_node.py`` puts a proxy in front of a real
anvil that rewrites every answer where Besu differs, from recorded Besu
responses (``tests/vectors/besu-rpc``). One anvil serves the module; each test
uses fresh, unfunded accounts (the network has free gas).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import BoundContract, deploy
from ledger.chain.contracts.consortium import bind_consortium, deploy_consortium
from ledger.chain.errors import ChainError, ChainIdMismatchError, ContractRevertError
from ledger.chain.node.accounts import create_account, keystore_address
from ledger.chain.node.blocks import NewBlocks
from ledger.chain.node.client import ChainClient
from ledger.chain.node.reverts import revert_from_rpc_error
from ledger.chain.node.transactions import NonceManager
from tests.helpers.besu_node import (
    BESU_VERSION,
    QBFT_HEADER,
    VALIDATORS,
    BesuBehaviour,
    BesuProxy,
    FreeGasAnvil,
    besu_proxy,
    decode_qbft_extra_data,
    encode_qbft_extra_data,
    recorded,
    start_free_gas_anvil,
)
from tests.helpers.processes import TONGBAN, tongban_env

CHAIN_ID = 1337
# Methods that would need keys held by the node: the service must never use them.
NODE_KEY_METHODS = {"eth_sendTransaction", "eth_accounts", "eth_sign", "eth_signTransaction"}


@pytest.fixture(scope="module")
def anvil() -> Iterator[FreeGasAnvil]:
    """One free-gas anvil for the module."""
    node = start_free_gas_anvil(CHAIN_ID)
    yield node
    node.stop()


@pytest.fixture(scope="module")
def besu(anvil: FreeGasAnvil) -> Iterator[BesuProxy]:
    """The Besu stand-in with Besu's default settings."""
    with besu_proxy(anvil.url) as proxy:
        yield proxy


@pytest.fixture
def client(besu: BesuProxy) -> ChainClient:
    """Tongban's chain client connected to the Besu stand-in."""
    return ChainClient(besu.url, CHAIN_ID)


@pytest.fixture
def new_sender(client: ChainClient) -> Callable[[], NonceManager]:
    """Factory of fresh accounts with no balance at all, each with its own NonceManager."""
    return lambda: NonceManager(client, create_account())


def _raw(url: str, method: str, *params: object) -> dict[str, object]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}
    answer: dict[str, object] = requests.post(url, json=body, timeout=10).json()
    return answer


# -- connecting -------------------------------------------------------------------------


def test_connect_checks_chain_id_and_sees_a_production_node(besu: BesuProxy) -> None:
    client = ChainClient(besu.url, CHAIN_ID)
    assert client.rpc("web3_clientVersion") == BESU_VERSION
    assert not client.is_dev_node()  # so demo passphrases are refused (api/runtime/chain_start)
    with pytest.raises(ChainIdMismatchError):
        ChainClient(besu.url, CHAIN_ID + 1)


def test_funding_is_refused_before_asking_besu_for_dev_methods(
    client: ChainClient, besu: BesuProxy
) -> None:
    mark = besu.mark()
    with pytest.raises(ChainError, match="development node"):
        client.set_balance(create_account().address, 1)
    assert not [m for m in besu.methods_since(mark) if m.startswith(("anvil_", "evm_"))]


def test_node_key_methods_answer_as_besu_does(client: ChainClient) -> None:
    assert client.rpc("eth_accounts") == []
    with pytest.raises(ChainError, match="Use eth_sendRawTransaction"):
        client.rpc("eth_sendTransaction", {"from": VALIDATORS[0], "to": VALIDATORS[1]})
    with pytest.raises(ChainError, match="Method not found"):
        client.rpc("anvil_setBalance", VALIDATORS[0], "0x1")
    with pytest.raises(ChainError, match="Method not enabled"):
        client.rpc("clique_getSigners", "latest")


@pytest.mark.slow
def test_tongban_chain_deploy_against_besu_needs_no_ether_and_no_node_keys(
    besu: BesuProxy, client: ChainClient, tmp_path: Path
) -> None:
    mark = besu.mark()
    args = ["chain", "deploy", "--json", "--data-dir", str(tmp_path), "--chain", besu.url]
    result = subprocess.run(
        [TONGBAN, *args, "--chain-id", str(CHAIN_ID)],
        capture_output=True,
        text=True,
        env=tongban_env(TONGBAN_EVM_KEY_PASSPHRASE="operator-secret"),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    contracts = json.loads(result.stdout)["contracts"]
    assert contracts
    assert all(client.code(c["address"]) for c in contracts.values())
    operator = keystore_address(tmp_path / "keys" / "evm-operator.json")
    assert operator is not None
    assert client.balance(operator) == 0  # never funded, never charged
    methods = besu.methods_since(mark)
    assert "eth_sendRawTransaction" in methods
    assert not NODE_KEY_METHODS & set(methods)
    assert not [m for m in methods if m.startswith(("anvil_", "evm_"))]


# -- free gas, local signing, nonces ----------------------------------------------------


def test_consortium_deploys_from_an_unfunded_account_with_locally_signed_zero_fee_transactions(
    client: ChainClient, besu: BesuProxy
) -> None:
    deployer = NonceManager(client, create_account())
    governors = [create_account().address for _ in range(3)]
    mark = besu.mark()
    addresses = deploy_consortium(deployer, governors, 2)
    methods = besu.methods_since(mark)
    consortium = bind_consortium(client, addresses)
    assert client.code(consortium.registry.contract.address)
    assert client.balance(deployer.address) == 0  # nothing was ever paid
    assert "eth_sendRawTransaction" in methods
    assert not NODE_KEY_METHODS & set(methods)
    first = client.transaction(deployer.journal.entries()[0].tx_hash)
    assert first is not None
    # EIP-1559 with a zero cap: Besu with min-gas-price=0 and zeroBaseFee accepts it.
    assert first["type"] == "0x2"
    assert int(first["maxFeePerGas"], 16) == 0


def test_fee_fields_are_zero_on_a_zero_base_fee_chain(client: ChainClient) -> None:
    assert client.get_block("latest")["baseFeePerGas"] == "0x0"
    assert client.fee_fields() == {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0}


def test_a_suggested_tip_on_free_gas_is_refused_clearly_for_an_unfunded_account(
    anvil: FreeGasAnvil,
) -> None:
    # Besu suggests the tips of recent blocks: one participant that tips makes the
    # suggestion non-zero, and an account without ether cannot pay it.
    with besu_proxy(anvil.url, BesuBehaviour(min_priority_fee=1)) as proxy:
        sender = NonceManager(ChainClient(proxy.url, CHAIN_ID), create_account())
        with pytest.raises(ChainError, match="Upfront cost exceeds account balance"):
            deploy(sender, load_artifact("ChainProbe"), sender.address)


def test_next_nonce_counts_transactions_still_in_the_pool(
    client: ChainClient, anvil: FreeGasAnvil, new_sender: Callable[[], NonceManager]
) -> None:
    sender = new_sender()
    probe = deploy(sender, load_artifact("ChainProbe"), sender.address)
    base = client.nonce(sender.address, "latest")
    anvil.rpc("evm_setAutomine", False)
    try:
        sent = [
            sender.send(probe.address, probe.encode("record", n), gas=200_000) for n in (1, 2, 3)
        ]
        assert client.nonce(sender.address, "latest") == base
        assert client.nonce(sender.address, "pending") == base + 3
        # A restarted service derives its next nonce from "pending": no reuse.
        again = NonceManager(client, sender.account)
        assert again.next_nonce == base + 3
        anvil.rpc("evm_mine")
    finally:
        anvil.rpc("evm_setAutomine", True)
    receipts = sender.wait_all([s.tx_hash for s in sent], timeout=30)
    assert [int(r["status"], 16) for r in receipts] == [1, 1, 1]
    assert probe.call("count") == 3


def test_rebroadcast_of_a_pooled_transaction_is_known_not_a_failure(
    client: ChainClient, anvil: FreeGasAnvil, new_sender: Callable[[], NonceManager]
) -> None:
    sender = new_sender()
    probe = deploy(sender, load_artifact("ChainProbe"), sender.address)
    anvil.rpc("evm_setAutomine", False)
    try:
        sent = sender.send(probe.address, probe.encode("record", 5), gas=200_000)
        entry = sender.journal.entries()[-1]
        with pytest.raises(ChainError, match="Known transaction"):
            client.send_raw(entry.raw)  # Besu's words for it
        sender.rebroadcast(entry)  # ...which the sender treats as already sent
        anvil.rpc("evm_mine")
    finally:
        anvil.rpc("evm_setAutomine", True)
    assert int(sender.wait(sent.tx_hash)["status"], 16) == 1
    with pytest.raises(ChainError, match="Nonce too low"):
        client.send_raw(entry.raw)


# -- reverts in Besu's encoding ---------------------------------------------------------


@pytest.fixture
def probe(new_sender: Callable[[], NonceManager]) -> tuple[NonceManager, BoundContract]:
    """A deployed ChainProbe and its owner."""
    owner = new_sender()
    return owner, deploy(owner, load_artifact("ChainProbe"), owner.address)


def test_estimate_revert_arrives_as_besu_execution_reverted_with_data(
    besu: BesuProxy, probe: tuple[NonceManager, BoundContract]
) -> None:
    owner, contract = probe
    request = {"from": owner.address, "to": contract.address}
    request["data"] = "0x" + contract.encode("record", 2_000_000).hex()
    answer = _raw(besu.url, "eth_estimateGas", request)
    error = answer["error"]
    assert isinstance(error, dict)
    assert error["code"] == -32000
    assert error["message"] == "Execution reverted"
    assert str(error["data"]).startswith("0x")


def test_custom_error_is_named_through_the_besu_encoding(
    probe: tuple[NonceManager, BoundContract], new_sender: Callable[[], NonceManager]
) -> None:
    owner, contract = probe
    nonce = owner.next_nonce
    with pytest.raises(ContractRevertError) as caught:
        contract.transact(owner, "record", 2_000_000)
    assert caught.value.error_name == "ChainProbeValueTooLarge"
    assert caught.value.error_args == (2_000_000, 1_000_000)
    assert owner.next_nonce == nonce  # refused at estimation: no nonce consumed
    stranger = new_sender()
    with pytest.raises(ContractRevertError) as denied:
        contract.transact(stranger, "record", 1)
    assert denied.value.error_name == "AccessControlUnauthorizedAccount"
    with pytest.raises(ContractRevertError) as called:
        contract.client.call(
            contract.address, contract.encode("record", 2_000_000), sender=owner.address
        )
    assert called.value.error_name == "ChainProbeValueTooLarge"


def test_recorded_besu_revert_responses_decode_to_error_string() -> None:
    documented = revert_from_rpc_error(recorded("revert_error")["error"])
    assert documented is not None
    assert documented.error_name == "Error"
    assert documented.error_args == ("Not enough Ether provided.",)
    with_reason = revert_from_rpc_error(recorded("revert_error_with_reason")["error"])
    assert with_reason is not None
    assert with_reason.error_args == ("ERC20: transfer amount exceeds balance",)


def test_revert_without_data_is_still_a_revert(
    anvil: FreeGasAnvil, probe: tuple[NonceManager, BoundContract]
) -> None:
    owner, contract = probe
    old_besu = BesuBehaviour(revert_data_in_errors=False)
    with besu_proxy(anvil.url, old_besu) as proxy:
        sender = NonceManager(ChainClient(proxy.url, CHAIN_ID), owner.account)
        nonce = sender.next_nonce
        with pytest.raises(ContractRevertError) as caught:
            sender.send(contract.address, contract.encode("record", 2_000_000))
    assert caught.value.error_name == ""  # unnamed: that Besu does not say which error
    assert sender.next_nonce == nonce


def test_mined_revert_is_named_from_the_receipt_revert_reason(
    anvil: FreeGasAnvil, probe: tuple[NonceManager, BoundContract]
) -> None:
    owner, contract = probe
    enabled = BesuBehaviour(revert_reason_in_receipts=True)
    with besu_proxy(anvil.url, enabled) as proxy:
        sender = NonceManager(ChainClient(proxy.url, CHAIN_ID), owner.account)
        # An explicit gas limit skips estimation, so the revert happens on chain.
        sent = sender.send(contract.address, contract.encode("record", 5_000_000), gas=200_000)
        mark = proxy.mark()
        with pytest.raises(ContractRevertError) as caught:
            sender.wait(sent.tx_hash)
        after = proxy.methods_since(mark)
    assert caught.value.error_name == "ChainProbeValueTooLarge"
    assert "eth_call" not in after  # read from the receipt, not replayed


# -- blocks, QBFT, logs -----------------------------------------------------------------


def test_block_headers_carry_qbft_extra_data_and_parse(client: ChainClient) -> None:
    header = client.get_block("latest")
    extra = decode_qbft_extra_data(bytes.fromhex(header["extraData"][2:]))
    assert extra.validators == VALIDATORS
    assert len(extra.seals) == 3
    assert header["mixHash"] == QBFT_HEADER["mixHash"]
    assert header["difficulty"] == "0x1"
    assert header["miner"] in VALIDATORS
    # web3's own block reading (ExtraDataToPOAMiddleware) accepts the long extraData.
    block = client.w3.eth.get_block("latest")
    assert bytes(block["proofOfAuthorityData"]) == bytes.fromhex(header["extraData"][2:])
    assert client.rpc("qbft_getValidatorsByBlockNumber", "latest") == list(extra.validators)


def test_new_blocks_are_seen_through_besu_filters(
    client: ChainClient, new_sender: Callable[[], NonceManager]
) -> None:
    watch = NewBlocks(client)
    assert watch.arrived()
    assert not watch.arrived()
    sender = new_sender()
    deploy(sender, load_artifact("ChainProbe"), sender.address)
    assert watch.arrived()
    assert watch.filters


def test_logs_over_a_wider_range_than_besu_serves_are_read_in_parts(
    anvil: FreeGasAnvil, probe: tuple[NonceManager, BoundContract]
) -> None:
    owner, contract = probe
    for value in (1, 2, 3, 4, 5):
        contract.transact(owner, "record", value)
    with besu_proxy(anvil.url, BesuBehaviour(max_logs_range=2)) as proxy:
        client = ChainClient(proxy.url, CHAIN_ID)
        wide = {"address": contract.address, "fromBlock": "0x0", "toBlock": "latest"}
        refused = _raw(proxy.url, "eth_getLogs", wide)["error"]
        assert refused == recorded("logs_range_exceeded")["error"]
        bound = BoundContract(client, contract.artifact, contract.address)
        recorded_values = [e.args["value"] for e in bound.events(0) if e.name == "ValueRecorded"]
    assert recorded_values == [1, 2, 3, 4, 5]


# -- the QBFT extraData codec of the helper ---------------------------------------------


def test_extra_data_encoding_matches_besu_codec_vector() -> None:
    vector = bytes.fromhex(str(recorded("qbft_extra_data_codec")["hex"])[2:])
    one, two = "0x" + "00" * 19 + "01", "0x" + "00" * 19 + "02"

    def seal(r: int, s: int) -> bytes:
        return r.to_bytes(32, "big") + s.to_bytes(32, "big") + b"\x00"

    encoded = encode_qbft_extra_data(
        [one, two],
        round_number=0xFEDCBA,
        seals=[seal(1, 10), seal(10, 1)],
        vote=(one, True),
        vanity=bytes(range(1, 33)),
    )
    assert encoded == vector
    decoded = decode_qbft_extra_data(vector)
    assert decoded.vote == (one, True)
    assert decoded.round_number == 0xFEDCBA
    # Round zero is the empty scalar, not four zero bytes (IBFT 2.0's genesis form).
    assert encode_qbft_extra_data([one]).hex().endswith("c080c0")

"""Reverts become one ContractRevertError, whichever node reports them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.contracts.binding import deploy
from ledger.chain.errors import ContractRevertError
from ledger.chain.node.reverts import decode_revert_data, revert_from_rpc_error
from ledger.chain.node.transactions import NonceManager


def test_custom_error_from_estimate_is_named(new_sender: Callable[[], NonceManager]) -> None:
    sender = new_sender()
    probe = deploy(sender, load_artifact("ChainProbe"), sender.address)
    with pytest.raises(ContractRevertError) as caught:
        probe.transact(sender, "record", 2_000_000)
    assert caught.value.error_name == "ChainProbeValueTooLarge"
    assert caught.value.error_args == (2_000_000, 1_000_000)


def test_access_control_error_is_named(new_sender: Callable[[], NonceManager]) -> None:
    owner, stranger = new_sender(), new_sender()
    probe = deploy(owner, load_artifact("ChainProbe"), owner.address)
    with pytest.raises(ContractRevertError) as caught:
        probe.transact(stranger, "record", 1)
    assert caught.value.error_name == "AccessControlUnauthorizedAccount"
    assert caught.value.error_args[0].lower() == stranger.address.lower()


def test_mined_revert_is_decoded_from_the_receipt(new_sender: Callable[[], NonceManager]) -> None:
    sender = new_sender()
    probe = deploy(sender, load_artifact("ChainProbe"), sender.address)
    # An explicit gas limit skips estimation, so the revert happens on chain.
    sent = sender.send(probe.address, probe.encode("record", 5_000_000), gas=200_000)
    with pytest.raises(ContractRevertError) as caught:
        sender.wait(sent.tx_hash)
    assert caught.value.error_name == "ChainProbeValueTooLarge"
    assert probe.call("count") == 0


def test_error_string_and_panic_and_unknown_selectors() -> None:
    error_string = bytes.fromhex(
        "08c379a0"
        "0000000000000000000000000000000000000000000000000000000000000020"
        "0000000000000000000000000000000000000000000000000000000000000003"
        "6e6f700000000000000000000000000000000000000000000000000000000000"
    )
    assert decode_revert_data(error_string).error_args == ("nop",)
    panic = bytes.fromhex("4e487b71" + "11".rjust(64, "0"))
    assert decode_revert_data(panic).error_name == "Panic"
    assert decode_revert_data(panic).error_args == (0x11,)
    assert decode_revert_data(bytes.fromhex("deadbeef")).error_name == "unknown error 0xdeadbeef"
    assert decode_revert_data(bytes.fromhex("08c379a0ff")).error_name.startswith("malformed")
    assert decode_revert_data(b"").error_name == ""


def test_rpc_error_shapes_of_anvil_and_ganache_agree() -> None:
    data = "0x" + "4e487b71" + "01".rjust(64, "0")
    anvil_style = {"code": 3, "message": "execution reverted", "data": data}
    ganache_style = {
        "code": -32000,
        "message": "VM Exception while processing transaction: revert",
        "data": {"hash": None, "programCounter": 7, "result": data, "reason": None},
    }
    a, g = revert_from_rpc_error(anvil_style), revert_from_rpc_error(ganache_style)
    assert a is not None
    assert g is not None
    assert (a.error_name, a.error_args) == (g.error_name, g.error_args) == ("Panic", (1,))
    assert revert_from_rpc_error({"code": -32000, "message": "nonce too low"}) is None

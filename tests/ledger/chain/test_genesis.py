"""Besu QBFT genesis: extraData against Besu's documented genesis; ``tongban chain genesis``.

The known-good genesis is the QBFT example of Besu's documentation, copied
with its provenance into tests/vectors/besu/. Its extraData is decoded, then
encoded again from its validators by our code and compared byte for byte.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import rlp  # type: ignore[import-untyped]

from ledger.chain.genesis import (
    BFT_MIX_HASH,
    GenesisError,
    QbftParameters,
    check_address,
    decode_qbft_extra_data,
    enode_id,
    node_address,
    qbft_extra_data,
    qbft_genesis,
)
from tests.helpers.processes import TONGBAN, tongban_env

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "besu"
BESU = Path(__file__).resolve().parents[3] / "hardhat-free-docker" / "besu"
DOCS_GENESIS = json.loads((VECTORS / "qbft-genesis-docs.json").read_text("utf-8"))

A = "0x64A702E6263b7297a96638cAc6aE65e6541F4169"
B = "0x3923390AD55E90C237593B3B0E401f3b08a03185"


def _docs_extra_data() -> bytes:
    return bytes.fromhex(DOCS_GENESIS["extraData"][2:])


def test_the_documented_qbft_extra_data_decodes_to_vanity_four_validators_no_vote_round_0() -> None:
    decoded = decode_qbft_extra_data(_docs_extra_data())
    assert decoded.vanity == bytes(32)
    assert len(decoded.validators) == 4
    assert decoded.validators[0].lower() == "0x64a702e6263b7297a96638cac6ae65e6541f4169"
    assert decoded.vote == ()
    assert decoded.round == 0
    assert decoded.seals == ()


def test_extra_data_from_the_documented_validators_equals_besus_bytes() -> None:
    validators = decode_qbft_extra_data(_docs_extra_data()).validators
    assert qbft_extra_data(validators) == _docs_extra_data()


def test_extra_data_round_trips_through_rlp() -> None:
    encoded = qbft_extra_data([A, B])
    assert rlp.encode(rlp.decode(encoded)) == encoded
    assert decode_qbft_extra_data(encoded).validators == (A, B)


def test_the_genesis_lists_validators_in_ascending_order_as_besu_blocks_must() -> None:
    documented = decode_qbft_extra_data(_docs_extra_data()).validators
    genesis = qbft_genesis(QbftParameters(chain_id=1337, validators=documented))
    listed = decode_qbft_extra_data(bytes.fromhex(genesis["extraData"][2:])).validators
    assert [v.lower() for v in listed] == sorted(v.lower() for v in documented)
    assert listed != documented  # the documented order is not ascending


def test_the_genesis_has_shanghai_at_time_0_the_chain_id_and_qbft_settings() -> None:
    genesis = qbft_genesis(
        QbftParameters(chain_id=33045, validators=(A, B), block_period=3, gas_limit=50_000_000)
    )
    config = genesis["config"]
    assert config["shanghaiTime"] == 0
    assert config["chainId"] == 33045
    assert config["zeroBaseFee"] is True
    assert config["qbft"] == {
        "blockperiodseconds": 3,
        "epochlength": 30000,
        "requesttimeoutseconds": 10,
    }
    assert genesis["gasLimit"] == hex(50_000_000)
    # The fields Besu requires of a BFT genesis, as in its documented example.
    assert genesis["mixHash"] == DOCS_GENESIS["mixHash"] == BFT_MIX_HASH
    assert genesis["difficulty"] == DOCS_GENESIS["difficulty"]
    assert genesis["coinbase"] == DOCS_GENESIS["coinbase"]


def test_alloc_balances_are_hex_wei_by_lowercase_address() -> None:
    genesis = qbft_genesis(QbftParameters(chain_id=5, validators=(A,), alloc={B: 10**18}))
    assert genesis["alloc"] == {B[2:].lower(): {"balance": hex(10**18)}}


@pytest.mark.parametrize(
    ("validators", "message"),
    [
        ((), "at least one validator"),
        ((A, A.lower()), "listed twice"),
        (("0x1234",), "40 hex digits"),
        ((A[:-1] + "8",), "checksum"),
    ],
)
def test_bad_validators_are_refused_with_a_reason(
    validators: tuple[str, ...], message: str
) -> None:
    with pytest.raises(GenesisError, match=message):
        qbft_genesis(QbftParameters(chain_id=1, validators=validators))


def test_lowercase_and_checksummed_addresses_are_both_accepted() -> None:
    assert check_address(A.lower()) == A
    assert check_address(A) == A


@pytest.mark.parametrize("chain_id", [0, -1])
def test_a_chain_id_below_1_is_refused(chain_id: int) -> None:
    with pytest.raises(GenesisError, match="chain id"):
        qbft_genesis(QbftParameters(chain_id=chain_id, validators=(A,)))


def test_garbage_extra_data_is_refused() -> None:
    with pytest.raises(GenesisError):
        decode_qbft_extra_data(b"\x01\x02")
    with pytest.raises(GenesisError):
        decode_qbft_extra_data(rlp.encode([b"x", [], [], 0, []]))


# ---- the committed besu profile: demo-only keys and the genesis made from them ----


def _demo_validators() -> list[str]:
    keys = sorted((BESU / "keys").glob("*/key"))
    assert len(keys) == 4
    return [node_address(bytes.fromhex(k.read_text().strip()[2:])) for k in keys]


def test_the_committed_besu_genesis_is_what_tongban_chain_genesis_makes_from_the_demo_keys(
    tmp_path: Path,
) -> None:
    out = tmp_path / "genesis.json"
    args = ["chain", "genesis", "--chain-id", "33045", "--block-period", "2", "--out", str(out)]
    for address in _demo_validators():
        args += ["--validator", address]
    result = subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(), timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == (BESU / "genesis.json").read_bytes()


def test_the_nodes_allowlist_names_every_demo_validator_by_its_key() -> None:
    import tomllib

    document = tomllib.loads((BESU / "permissions_config.toml").read_text("utf-8"))
    enodes = {url.split("@")[0].removeprefix("enode://") for url in document["nodes-allowlist"]}
    keys = sorted((BESU / "keys").glob("*/key"))
    assert enodes == {enode_id(bytes.fromhex(k.read_text().strip()[2:])) for k in keys}
    assert document["accounts-allowlist"] == []


# ---- the command line ----


def _tongban(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args],
        capture_output=True,
        text=True,
        env=tongban_env(),
        cwd=cwd,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_chain_genesis_json_prints_camel_case_and_the_genesis(tmp_path: Path) -> None:
    result = _tongban(
        "chain", "genesis", "--validator", A, "--validator", B.lower(), "--chain-id", "7",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    document = json.loads(line)
    assert set(document) == {"chainId", "validators", "extraData", "out", "genesis"}
    assert document["chainId"] == 7
    assert document["validators"] == [B, A]  # ascending
    assert document["genesis"]["extraData"] == document["extraData"]
    assert document["out"] is None


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--validator", A[:-1] + "8", "--chain-id", "7"], "wrong EIP-55 checksum"),
        (["--validator", "0xabc", "--chain-id", "7"], "40 hex digits"),
        (["--validator", A, "--chain-id", "7", "--alloc", "bogus"], "--alloc takes ADDRESS=WEI"),
        (["--validator", A, "--chain-id", "0"], "chain id must be"),
        (["--chain-id", "7"], "missing option --validator"),
    ],
)
def test_chain_genesis_bad_input_is_one_error_line_and_exit_status_2(
    args: list[str], expected: str, tmp_path: Path
) -> None:
    result = _tongban("chain", "genesis", *args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert expected in lines[0]


def test_chain_genesis_out_to_a_missing_directory_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "genesis.json"
    result = _tongban(
        "chain", "genesis", "--validator", A, "--chain-id", "7", "--out", str(missing),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: cannot write {missing}: No such file or directory"
    ]

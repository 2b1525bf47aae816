"""Hyperledger Besu QBFT genesis files, as pure functions.

A QBFT network's first block names its validators in the header's
``extraData``: the RLP list ``[vanity, validators, vote, round, seals]`` where
``vanity`` is 32 zero bytes, ``validators`` the 20-byte addresses, ``vote`` an
empty list (no vote), ``round`` the integer 0 (RLP ``0x80``) and ``seals`` an
empty list (Besu's ``QbftExtraDataCodec.encodeFromAddresses``).

``qbft_extra_data`` keeps the order it is given, as Besu's own encoder does.
``qbft_genesis`` sorts the validators ascending first: Besu refuses a later
block whose validators are not in ascending order
(``BftValidatorsValidationRule``), so the genesis lists them the way every
block after it will.

The genesis turns on Shanghai from block 0 (``shanghaiTime: 0``) because the
contracts are compiled for it (PUSH0), and sets ``zeroBaseFee``: a
permissioned network where provinces send transactions from fresh accounts
without a balance (Besu runs with ``--min-gas-price=0``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import rlp  # type: ignore[import-untyped]  # rlp 5 ships no type information
from eth_utils.address import to_checksum_address

from ledger.chain.errors import ChainConfigError

__all__ = [
    "BFT_MIX_HASH",
    "DEFAULT_BLOCK_PERIOD",
    "DEFAULT_EPOCH_LENGTH",
    "DEFAULT_GAS_LIMIT",
    "DEFAULT_REQUEST_TIMEOUT",
    "GenesisError",
    "QbftExtraData",
    "QbftParameters",
    "check_address",
    "decode_qbft_extra_data",
    "enode_id",
    "node_address",
    "qbft_extra_data",
    "qbft_genesis",
]

VANITY_LENGTH = 32
BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"
"""The mixHash Besu requires of a BFT genesis (ASCII "ctical byzantine fault tolerance")."""
DEFAULT_BLOCK_PERIOD = 2
DEFAULT_EPOCH_LENGTH = 30_000
DEFAULT_REQUEST_TIMEOUT = 10
DEFAULT_GAS_LIMIT = 30_000_000
MAX_GAS_LIMIT = 2**63 - 1
MAX_VALIDATORS = 256

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


class GenesisError(ChainConfigError):
    """A genesis parameter is invalid; the message names it, never a secret."""


@dataclass(frozen=True)
class QbftExtraData:
    """The decoded fields of a QBFT ``extraData``."""

    vanity: bytes
    validators: tuple[str, ...]
    """Checksummed addresses, in the order encoded."""
    vote: tuple[Any, ...]
    round: int
    seals: tuple[bytes, ...]


@dataclass(frozen=True)
class QbftParameters:
    """What ``qbft_genesis`` needs; the defaults suit a small consortium."""

    chain_id: int
    validators: tuple[str, ...]
    block_period: int = DEFAULT_BLOCK_PERIOD
    epoch_length: int = DEFAULT_EPOCH_LENGTH
    request_timeout: int = DEFAULT_REQUEST_TIMEOUT
    gas_limit: int = DEFAULT_GAS_LIMIT
    alloc: Mapping[str, int] | None = None
    """Initial balances in wei by address (empty on a free-gas network)."""


def check_address(text: str, what: str = "address") -> str:
    """``text`` as a checksummed address, or ``GenesisError``.

    Accepted: all lowercase, all uppercase hex, or the EIP-55 checksum; a
    mixed-case address with a wrong checksum is a typo, refused.
    """
    if not isinstance(text, str) or not _ADDRESS.match(text):
        raise GenesisError(f"{what} must be 0x followed by 40 hex digits")
    digits = text[2:]
    checksummed = to_checksum_address(text)
    if digits not in (digits.lower(), digits.upper()) and checksummed != text:
        raise GenesisError(f"{what} has a wrong EIP-55 checksum (mixed case)")
    return checksummed


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(address[2:])


def qbft_extra_data(validators: Sequence[str]) -> bytes:
    """The genesis ``extraData`` naming ``validators``, in the order given."""
    if not validators:
        raise GenesisError("a QBFT genesis needs at least one validator")
    if len(validators) > MAX_VALIDATORS:
        raise GenesisError(f"at most {MAX_VALIDATORS} validators")
    checked = [check_address(v, "validator") for v in validators]
    if len({c.lower() for c in checked}) != len(checked):
        raise GenesisError("a validator is listed twice")
    encoded: bytes = rlp.encode(
        [bytes(VANITY_LENGTH), [_address_bytes(c) for c in checked], [], 0, []]
    )
    return encoded


def decode_qbft_extra_data(data: bytes) -> QbftExtraData:
    """The fields of a QBFT ``extraData``, or ``GenesisError`` if it is not one."""
    try:
        items = rlp.decode(data, strict=True)
    except rlp.DecodingError:
        raise GenesisError("extraData is not valid RLP") from None
    if not isinstance(items, list) or len(items) != 5:
        raise GenesisError("QBFT extraData is a list of five items")
    vanity, validators, vote, round_bytes, seals = items
    if not isinstance(vanity, bytes) or len(vanity) != VANITY_LENGTH:
        raise GenesisError("QBFT extraData starts with 32 bytes of vanity")
    if not isinstance(validators, list) or not all(
        isinstance(v, bytes) and len(v) == 20 for v in validators
    ):
        raise GenesisError("QBFT extraData's second item is a list of 20-byte addresses")
    if not isinstance(vote, list) or not isinstance(seals, list):
        raise GenesisError("QBFT extraData's vote and seals are lists")
    if not isinstance(round_bytes, bytes) or round_bytes[:1] == b"\x00":
        raise GenesisError("QBFT extraData's round is an RLP integer")
    return QbftExtraData(
        vanity=vanity,
        validators=tuple(to_checksum_address(v) for v in validators),
        vote=tuple(vote),
        round=int.from_bytes(round_bytes, "big"),
        seals=tuple(s for s in seals if isinstance(s, bytes)),
    )


def _positive(value: int, name: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise GenesisError(f"{name} must be an integer from 1 to {maximum}")
    return value


def qbft_genesis(parameters: QbftParameters) -> dict[str, Any]:
    """A Besu QBFT genesis document (block-header validator selection)."""
    chain_id = _positive(parameters.chain_id, "chain id", 2**63 - 1)
    block_period = _positive(parameters.block_period, "block period", 3600)
    epoch_length = _positive(parameters.epoch_length, "epoch length", 2**31 - 1)
    request_timeout = _positive(parameters.request_timeout, "request timeout", 3600)
    gas_limit = _positive(parameters.gas_limit, "gas limit", MAX_GAS_LIMIT)
    if gas_limit < 5000:
        raise GenesisError("gas limit must be at least 5000 (Besu's minimum)")
    checked = [check_address(v, "validator") for v in parameters.validators]
    ordered = sorted(checked, key=lambda a: _address_bytes(a))
    extra_data = qbft_extra_data(ordered)
    alloc: dict[str, dict[str, str]] = {}
    for address, wei in sorted((parameters.alloc or {}).items()):
        account = check_address(address, "alloc address")
        if isinstance(wei, bool) or not isinstance(wei, int) or not 0 <= wei < 2**256:
            raise GenesisError("an alloc balance must be a whole number of wei below 2**256")
        if account[2:].lower() in alloc:
            raise GenesisError("an alloc address is listed twice")
        alloc[account[2:].lower()] = {"balance": hex(wei)}
    return {
        "config": {
            "chainId": chain_id,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "zeroBaseFee": True,
            "qbft": {
                "blockperiodseconds": block_period,
                "epochlength": epoch_length,
                "requesttimeoutseconds": request_timeout,
            },
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "extraData": "0x" + extra_data.hex(),
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": BFT_MIX_HASH,
        "coinbase": "0x" + "00" * 20,
        "alloc": alloc,
    }


def node_address(private_key: bytes) -> str:
    """The checksummed address of a secp256k1 node key (a Besu validator's address)."""
    from eth_keys.datatypes import PrivateKey

    return str(PrivateKey(private_key).public_key.to_checksum_address())


def enode_id(private_key: bytes) -> str:
    """The 128 hex digits of a node's public key, as an enode URL names it."""
    from eth_keys.datatypes import PrivateKey

    return str(PrivateKey(private_key).public_key.to_bytes().hex())

"""Turn whatever a node says about a revert into one ``ContractRevertError``.

anvil answers ``eth_call``/``eth_estimateGas`` reverts with JSON-RPC error code 3
and the revert data as a hex string; ganache answers code -32000 with the data
under ``data.result`` (or as ``data`` itself, depending on the method). Both
become ``ContractRevertError`` carrying the decoded custom error, so callers
never depend on the node they happen to run on.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address

from ledger.chain.contracts.artifacts import load_artifact
from ledger.chain.errors import ContractRevertError

_ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string), from require/revert with a message
_PANIC = bytes.fromhex("4e487b71")  # Panic(uint256), from failed asserts and overflows


@cache
def _known_errors() -> dict[bytes, tuple[str, list[str]]]:
    table: dict[bytes, tuple[str, list[str]]] = {}
    build = resources.files("contracts").joinpath("build")
    for entry in build.iterdir():
        if not entry.name.endswith(".json") or entry.name == "build-info.json":
            continue
        artifact = load_artifact(entry.name.removesuffix(".json"))
        for selector, abi in artifact.error_selectors().items():
            table[selector] = (str(abi["name"]), [str(i["type"]) for i in abi["inputs"]])
    return table


def decode_revert_data(data: bytes) -> ContractRevertError:
    """Decode raw revert data into a ``ContractRevertError`` naming the error."""
    selector, payload = data[:4], data[4:]
    try:
        if not data:
            return ContractRevertError("", (), data)
        if selector == _ERROR_STRING:
            return ContractRevertError("Error", tuple(abi_decode(["string"], payload)), data)
        if selector == _PANIC:
            return ContractRevertError("Panic", tuple(abi_decode(["uint256"], payload)), data)
        known = _known_errors().get(selector)
        if known is not None:
            name, types = known
            values = abi_decode(types, payload)
            args = tuple(
                to_checksum_address(v) if t == "address" else v
                for t, v in zip(types, values, strict=True)
            )
            return ContractRevertError(name, args, data)
    except Exception:  # noqa: BLE001 - malformed revert data is reported, not raised
        return ContractRevertError(f"malformed revert 0x{data.hex()}", (), data)
    return ContractRevertError(f"unknown error 0x{selector.hex()}", (), data)


def _hex_bytes(value: Any) -> bytes | None:
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


def revert_from_rpc_error(error: dict[str, Any]) -> ContractRevertError | None:
    """Recognise a revert in a JSON-RPC ``error`` object, or return None if it is not one."""
    message = str(error.get("message", ""))
    data = error.get("data")
    raw = _hex_bytes(data)
    if raw is None and isinstance(data, dict):
        raw = _hex_bytes(data.get("result")) or _hex_bytes(data.get("data"))
    is_revert = error.get("code") == 3 or "revert" in message.lower()
    if not is_revert:
        return None
    return decode_revert_data(raw or b"")

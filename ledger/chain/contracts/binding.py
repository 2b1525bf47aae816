"""A deployed contract bound to a client: encode calls, read state, decode events.

Reads go through ``ChainClient.call`` so reverts surface as ``ContractRevertError``
on every node; writes are encoded here and sent by a ``NonceManager``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_typing import ABIEvent
from eth_utils.abi import event_abi_to_log_topic, function_signature_to_4byte_selector

from ledger.chain.contracts.artifacts import Artifact, abi_type, load_artifact
from ledger.chain.errors import ChainConfigError, ChainError
from ledger.chain.node.client import BlockId, ChainClient, checksum
from ledger.chain.node.transactions import NonceManager


@dataclass(frozen=True)
class DecodedEvent:
    """One decoded event log."""

    name: str
    args: dict[str, Any]
    block_number: int
    tx_hash: str
    log_index: int
    removed: bool = False


class BoundContract:
    """An ``Artifact`` at an address on a chain."""

    def __init__(self, client: ChainClient, artifact: Artifact, address: str) -> None:
        """Bind ``artifact`` at ``address``."""
        self.client = client
        self.artifact = artifact
        self.address = checksum(address)
        self._functions: dict[str, list[dict[str, Any]]] = {}
        self._events: dict[bytes, dict[str, Any]] = {}
        for entry in artifact.abi:
            if entry.get("type") == "function":
                self._functions.setdefault(entry["name"], []).append(entry)
            elif entry.get("type") == "event" and not entry.get("anonymous"):
                self._events[event_abi_to_log_topic(cast(ABIEvent, entry))] = entry

    def _function(self, name: str, arity: int) -> dict[str, Any]:
        return _function_entry(self.artifact, self._functions.get(name, []), name, arity)

    def encode(self, name: str, *args: Any) -> bytes:
        """Calldata for ``name(*args)``."""
        return _encode(self._function(name, len(args)), args)

    def call(
        self, name: str, *args: Any, block: BlockId = "latest", sender: str | None = None
    ) -> Any:
        """Read ``name(*args)`` with ``eth_call``.

        One output is returned bare, several as a tuple.
        """
        entry = self._function(name, len(args))
        output = self.client.call(
            self.address, self.encode(name, *args), sender=sender, block=block
        )
        types = [abi_type(o) for o in entry["outputs"]]
        if not types:
            return None
        if not output:
            raise ChainError(
                f"{self.artifact.name}.{name} returned no data: is the contract deployed?"
            )
        values = abi_decode(types, output)
        return values[0] if len(values) == 1 else tuple(values)

    def transact(
        self,
        sender: NonceManager,
        name: str,
        *args: Any,
        gas: int | None = None,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Send ``name(*args)`` from ``sender`` and wait for the receipt."""
        return sender.transact(
            self.address,
            self.encode(name, *args),
            gas=gas,
            label=f"{self.artifact.name}.{name}",
            timeout=timeout,
        )

    def decode_logs(self, logs: Iterable[dict[str, Any]]) -> list[DecodedEvent]:
        """Decode the logs this contract emitted; logs of other contracts are skipped."""
        decoded = []
        for log in logs:
            if checksum(log["address"]) != self.address or not log["topics"]:
                continue
            topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
            entry = self._events.get(topics[0])
            if entry is None:
                continue
            indexed = [i for i in entry["inputs"] if i["indexed"]]
            plain = [i for i in entry["inputs"] if not i["indexed"]]
            args: dict[str, Any] = {}
            for param, topic in zip(indexed, topics[1:], strict=True):
                kind = abi_type(param)
                dynamic = kind in ("string", "bytes") or kind.endswith("]") or kind.startswith("(")
                args[param["name"]] = (
                    topic if dynamic else _normalise(kind, abi_decode([kind], topic)[0])
                )
            values = abi_decode([abi_type(i) for i in plain], bytes.fromhex(log["data"][2:]))
            args.update(
                {p["name"]: _normalise(abi_type(p), v) for p, v in zip(plain, values, strict=True)}
            )
            decoded.append(
                DecodedEvent(
                    name=entry["name"],
                    args=args,
                    block_number=int(log["blockNumber"], 16),
                    tx_hash=log["transactionHash"],
                    log_index=int(log["logIndex"], 16),
                    removed=bool(log.get("removed", False)),
                )
            )
        return decoded

    def events(self, from_block: int = 0, to_block: BlockId = "latest") -> list[DecodedEvent]:
        """Every event this contract emitted in the block range (none past the head)."""
        head = self.client.block_number()
        if from_block > head:
            return []
        if isinstance(to_block, int) and to_block > head:
            to_block = head
        return self.decode_logs(self.client.logs(self.address, from_block, to_block))


class ContractBinding:
    """Base of the typed bindings: the artifact named ``ARTIFACT`` at one address."""

    ARTIFACT = ""

    def __init__(self, client: ChainClient, address: str) -> None:
        """Bind the contract deployed at ``address``."""
        self.client = client
        self.contract = BoundContract(client, load_artifact(self.ARTIFACT), address)

    @property
    def address(self) -> str:
        """The contract's checksummed address."""
        return str(self.contract.address)

    @classmethod
    def calldata(cls, name: str, *args: Any) -> bytes:
        """Calldata for ``name(*args)`` without a client, as ``BoundContract.encode`` makes it.

        For callers that hand the call to an outbox to send later.
        """
        return encode_call(load_artifact(cls.ARTIFACT), name, *args)


def encode_call(artifact: Artifact, name: str, *args: Any) -> bytes:
    """Calldata for ``name(*args)`` of ``artifact`` (the overload taking that many arguments).

    Raises ``ChainConfigError`` if the artifact has no such function.
    """
    entries = [e for e in artifact.abi if e.get("type") == "function" and e["name"] == name]
    return _encode(_function_entry(artifact, entries, name, len(args)), args)


def _function_entry(
    artifact: Artifact, entries: Iterable[dict[str, Any]], name: str, arity: int
) -> dict[str, Any]:
    for entry in entries:
        if len(entry["inputs"]) == arity:
            return entry
    raise ChainConfigError(f"{artifact.name} has no function {name} with {arity} arguments")


def _encode(entry: dict[str, Any], args: Sequence[Any]) -> bytes:
    types = [abi_type(i) for i in entry["inputs"]]
    selector = function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})")
    return selector + abi_encode(types, list(args))


def _normalise(kind: str, value: Any) -> Any:
    return checksum(value) if kind == "address" else value


def deploy(
    sender: NonceManager, artifact: Artifact, *args: Any, timeout: float = 120.0
) -> BoundContract:
    """Deploy ``artifact`` with constructor ``args`` from ``sender`` and wait for it."""
    return deploy_with_receipt(sender, artifact, *args, timeout=timeout)[0]


def deploy_with_receipt(
    sender: NonceManager, artifact: Artifact, *args: Any, timeout: float = 120.0
) -> tuple[BoundContract, dict[str, Any]]:
    """Deploy like ``deploy`` and also return the deployment receipt."""
    if not artifact.deployable:
        raise ChainConfigError(f"{artifact.name} has no bytecode (an interface?)")
    constructor = next((e for e in artifact.abi if e.get("type") == "constructor"), None)
    types = [abi_type(i) for i in constructor["inputs"]] if constructor else []
    if len(types) != len(args):
        raise ChainConfigError(
            f"{artifact.name} takes {len(types)} constructor arguments, got {len(args)}"
        )
    data = artifact.bytecode + abi_encode(types, list(args))
    receipt = sender.transact(None, data, label=f"deploy {artifact.name}", timeout=timeout)
    address = receipt.get("contractAddress")
    if not address:
        raise ChainError(f"deploying {artifact.name} produced no contract address")
    return BoundContract(sender.client, artifact, address), receipt

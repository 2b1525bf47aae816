"""A connected EVM node: timeouts, chain id check, and errors mapped to ``ChainError``.

Everything goes through ``ChainClient.rpc`` so that a dead node, a slow node
and a revert look the same whichever node (ganache, anvil, Besu) answers.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, cast

import requests
from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.middleware import ExtraDataToPOAMiddleware

from ledger.chain.errors import ChainError, ChainIdMismatchError, ChainUnavailableError
from ledger.chain.node.reverts import revert_from_rpc_error

BlockId = int | str


class ChainClient:
    """A JSON-RPC connection to one EVM node whose chain id has been checked."""

    def __init__(self, url: str, chain_id: int, *, timeout: float = 10.0) -> None:
        """Connect to ``url`` and check it serves ``chain_id``.

        Raises ``ChainUnavailableError`` if the node does not answer within
        ``timeout`` seconds and ``ChainIdMismatchError`` if it serves another chain.
        """
        self.url = url
        self.timeout = timeout
        provider = HTTPProvider(
            url,
            request_kwargs={"timeout": timeout},
            exception_retry_configuration=None,  # fail fast; callers decide to retry
        )
        self.w3 = Web3(provider)
        # Besu QBFT/IBFT and Clique put more than 32 bytes in extraData.
        self.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        self._ids = itertools.count(1)
        served = self.chain_id_served()
        if served != chain_id:
            raise ChainIdMismatchError(chain_id, served, url)
        self.chain_id = chain_id

    def rpc(self, method: str, *params: Any) -> Any:
        """Call one JSON-RPC method and return its ``result``.

        Raises ``ContractRevertError`` for reverts, ``ChainUnavailableError`` when
        the node cannot be reached or times out, ``ChainError`` for other errors.
        """
        try:
            response = self.w3.provider.make_request(cast(Any, method), list(params))
        except requests.Timeout:
            raise ChainUnavailableError(
                f"chain node at {self.url} did not answer {method} within {self.timeout:g} s"
            ) from None
        except (requests.ConnectionError, ConnectionError) as exc:
            raise ChainUnavailableError(
                f"chain node at {self.url} is unreachable ({type(exc).__name__}); "
                "check that it runs and that TONGBAN_CHAIN points at it"
            ) from None
        error = response.get("error")
        if error is not None:
            error_dict = dict(error) if isinstance(error, dict) else {"message": str(error)}
            revert = revert_from_rpc_error(error_dict)
            if revert is not None:
                raise revert
            raise ChainError(f"{method} failed: {error_dict.get('message', error_dict)}")
        return response.get("result")

    def chain_id_served(self) -> int:
        """The chain id the node reports (``eth_chainId``)."""
        return int(self.rpc("eth_chainId"), 16)

    def block_number(self) -> int:
        """The latest block number."""
        return int(self.rpc("eth_blockNumber"), 16)

    def get_block(self, block: BlockId = "latest") -> dict[str, Any]:
        """A block header (without transactions), as the node returns it."""
        tag = hex(block) if isinstance(block, int) else block
        result = self.rpc("eth_getBlockByNumber", tag, False)
        if result is None:
            raise ChainError(f"block {block} does not exist")
        return dict(result)

    def nonce(self, address: str, block: BlockId = "pending") -> int:
        """Transaction count of ``address`` at ``block`` (``pending`` includes the mempool)."""
        tag = hex(block) if isinstance(block, int) else block
        return int(self.rpc("eth_getTransactionCount", address, tag), 16)

    def balance(self, address: str) -> int:
        """Balance of ``address`` in wei."""
        return int(self.rpc("eth_getBalance", address, "latest"), 16)

    def code(self, address: str) -> bytes:
        """Deployed code at ``address`` (empty if none)."""
        return bytes.fromhex(str(self.rpc("eth_getCode", address, "latest"))[2:])

    def call(
        self, to: str, data: bytes, *, sender: str | None = None, block: BlockId = "latest"
    ) -> bytes:
        """``eth_call``: run a call without a transaction and return its output."""
        request: dict[str, Any] = {"to": to, "data": "0x" + data.hex()}
        if sender is not None:
            request["from"] = sender
        tag = hex(block) if isinstance(block, int) else block
        return bytes.fromhex(str(self.rpc("eth_call", request, tag))[2:])

    def estimate_gas(self, sender: str, to: str | None, data: bytes, value: int = 0) -> int:
        """``eth_estimateGas``; a call that would revert raises ``ContractRevertError``."""
        request: dict[str, Any] = {"from": sender, "data": "0x" + data.hex(), "value": hex(value)}
        if to is not None:
            request["to"] = to
        return int(self.rpc("eth_estimateGas", request), 16)

    def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction; returns its hash as 0x-hex."""
        return str(self.rpc("eth_sendRawTransaction", "0x" + raw.hex()))

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        """The transaction's receipt, or None while it is not mined."""
        result = self.rpc("eth_getTransactionReceipt", tx_hash)
        return None if result is None else dict(result)

    def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        """The transaction as the node knows it (pending or mined), or None."""
        result = self.rpc("eth_getTransactionByHash", tx_hash)
        return None if result is None else dict(result)

    def logs(
        self,
        address: str | Sequence[str],
        from_block: int,
        to_block: BlockId = "latest",
        topics: Sequence[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """``eth_getLogs`` over a block range, in smaller ranges if the node limits them.

        Besu refuses a range wider than ``--rpc-max-logs-range`` (5000 blocks by
        default, often set lower); the range is then halved until the node
        answers, so callers need not know any node's limit.
        """
        query: dict[str, Any] = {
            "address": address if isinstance(address, str) else list(address),
            "fromBlock": hex(from_block),
            "toBlock": hex(to_block) if isinstance(to_block, int) else to_block,
        }
        if topics is not None:
            query["topics"] = list(topics)
        try:
            return [dict(entry) for entry in self.rpc("eth_getLogs", query)]
        except ChainUnavailableError:
            raise
        except ChainError as exc:
            if not _range_refused(exc):
                raise
        end = to_block if isinstance(to_block, int) else self._tag_number(to_block)
        if end <= from_block:
            raise ChainError(f"eth_getLogs refused even block {from_block} alone")
        middle = (from_block + end) // 2
        return self.logs(address, from_block, middle, topics) + self.logs(
            address, middle + 1, end, topics
        )

    def _tag_number(self, tag: str) -> int:
        if tag == "earliest":
            return 0
        if tag.startswith("0x"):
            return int(tag, 16)
        return int(self.get_block(tag)["number"], 16)

    def fee_fields(self) -> dict[str, int]:
        """Fee fields for a new transaction: EIP-1559 when the chain has a base fee.

        Permissioned networks that run without fees (Besu ``min-gas-price=0``,
        no London fork) get a legacy ``gasPrice`` from ``eth_gasPrice``.
        """
        base_fee = self.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            return {"gasPrice": int(self.rpc("eth_gasPrice"), 16)}
        try:
            tip = int(self.rpc("eth_maxPriorityFeePerGas"), 16)
        except ChainUnavailableError:
            raise
        except ChainError:
            tip = 0  # nodes without the method accept a zero tip
        # Twice the base fee keeps a transaction valid through several full blocks.
        return {"maxFeePerGas": 2 * int(base_fee, 16) + tip, "maxPriorityFeePerGas": tip}

    def is_dev_node(self) -> bool:
        """Whether the node is a local development node (anvil or ganache)."""
        client = str(self.rpc("web3_clientVersion")).lower()
        return "anvil" in client or "ganache" in client

    def set_balance(self, address: str, wei: int) -> None:
        """Fund ``address`` on a development node (anvil or ganache only)."""
        client = str(self.rpc("web3_clientVersion")).lower()
        if "anvil" in client:
            self.rpc("anvil_setBalance", address, hex(wei))
        elif "ganache" in client:
            self.rpc("evm_setAccountBalance", address, hex(wei))
        else:
            raise ChainError("set_balance only works on a local development node")


def _range_refused(error: ChainError) -> bool:
    # Besu: "Requested range exceeds maximum RPC range limit" (-32005); other
    # nodes and gateways word it differently but name the range and its limit.
    message = str(error).lower()
    return "range" in message and ("exceed" in message or "limit" in message)


def checksum(address: str) -> ChecksumAddress:
    """``address`` in EIP-55 checksum form."""
    return to_checksum_address(address)

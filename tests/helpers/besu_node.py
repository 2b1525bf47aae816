"""A node that answers like Hyperledger Besu (QBFT, free gas), for chain-client tests.

No Besu runs on this machine (no Java from the allowed registries, no Docker).
``BesuProxy`` is a JSON-RPC server on 127.0.0.1 in front of a real anvil
started with a gas price and base fee of zero: the EVM, blocks, receipts,
nonces and logs are anvil's, and every place where Besu answers differently is
rewritten to Besu's answer, each taken from the recorded responses in
``tests/vectors/besu-rpc/responses.json`` (sources in its ``PROVENANCE.md``):

- ``web3_clientVersion`` is ``besu/...``; ``eth_accounts`` is empty;
  ``eth_sendTransaction`` is refused (-32604); anvil/evm/hardhat methods do not
  exist (-32601); ``clique_*``, ``ibft_*``, ``admin_*``, ``debug_*`` ... exist
  in Besu but are not enabled on a node serving ``ETH,NET,WEB3,QBFT`` (-32604);
- block headers carry QBFT ``extraData`` (RLP of vanity, validators, vote,
  round, seals), the BFT ``mixHash``, difficulty 1 and a zero nonce (the block
  hash stays anvil's: nothing in Tongban recomputes it);
- ``qbft_getValidatorsByBlockNumber``/``...ByBlockHash`` answer the fixed
  validator set, ``qbft_getPendingVotes`` none;
- reverts in ``eth_call``/``eth_estimateGas`` are code -32000 "Execution
  reverted" (": reason" appended for ``Error(string)``) with the revert data
  as a hex string; optionally without data (Besu before 23.7 without
  ``--revert-reason-enabled``) and with ``revertReason`` in failed receipts;
- ``eth_sendRawTransaction`` errors use Besu's codes and messages;
- ``eth_getLogs`` refuses a range wider than ``--rpc-max-logs-range``;
- ``eth_maxPriorityFeePerGas`` is the node's minimum priority fee (zero).
"""

from __future__ import annotations

import copy
import json
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import rlp  # type: ignore[import-untyped]
from eth_abi.abi import decode as abi_decode

from ledger.chain.node.processes import anvil_binary, free_port

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "besu-rpc" / "responses.json"

_ERROR_STRING = bytes.fromhex("08c379a0")

# Besu API groups a QBFT node usually leaves out of --rpc-http-api: their
# methods exist in Besu (so "not enabled"), unlike anvil's or hardhat's ("not found").
_NOT_ENABLED_PREFIXES = (
    "clique_",
    "ibft_",
    "admin_",
    "debug_",
    "txpool_",
    "perm_",
    "trace_",
    "miner_",
    "priv_",
    "eea_",
    "plugins_",
)
_NOT_FOUND_PREFIXES = ("anvil_", "evm_", "hardhat_", "ganache_", "personal_", "otterscan_")
_NOT_FOUND = ("eth_sign", "eth_signTransaction", "eth_signTypedData", "eth_signTypedData_v4")


@cache
def _vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text("utf-8"))
    return data


def recorded(name: str) -> dict[str, Any]:
    """The recorded Besu response (or value set) called ``name``, as a fresh copy."""
    entry = _vectors()[name]
    return copy.deepcopy(dict(entry.get("response", entry)))


def recorded_error(name: str) -> dict[str, Any]:
    """The ``error`` object of the recorded response ``name``."""
    return dict(recorded(name)["error"])


BESU_VERSION = str(recorded("web3_clientVersion")["result"])
"""``web3_clientVersion`` of a Besu node, as Besu's documentation shows it."""

VALIDATORS: tuple[str, ...] = tuple(recorded("qbft_getValidatorsByBlockNumber")["result"])
"""The QBFT validators of the stand-in chain (the set in Besu's API reference)."""

QBFT_HEADER = dict(recorded("qbft_block_header_constants")["values"])
"""Header fields with fixed values on a QBFT chain: ``nonce``, ``difficulty``, ``mixHash``."""


@dataclass(frozen=True)
class QbftExtraData:
    """A decoded QBFT ``extraData``: ``RLP([vanity, validators, vote, round, seals])``."""

    vanity: bytes
    validators: tuple[str, ...]
    vote: tuple[str, bool] | None
    round_number: int
    seals: tuple[bytes, ...]


def encode_qbft_extra_data(
    validators: Sequence[str],
    *,
    round_number: int = 0,
    seals: Sequence[bytes] = (),
    vote: tuple[str, bool] | None = None,
    vanity: bytes = bytes(32),
) -> bytes:
    """QBFT ``extraData`` as Besu's ``QbftExtraDataCodec`` writes it.

    The round is an RLP scalar (zero is the empty string, not four zero bytes);
    no vote is an empty list; a vote is ``[recipient, 0xff]`` to add and
    ``[recipient, ""]`` to drop; seals are 65-byte signatures.
    """
    if len(vanity) != 32:
        raise ValueError("QBFT vanity is 32 bytes")
    vote_item: list[bytes] = []
    if vote is not None:
        recipient, add = vote
        vote_item = [bytes.fromhex(recipient.removeprefix("0x")), b"\xff" if add else b""]
    items = [
        vanity,
        [bytes.fromhex(v.removeprefix("0x")) for v in validators],
        vote_item,
        round_number,
        list(seals),
    ]
    return bytes(rlp.encode(items))


def decode_qbft_extra_data(data: bytes) -> QbftExtraData:
    """Decode QBFT ``extraData``; ``ValueError`` if it is not five RLP items."""
    try:
        items = rlp.decode(data)
    except rlp.exceptions.DecodingError as exc:
        raise ValueError(f"not RLP: {exc}") from None
    if not isinstance(items, list) or len(items) != 5:
        raise ValueError("QBFT extraData is a list of five items")
    vanity, validators, vote, round_bytes, seals = items
    decoded_vote = None
    if vote:
        decoded_vote = ("0x" + bytes(vote[0]).hex(), bytes(vote[1]) == b"\xff")
    return QbftExtraData(
        bytes(vanity),
        tuple("0x" + bytes(v).hex() for v in validators),
        decoded_vote,
        int.from_bytes(bytes(round_bytes), "big"),
        tuple(bytes(s) for s in seals),
    )


@dataclass
class BesuBehaviour:
    """How the stand-in is configured, as a Besu operator would configure a node."""

    validators: tuple[str, ...] = VALIDATORS
    max_logs_range: int = 5000
    """``--rpc-max-logs-range`` (Besu's default is 5000; 0 means no limit)."""
    revert_data_in_errors: bool = True
    """False: reverts come without ``data`` (Besu < 23.7 without ``--revert-reason-enabled``)."""
    revert_reason_in_receipts: bool = False
    """``--revert-reason-enabled``: failed receipts carry ``revertReason``."""
    min_priority_fee: int = 0


@dataclass
class BesuProxy:
    """A Besu-answering JSON-RPC endpoint on 127.0.0.1 in front of ``upstream`` (anvil)."""

    upstream: str
    behaviour: BesuBehaviour = field(default_factory=BesuBehaviour)
    calls: list[str] = field(default_factory=list)
    """Every method asked, in order (thread-safe appends)."""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """The proxy's JSON-RPC URL."""
        assert self._server is not None, "proxy not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        """Serve on a free port of 127.0.0.1 in a daemon thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def methods_since(self, mark: int) -> list[str]:
        """The methods asked after the first ``mark`` calls."""
        with self._lock:
            return list(self.calls[mark:])

    def mark(self) -> int:
        """How many calls so far (a point to compare ``methods_since`` against)."""
        with self._lock:
            return len(self.calls)

    # -- answering ----------------------------------------------------------------------

    def upstream_rpc(self, method: str, *params: Any) -> dict[str, Any]:
        """One JSON-RPC call to anvil; the whole response object."""
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer: dict[str, Any] = requests.post(self.upstream, json=body, timeout=30).json()
        return answer

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        """Besu's answer to one JSON-RPC request object."""
        method = str(request.get("method", ""))
        params = list(request.get("params") or [])
        with self._lock:
            self.calls.append(method)
        reply = self._answer(method, params)
        reply["jsonrpc"] = "2.0"
        reply["id"] = request.get("id")
        return reply

    def _answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        fixed = self._fixed_answer(method, params)
        if fixed is not None:
            return fixed
        if method == "eth_getLogs":
            refused = self._logs_range_refusal(params)
            if refused is not None:
                return refused
        reply = self.upstream_rpc(method, *params)
        error = reply.get("error")
        if error is not None:
            return {"error": self._besu_error(method, dict(error))}
        result = reply.get("result")
        if method in ("eth_getBlockByNumber", "eth_getBlockByHash") and isinstance(result, dict):
            result = self._qbft_header(result)
        if method == "eth_getTransactionReceipt" and isinstance(result, dict):
            result = self._receipt(result)
        return {"result": result}

    def _fixed_answer(self, method: str, params: list[Any]) -> dict[str, Any] | None:
        if method == "web3_clientVersion":
            return {"result": BESU_VERSION}
        if method == "eth_accounts":
            return {"result": recorded("eth_accounts")["result"]}
        if method == "eth_sendTransaction":
            return {"error": recorded_error("eth_sendTransaction")}
        if method == "eth_maxPriorityFeePerGas":
            return {"result": hex(self.behaviour.min_priority_fee)}
        if method in ("qbft_getValidatorsByBlockNumber", "qbft_getValidatorsByBlockHash"):
            return {"result": list(self.behaviour.validators)}
        if method == "qbft_getPendingVotes":
            return {"result": {}}
        if method.startswith(_NOT_ENABLED_PREFIXES):
            return {"error": recorded_error("method_not_enabled")}
        if method in _NOT_FOUND or method.startswith(_NOT_FOUND_PREFIXES):
            return {"error": recorded_error("method_not_found")}
        return None

    def _block_number(self, tag: Any) -> int:
        if isinstance(tag, str) and tag.startswith("0x"):
            return int(tag, 16)
        if tag == "earliest":
            return 0
        return int(self.upstream_rpc("eth_blockNumber")["result"], 16)

    def _logs_range_refusal(self, params: list[Any]) -> dict[str, Any] | None:
        limit = self.behaviour.max_logs_range
        query = params[0] if params and isinstance(params[0], dict) else {}
        if limit <= 0 or "blockHash" in query:
            return None
        start = self._block_number(query.get("fromBlock", "latest"))
        end = self._block_number(query.get("toBlock", "latest"))
        if end - start > limit:
            return {"error": recorded_error("logs_range_exceeded")}
        return None

    def _besu_error(self, method: str, error: dict[str, Any]) -> dict[str, Any]:
        message = str(error.get("message", "")).lower()
        if method in ("eth_call", "eth_estimateGas") and (
            error.get("code") == 3 or "revert" in message
        ):
            return self._revert_error(error.get("data"))
        if method == "eth_sendRawTransaction":
            if "nonce too low" in message:
                return recorded_error("nonce_too_low")
            if "already imported" in message or "already known" in message:
                return recorded_error("known_transaction")
            if "insufficient funds" in message:
                return recorded_error("upfront_cost_exceeds_balance")
        if error.get("code") == -32601:
            return recorded_error("method_not_found")
        return error

    def _revert_error(self, data: Any) -> dict[str, Any]:
        error = recorded_error("revert_error")
        raw = data if isinstance(data, str) and data.startswith("0x") else "0x"
        reason = _error_string(bytes.fromhex(raw[2:]))
        if reason is not None:
            # Besu 23.7+ appends the decoded Error(string) to the message (PR #5706).
            error["message"] = f"{error['message']}: {reason}"
        if self.behaviour.revert_data_in_errors:
            error["data"] = raw
        else:
            error.pop("data", None)
        return error

    def _qbft_header(self, block: dict[str, Any]) -> dict[str, Any]:
        number = int(block["number"], 16)
        validators = self.behaviour.validators
        proposer = validators[number % len(validators)]
        # Seals are opaque 65-byte signatures to every reader of the header.
        seals = [bytes([i + 1]) * 65 for i in range(len(validators) * 2 // 3 + 1)]
        extra = encode_qbft_extra_data(validators, round_number=0, seals=seals)
        block = dict(block)
        block.update(QBFT_HEADER)
        block["extraData"] = "0x" + extra.hex()
        block["miner"] = proposer
        block["totalDifficulty"] = hex(number + 1)
        return block

    def _receipt(self, receipt: dict[str, Any]) -> dict[str, Any]:
        if not self.behaviour.revert_reason_in_receipts or receipt.get("status") != "0x0":
            return receipt
        tx = self.upstream_rpc("eth_getTransactionByHash", receipt["transactionHash"])["result"]
        block = hex(int(receipt["blockNumber"], 16) - 1)
        call = {"from": tx["from"], "to": tx["to"], "data": tx["input"], "gas": tx["gas"]}
        replay = self.upstream_rpc("eth_call", call, block).get("error") or {}
        data = replay.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            receipt = dict(receipt)
            receipt["revertReason"] = data
        return receipt


def _error_string(data: bytes) -> str | None:
    if data[:4] != _ERROR_STRING:
        return None
    try:
        (reason,) = abi_decode(["string"], data[4:])
    except Exception:  # noqa: BLE001 - Besu says "ABI decode error"; any reason is fine here
        return None
    return str(reason)


def _handler(proxy: BesuProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if isinstance(request, list):
                reply: Any = [proxy.answer(dict(r)) for r in request]
            else:
                reply = proxy.answer(dict(request))
            body = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@dataclass
class FreeGasAnvil:
    """An anvil on 127.0.0.1 with gas price, base fee and minimum tip zero (a free gas chain)."""

    url: str
    process: subprocess.Popen[bytes]

    def rpc(self, method: str, *params: Any) -> Any:
        """Call anvil directly (automine, mining): what a test does behind Besu's back."""
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = requests.post(self.url, json=body, timeout=30).json()
        if "error" in answer:
            raise AssertionError(f"anvil {method}: {answer['error']}")
        return answer.get("result")

    def stop(self) -> None:
        """Kill anvil and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def start_free_gas_anvil(chain_id: int, ready_timeout: float = 30.0) -> FreeGasAnvil:
    """Start the pinned anvil with a zero gas price and base fee (Besu ``zeroBaseFee``)."""
    port = free_port()
    argv = [
        str(anvil_binary()),
        *("--host", "127.0.0.1", "--port", str(port), "--chain-id", str(chain_id)),
        *("--hardfork", "shanghai", "--accounts", "0", "--silent"),
        *("--gas-price", "0", "--base-fee", "0", "--disable-min-priority-fee"),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    node = FreeGasAnvil(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + ready_timeout
    while True:
        try:
            if int(node.rpc("eth_chainId"), 16) == chain_id:
                return node
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            node.stop()
            raise RuntimeError(f"anvil did not start on {node.url}")
        time.sleep(0.05)


@contextmanager
def besu_proxy(upstream: str, behaviour: BesuBehaviour | None = None) -> Iterator[BesuProxy]:
    """A started ``BesuProxy`` in front of ``upstream``; stopped on exit."""
    proxy = BesuProxy(upstream, behaviour or BesuBehaviour())
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()

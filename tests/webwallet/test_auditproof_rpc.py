"""auditproof.js against a misbehaving JSON-RPC node: every fault is a reason word, never a throw.

A loopback HTTP server answers ``eth_chainId`` correctly and then one fault per mode: not JSON,
an HTTP 500 page, another request's id, a JSON-RPC error, a quantity that is not hex, a
checkpoint that is not five ABI words, a log whose contract is another. These are the node's
answers an auditor's browser could meet; the result must say which step failed and why.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from eth_abi.abi import encode

from tests.webwallet.auditproof_side import run_calls

ANCHOR = "0x" + "ab" * 20
CHAIN_ID = 4242
TREE_SIZE = 1
ROOT = "11" * 32
TOPIC = "0xc288cee85381242c15bed7cbd0c5fdd678d2c67f7a394419d0a6388900d1e8db"


def _word(value: int) -> str:
    return f"{value:064x}"


class _Node(BaseHTTPRequestHandler):
    """A JSON-RPC node whose answers go wrong as the path's first segment says."""

    faults: ClassVar[dict[str, str]] = {}

    def do_POST(self) -> None:
        """Answer one JSON-RPC request."""
        mode = self.path.strip("/")
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        method, rid = request["method"], request["id"]
        result: Any
        body: bytes | None = None
        status = 200
        if method == "eth_chainId":
            result = hex(CHAIN_ID)
        elif method == "eth_blockNumber":
            result = "0xzz" if mode == "bad-quantity" else "0x10"
        elif method == "eth_getLogs":
            address = "0x" + "cd" * 20 if mode == "other-contract" else ANCHOR
            data = "0x" + _word(0) + _word(TREE_SIZE) + ROOT
            result = [{"address": address, "data": data, "topics": [TOPIC], "removed": False}]
        elif method == "eth_call":
            result = "0x" + _word(1) if mode == "short-checkpoint" else "0x" + _word(0) * 5
        else:
            result = None
        if mode == "not-json" and method == "eth_blockNumber":
            body = b"<html>gateway</html>"
        elif mode == "http-500" and method == "eth_blockNumber":
            status, body = 500, b"Internal Server Error"
        elif mode == "wrong-id" and method == "eth_blockNumber":
            rid = rid + 1
        elif mode == "rpc-error" and method == "eth_getLogs":
            body = json.dumps(
                {"jsonrpc": "2.0", "id": rid, "error": {"code": -32005, "message": "limit"}}
            ).encode()
        if body is None:
            body = json.dumps({"jsonrpc": "2.0", "id": rid, "result": result}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def node_url() -> Iterator[str]:
    """The fake node's URL on 127.0.0.1; stopped after the module's tests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _timeline(url: str) -> dict[str, Any]:
    return {
        "rpcUrl": url,
        "chainId": CHAIN_ID,
        "anchorAddress": ANCHOR,
        "logId": 7,
        "checkpoints": [{"treeSize": TREE_SIZE, "root": ROOT, "blockNumber": 3}],
        "consistencyProofs": [],
    }


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("not-json", "rpc.bad_response"),
        ("http-500", "rpc.bad_response"),
        ("wrong-id", "rpc.bad_response"),
        ("bad-quantity", "rpc.bad_response"),
        ("rpc-error", "rpc.error"),
        ("short-checkpoint", "rpc.bad_response"),
        ("other-contract", "anchor.not_found"),
    ],
)
def test_a_misbehaving_node_gives_a_reason_word_not_an_exception(
    node_url: str, mode: str, code: str
) -> None:
    [result] = run_calls([["timeline", _timeline(f"{node_url}/{mode}")]])
    assert "error" not in result, result
    assert result["ok"] is False
    assert result["code"] == code, result


def test_bad_options_are_input_codes() -> None:
    good = _timeline("http://127.0.0.1:9")
    results = run_calls(
        [
            ["timeline", {**good, "anchorAddress": "0x1234"}],
            ["timeline", {**good, "chainId": "x"}],
            ["timeline", {**good, "logId": 2**32}],
            ["timeline", {**good, "checkpoints": [{"treeSize": 1, "root": "zz"}]}],
            ["timeline", {**good, "rpcUrl": "javascript:alert(1)"}],
            ["verifyEvent", {}],
            ["verifyEvent", {"logId": 1}],
        ]
    )
    assert [r["code"] for r in results] == [
        "input.anchor_address",
        "input.malformed",
        "input.malformed",
        "input.malformed",
        "input.rpc_url",
        "input.malformed",
        "input.malformed",
    ]
    assert all(r["ok"] is False for r in results)


def _key_record_words(public_key: bytes, *, compromised_from: int = 0) -> list[str]:
    """``abi.encode(KeyRecord)`` as the registry returns it, as 32-byte hex words."""
    record = (b"key-1".ljust(32, b"\0"), public_key, 10, 0, compromised_from > 0, compromised_from)
    raw = encode(["(bytes32,bytes,uint64,uint64,bool,uint64)"], [record])
    return [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]


def test_key_records_decode_as_eth_abi_encodes_them_and_bad_offsets_are_refused() -> None:
    key = bytes([2]) + bytes(range(32))
    good = _key_record_words(key)
    flagged = _key_record_words(key, compromised_from=99)
    past_end = list(good)
    past_end[2] = f"{32 * 40:064x}"  # the bytes member's offset, relative to the tuple
    unaligned = list(good)
    unaligned[2] = f"{33:064x}"
    too_long = list(good)
    too_long[7] = f"{66:064x}"  # the bytes member's length
    results = run_calls(
        [
            ["decodeKey", good],
            ["decodeKey", flagged],
            ["decodeKey", past_end],
            ["decodeKey", unaligned],
            ["decodeKey", too_long],
            ["decodeKey", good[:5]],
            ["keyFragment", "did:tongban:31337:1#key-1"],
            ["keyFragment", "key-1"],
            ["keyFragment", "did:tongban:31337:1#bad key"],
        ]
    )
    assert results[0] == {"publicKey": key.hex(), "compromised": False, "compromisedFrom": 0}
    assert results[1] == {"publicKey": key.hex(), "compromised": True, "compromisedFrom": 99}
    assert results[2:6] == ["rpc.bad_response"] * 4
    assert results[6:] == ["key-1", "key-1", None]

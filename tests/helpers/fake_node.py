"""A stand-in for a production chain node (Hyperledger Besu), for refusal tests only.

No Besu runs on this machine. The service decides "is this a local development
node?" from ``web3_clientVersion`` right after checking the chain id, before it
sends anything, so a loopback JSON-RPC server answering those two methods like
Besu is enough to test that demo passphrases are refused on a real network.
Anything else it is asked is an error, so a test that gets further fails loudly.
The client version is Besu's recorded answer; ``tests/helpers/besu_node.py`` is
the stand-in that answers everything else like Besu.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.helpers.besu_node import BESU_VERSION


def _handler(chain_id: int) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            answers = {"eth_chainId": hex(chain_id), "web3_clientVersion": BESU_VERSION}
            method = request.get("method")
            reply: dict[str, object] = {"jsonrpc": "2.0", "id": request.get("id")}
            if method in answers:
                reply["result"] = answers[method]
            else:
                reply["error"] = {"code": -32601, "message": f"fake node: no {method}"}
            body = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@contextmanager
def fake_besu(chain_id: int = 1337) -> Iterator[str]:
    """A Besu-like JSON-RPC endpoint on 127.0.0.1; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(chain_id))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

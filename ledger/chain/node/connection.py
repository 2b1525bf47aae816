"""One setting to a connected, ready chain: ``embedded``, ``anvil`` or an http(s) URL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import urlparse

from ledger.chain.errors import ChainConfigError
from ledger.chain.node.client import ChainClient
from ledger.chain.node.ports import embedded_port, remember_port
from ledger.chain.node.processes import NodeProcess, start_anvil, start_ganache

EMBEDDED = "embedded"
ANVIL = "anvil"


@dataclass(frozen=True)
class ChainConfig:
    """Where the chain is and how to reach it.

    ``chain`` is ``embedded`` (a ganache started here, its database and its
    port kept under ``data_dir``), ``anvil`` (an in-memory anvil started here, for tests and
    throw-away demos) or the http(s) URL of an existing node.
    """

    chain: str
    chain_id: int
    data_dir: Path
    block_time: float = 1.0
    rpc_timeout: float = 10.0
    node_port: int = 0
    node_modules: Path | None = None

    def validate(self) -> None:
        """Raise ``ChainConfigError`` if the setting cannot work."""
        check_chain_setting(self.chain)


def check_chain_setting(chain: str) -> str:
    """Return ``chain`` if it is ``embedded``, ``anvil`` or an http(s) URL; else raise."""
    if chain in (EMBEDDED, ANVIL):
        return chain
    parsed = urlparse(chain)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ChainConfigError("TONGBAN_CHAIN must be 'embedded', 'anvil' or an http(s):// URL")
    return chain


class Chain:
    """A connected chain, and the local node behind it if this process started one."""

    def __init__(self, client: ChainClient, node: NodeProcess | None) -> None:
        """Wrap a connected ``client`` and the ``node`` it talks to, if local."""
        self.client = client
        self.node = node

    def close(self) -> None:
        """Stop the local node, if this process started one."""
        if self.node is not None:
            self.node.stop()

    def __enter__(self) -> Chain:
        """Use as a context manager that closes the chain."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the local node."""
        self.close()


def open_chain(config: ChainConfig) -> Chain:
    """Start or reach the configured chain and return it connected and checked.

    The embedded node comes back on the port it had (``ports.embedded_port``),
    so a URL given to other provinces stays valid across restarts. Local
    nodes are started with their lifetime tied to this process. Must be
    called from a thread that lives as long as the node should (the kernel
    kills the node when the starting thread exits).
    """
    config.validate()
    node: NodeProcess | None = None
    if config.chain == EMBEDDED:
        node = start_ganache(
            config.data_dir / "chain" / "ganache",
            config.chain_id,
            block_time=config.block_time,
            port=embedded_port(config.data_dir, config.node_port),
            node_modules=config.node_modules,
            log_path=config.data_dir / "logs" / "ganache.log",
        )
        url = node.url
        try:
            remember_port(config.data_dir, node.port)
        except BaseException:
            node.kill()
            raise
    elif config.chain == ANVIL:
        node = start_anvil(
            config.chain_id,
            block_time=config.block_time or None,
            port=config.node_port,
            node_modules=config.node_modules,
        )
        url = node.url
    else:
        url = config.chain
    try:
        client = ChainClient(url, config.chain_id, timeout=config.rpc_timeout)
    except BaseException:
        if node is not None:
            node.kill()
        raise
    return Chain(client, node)

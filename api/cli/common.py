"""Pieces shared by the ``tongban`` subcommands: options, settings, chain readers, output.

Nothing of the service is imported until a command asks for it (inside
``load_cli_settings`` and ``connect_reader``): ``tongban wallet ...`` must not
pay for web3, pydantic or FastAPI.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from api.runtime.settings import Settings
    from ledger.chain.node.client import ChainClient

out = Console()
err = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (also TONGBAN_CONFIG).")
]
DataDirOption = Annotated[
    Path | None, typer.Option("--data-dir", help="Data directory (TONGBAN_DATA_DIR).")
]
ChainOption = Annotated[
    str | None,
    typer.Option("--chain", help="'embedded', 'anvil' or a node URL (TONGBAN_CHAIN)."),
]
ChainIdOption = Annotated[int | None, typer.Option("--chain-id", help="TONGBAN_CHAIN_ID.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.", metavar="")]

KNOWN_ERRORS: tuple[tuple[str, str], ...] = (
    ("api.runtime.settings", "SettingsError"),
    ("ledger.chain.errors", "ChainError"),
    ("ledger.datadir", "DataDirInUseError"),
    ("ledger.audit.errors", "AuditError"),
    ("ledger.store.database", "StoreError"),
    ("api.client.remote", "RemoteApiError"),
    ("api.cli.options", "InputFileError"),
    ("api.client.errors", "WalletError"),
)
"""Errors (module, class) that end a command with one ``error:`` line and exit status 2."""


def is_known_error(exc: BaseException) -> bool:
    """Whether ``exc`` is one of ``KNOWN_ERRORS`` (or derives from one)."""
    # Only modules already imported are looked at: an exception's class was imported
    # before it could be raised, and importing them all would cost every command the
    # service's imports (web3, pydantic), the most of a wallet command's time.
    for module_name, class_name in KNOWN_ERRORS:
        module = sys.modules.get(module_name)
        known = getattr(module, class_name, None) if module is not None else None
        if isinstance(known, type) and isinstance(exc, known):
            return True
    return False


def load_cli_settings(
    config: Path | None, data_dir: Path | None, chain: str | None, chain_id: int | None
) -> Settings:
    """Settings from the command line's options over the environment and TOML file."""
    from api.runtime.logs import configure_logging
    from api.runtime.settings import load_settings

    settings = load_settings(config, data_dir=data_dir, chain=chain, chain_id=chain_id)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def connect_reader(settings: Settings) -> ChainClient:
    """A client for reading the configured chain; a local chain must be served by ``serve``."""
    from api.runtime.chain_start import read_endpoint
    from api.runtime.settings import SettingsError
    from ledger.chain.node.client import ChainClient
    from ledger.chain.node.connection import ANVIL, EMBEDDED

    url: str | None = settings.chain
    if settings.chain in (EMBEDDED, ANVIL):
        url = read_endpoint(settings)
        if url is None:
            raise SettingsError(
                f"no service is running on data directory {settings.data_dir}; "
                "start one with `tongban serve` (or `make run`)"
            )
    return ChainClient(str(url), settings.chain_id, timeout=settings.rpc_timeout)


def print_text(text: str, *, console: Console = out) -> None:
    """Print ``text`` as it is: no markup, no emoji codes (``did:key:`` is one), no wrapping."""
    console.print(text, markup=False, emoji=False, highlight=False, soft_wrap=True)


def print_json_line(document: dict[str, Any]) -> None:
    """Print ``document`` as one line of JSON, so scripts can read output line by line."""
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()

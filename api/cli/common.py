"""Pieces shared by the ``tongban`` subcommands: options, settings, chain readers, output."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from api.cli.options import InputFileError
from api.client.remote import RemoteApiError
from api.client.wallet import WalletError
from api.runtime.chain_start import read_endpoint
from api.runtime.logs import configure_logging
from api.runtime.settings import Settings, SettingsError, load_settings
from ledger.audit.errors import AuditError
from ledger.chain.errors import ChainError
from ledger.chain.node.client import ChainClient
from ledger.chain.node.connection import ANVIL, EMBEDDED
from ledger.datadir import DataDirInUseError
from ledger.store.database import StoreError

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

KNOWN_ERRORS: tuple[type[Exception], ...] = (
    SettingsError,
    ChainError,
    DataDirInUseError,
    AuditError,
    StoreError,
    RemoteApiError,
    InputFileError,
    WalletError,
)
"""Errors that end a command with one ``error:`` line and exit status 2."""


def load_cli_settings(
    config: Path | None, data_dir: Path | None, chain: str | None, chain_id: int | None
) -> Settings:
    """Settings from the command line's options over the environment and TOML file."""
    settings = load_settings(config, data_dir=data_dir, chain=chain, chain_id=chain_id)
    configure_logging(settings.log_level, settings.log_format)
    return settings


def connect_reader(settings: Settings) -> ChainClient:
    """A client for reading the configured chain; a local chain must be served by ``serve``."""
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

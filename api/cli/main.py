"""The ``tongban`` command line (typer + rich).

Every known failure ends in one line on stderr (``error: ...`` naming the
setting or the fix) and exit status 2; nothing prints a stack trace.

Each command lives in its own module, imported only when the command line
names it: ``tongban wallet did`` imports the wallet's modules and not the
service's (FastAPI, uvicorn, web3), which would cost it most of a second.
``tongban --help`` (or an unknown command) imports them all.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import click
import typer
from rich.text import Text

from api.cli.common import err, is_known_error
from api.cli.usage import USAGE_EXIT_STATUS, usage_line

__all__ = ["COMMANDS", "Command", "build_app", "main"]

HELP = "Tongban (通办): credential and audit ledger for cross-province e-government."


@dataclass(frozen=True)
class Command:
    """A top-level command: its name and where it is defined (a function or a sub-app)."""

    name: str
    module: str
    attribute: str
    group: bool = False


COMMANDS: tuple[Command, ...] = (
    Command("issue", "api.cli.credentials", "issue_command"),
    Command("verify", "api.cli.credentials", "verify_command"),
    Command("revoke", "api.cli.credentials", "revoke_command"),
    Command("templates", "api.cli.templates", "templates_command"),
    Command("document", "api.cli.document", "document_app", group=True),
    Command("zhengzhao", "api.cli.zhengzhao", "zhengzhao_app", group=True),
    Command("serve", "api.cli.serve", "serve_command"),
    Command("chain", "api.cli.chain", "chain_app", group=True),
    Command("audit", "api.cli.audit", "audit_app", group=True),
    Command("clients", "api.cli.clients", "clients_app", group=True),
    Command("agencies", "api.cli.agencies", "agencies_app", group=True),
    Command("wallet", "api.cli.wallet", "wallet_app", group=True),
    Command("offers", "api.cli.offers", "offers_app", group=True),
    Command("governance", "api.cli.governance", "governance_app", group=True),
    Command("keys", "api.cli.keys", "keys_app", group=True),
    Command("directory", "api.cli.directory", "directory_app", group=True),
    Command("backup", "api.cli.backup", "backup_command"),
    Command("restore", "api.cli.backup", "restore_command"),
    Command("reconcile", "api.cli.backup", "reconcile_command"),
)
"""Every top-level command, in the order ``tongban --help`` lists them."""


def _root() -> None:
    """Tongban (通办): credential and audit ledger for cross-province e-government."""


def _help_as_flag(command_class: type[Any]) -> None:
    """Make ``command_class`` show its help option as the flag it is."""
    original = command_class.get_help_option

    def get_help_option(self: Any, ctx: Any) -> Any:
        option = original(self, ctx)
        if option is not None:
            option.metavar = ""
        return option

    setattr(command_class, "get_help_option", get_help_option)  # noqa: B010


# typer 0.29 (with its own copy of click) renders a metavar-less boolean flag as
# `--help <bool>`; every command's help option comes from these two classes.
_help_as_flag(typer.core.TyperCommand)
_help_as_flag(typer.core.TyperGroup)


def build_app(argv: Sequence[str]) -> typer.Typer:
    """The ``tongban`` app for ``argv`` (without the program name).

    When ``argv`` starts with a command's name, only that command is imported and
    registered; otherwise (help, completion, a mistyped name) all of them are.
    """
    app = typer.Typer(
        name="tongban", help=HELP, no_args_is_help=True, pretty_exceptions_enable=False
    )
    # A callback keeps the app a group even with one command registered: typer would
    # otherwise run that command as the whole program, without its name.
    app.callback()(_root)
    named = argv[0] if argv else None
    wanted = [c for c in COMMANDS if c.name == named] or list(COMMANDS)
    for command in wanted:
        target = getattr(importlib.import_module(command.module), command.attribute)
        if command.group:
            app.add_typer(target, name=command.name)
        else:
            app.command(command.name)(target)
    return app


INTERNAL_EXIT_STATUS = 70
"""Exit status of a command that stopped on an unexpected error (BSD ``EX_SOFTWARE``)."""


def _error_line(message: str) -> None:
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)


def main() -> None:
    """Entry point of the ``tongban`` console script."""
    argv = sys.argv[1:]
    try:
        status = build_app(argv)(args=argv, standalone_mode=False)
    except (click.exceptions.Abort, typer.Abort):
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001  (the last line between a bug and a traceback)
        if is_known_error(exc):
            _error_line(str(exc))
            sys.exit(2)
        if isinstance(exc, click.ClickException | typer.TyperException):
            # ``tongban`` or ``tongban wallet`` alone: the help was printed, nothing to add.
            if type(exc).__name__ != "NoArgsIsHelpError":
                _error_line(usage_line(exc, argv))
            sys.exit(USAGE_EXIT_STATUS)
        # A bug, not the user's error. Only the exception's type: its message or a
        # traceback could quote the personal data the command was handling.
        _error_line(
            f"internal error ({type(exc).__name__}): a bug in tongban; "
            "what the service acknowledged is kept, run the command again to go on"
        )
        sys.exit(INTERNAL_EXIT_STATUS)
    # Without standalone mode, click returns the status of typer.Exit instead of exiting.
    sys.exit(status if isinstance(status, int) else 0)

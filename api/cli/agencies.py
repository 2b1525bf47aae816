"""``tongban agencies``: the issuing agencies (颁发机构) of this province (docs/agencies.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from api.cli.common import (
    ConfigOption,
    DataDirOption,
    JsonOption,
    load_cli_settings,
    print_json_line,
    print_text,
)
from api.runtime.settings import Settings, SettingsError
from api.runtime.store import open_store
from credentials.errors import CredentialError
from credentials.zhengzhao.agencies import (
    RegisteredAgency,
    add_agency,
    list_agencies,
    retire_agency,
    set_templates,
)
from ledger.audit.events import format_time
from ledger.store.database import Database

agencies_app = typer.Typer(
    help="Register, list and retire the agencies this province issues certificates for.",
    no_args_is_help=True,
)

TemplateOption = Annotated[
    list[str],
    typer.Option(
        "--template",
        help="A template the agency may issue (see `tongban templates`); repeat for several.",
    ),
]
CodeArgument = Annotated[
    str, typer.Argument(help="The agency's 统一社会信用代码 (18 characters, GB 32100).")
]


@contextmanager
def _store(settings: Settings) -> Iterator[Database]:
    db = open_store(settings)
    try:
        yield db
    finally:
        db.close()


def describe(agency: RegisteredAgency) -> dict[str, object]:
    """The agency as JSON: ``code``, ``name``, ``templates``, ``createdAt``, ``retiredAt``."""
    retired = agency.retired_at_ms
    return {
        "code": agency.code,
        "name": agency.name,
        "templates": sorted(agency.templates),
        "createdAt": format_time(agency.created_at_ms),
        "retiredAt": None if retired is None else format_time(retired),
        "active": agency.active,
    }


def _line(agency: RegisteredAgency) -> str:
    state = "active" if agency.active else "retired"
    return f"{agency.code}  {state:<7}  {agency.name}  ({', '.join(sorted(agency.templates))})"


def _show(agency: RegisteredAgency, as_json: bool, verb: str) -> None:
    if as_json:
        print_json_line(describe(agency))
    else:
        print_text(f"{verb} {_line(agency)}")


@agencies_app.command("add")
def agencies_add(
    code: CodeArgument,
    name: Annotated[str, typer.Option("--name", help="The agency's name, e.g. 浙江省教育厅.")],
    template: TemplateOption,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register an agency that may issue the templates named (check character verified)."""
    settings = load_cli_settings(config, data_dir, None, None)
    try:
        with _store(settings) as db:
            agency = add_agency(db, code, name, template)
    except CredentialError as exc:
        raise SettingsError(f"agency not added: {exc}") from None
    _show(agency, as_json, "added")


@agencies_app.command("templates")
def agencies_templates(
    code: CodeArgument,
    template: TemplateOption,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replace the templates an agency may issue; takes effect at once."""
    settings = load_cli_settings(config, data_dir, None, None)
    try:
        with _store(settings) as db:
            agency = set_templates(db, code, template)
    except CredentialError as exc:
        raise SettingsError(f"agency not changed: {exc}") from None
    _show(agency, as_json, "changed")


@agencies_app.command("list")
def agencies_list(
    active: Annotated[
        bool, typer.Option("--active", help="Only agencies not retired.", metavar="")
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the agencies, in code order (retired ones too unless ``--active``)."""
    settings = load_cli_settings(config, data_dir, None, None)
    with _store(settings) as db:
        agencies = list_agencies(db, include_retired=not active)
    if as_json:
        print_json_line({"agencies": [describe(a) for a in agencies]})
        return
    for agency in agencies:
        print_text(_line(agency))


@agencies_app.command("retire")
def agencies_retire(
    code: CodeArgument,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Retire an agency: nothing more is issued for it, what it issued stays valid."""
    settings = load_cli_settings(config, data_dir, None, None)
    try:
        with _store(settings) as db:
            agency = retire_agency(db, code)
    except CredentialError as exc:
        raise SettingsError(f"agency not retired: {exc}") from None
    _show(agency, as_json, "retired")

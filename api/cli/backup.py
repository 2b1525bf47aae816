"""``tongban backup``, ``tongban restore``, ``tongban reconcile``: a province's backups.

The backup key is a file of 32 hex digits (``tongban backup --generate-key
--key-file PATH`` makes one, mode 0600) kept outside the data directory and
outside every backup; see docs/backup.md for how an operator keeps it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.common import (
    ChainOption,
    ConfigOption,
    DataDirOption,
    JsonOption,
    load_cli_settings,
    print_json_line,
    print_text,
)

__all__ = ["INCOMPLETE_EXIT_STATUS", "backup_command", "reconcile_command", "restore_command"]

INCOMPLETE_EXIT_STATUS = 1
"""Exit status of ``tongban reconcile`` when the chain knows of something the store lost."""

KeyFileOption = Annotated[
    Path,
    typer.Option(
        "--key-file",
        envvar="TONGBAN_BACKUP_KEY_FILE",
        help="The backup key: a file of 32 hex digits, kept outside the data directory "
        "(or TONGBAN_BACKUP_KEY_FILE).",
    ),
]


def _key(path: Path, data_dir: Path) -> bytes:
    from ledger.store.archive import load_key

    # A key inside the data directory would travel with the directory it protects.
    _refuse_inside(path, data_dir)
    return load_key(path)


def backup_command(
    key_file: KeyFileOption,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="The backup file to write (must not exist).")
    ] = None,
    generate_key: Annotated[
        bool,
        typer.Option(
            "--generate-key", help="Write a new random key to --key-file and stop.", metavar=""
        ),
    ] = False,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Back up the province (store and key files) into one SM4-encrypted file, online."""
    from api.runtime.settings import SettingsError
    from api.runtime.store import open_store
    from ledger.store.archive import new_key_file

    settings = load_cli_settings(config, data_dir, None, None)
    if generate_key:
        _refuse_inside(key_file, settings.data_dir)
        new_key_file(key_file)
        print_text(f"wrote a new backup key to {key_file}; keep it apart from the backups")
        return
    if out_file is None:
        raise SettingsError("--out names the backup file to write")
    _refuse_inside(out_file, settings.data_dir, what="backup file")
    key = _key(key_file, settings.data_dir)
    from api.province.backup.archive import back_up

    db = open_store(settings)
    try:
        summary = back_up(db, settings.data_dir, key, out_file)
    finally:
        db.close()
    if as_json:
        print_json_line(summary.to_json())
        return
    print_text(
        f"backed up {summary.credentials} credentials, {summary.audit_events} audit events and "
        f"{len(summary.files)} files to {summary.path} ({summary.size_bytes} bytes)"
    )


def _refuse_inside(path: Path, data_dir: Path, *, what: str = "backup key") -> None:
    from ledger.store.archive import ArchiveError

    resolved, home = path.resolve(), data_dir.resolve()
    if resolved == home or home in resolved.parents:
        raise ArchiveError(f"the {what} must not be inside the data directory {data_dir}")


def restore_command(
    from_file: Annotated[Path, typer.Option("--from", help="The backup file to restore.")],
    key_file: KeyFileOption,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Restore a backup as a new data directory; then run `tongban reconcile`.

    With TONGBAN_DATABASE_URL the store goes into that (empty) PostgreSQL database.
    """
    from api.province.backup.archive import restore
    from api.runtime.components import STORE_COMPONENTS
    from api.runtime.store import open_store

    settings = load_cli_settings(config, data_dir, None, None)
    key = _key(key_file, settings.data_dir)
    db = open_store(settings) if settings.database_url is not None else None
    try:
        summary = restore(from_file, key, settings.data_dir, db, STORE_COMPONENTS)
    finally:
        if db is not None:
            db.close()
    if as_json:
        print_json_line(summary.to_json())
        return
    print_text(
        f"restored {summary.to_json()['credentials']} credentials, "
        f"{summary.to_json()['auditEvents']} audit events and {len(summary.files)} files "
        f"into {summary.data_dir}; next: tongban reconcile"
    )


def reconcile_command(
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    chain: ChainOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compare a restored province with the chain (the service must be stopped).

    Reports anchors made after the snapshot, lost credential batches and lost
    audit events; exit status 1 when something is lost.
    """
    from api.province.backup.reconcile import reconcile
    from api.runtime.chain_start import start_chain
    from api.runtime.store import open_store

    settings = load_cli_settings(config, data_dir, chain, None)
    if settings.database_url is None and not settings.store_path.is_file():
        from api.runtime.settings import SettingsError

        raise SettingsError(
            f"no store in {settings.data_dir}: reconcile a data directory made by tongban restore"
        )
    started = start_chain(settings, province_keys=False)
    try:
        db = open_store(settings)
        try:
            report = reconcile(
                db,
                started.chain.client,
                started.addresses,
                settings.issuer_id,
                start_block=started.start_block,
                confirmations=settings.confirmations,
            )
        finally:
            db.close()
    finally:
        started.close()
    if as_json:
        print_json_line(report.to_json())
    else:
        for line in report.lines():
            print_text(line)
    if not report.complete:
        raise typer.Exit(INCOMPLETE_EXIT_STATUS)

"""A province's backup: its store (a logical snapshot) and its key files, in one archive.

``back_up`` runs while the service issues: the store is read in one ``read()``
transaction (``ledger.store.snapshot.dump``), then the files are read. Keys are
only ever added (a rotation writes a new keystore file, atomically), so every
key the snapshot refers to is among the files read after it.

What is in it, under the data directory: the store, ``deployment.json`` (where
the consortium's contracts are), ``keys/`` (the EVM account, the SM2 signing,
pseudonym and data keys: encrypted keystores) and, in a demo, ``demo/`` (tokens,
governor keystores; not the second demo province's store). What is not: the
chain node's files (``chain/``: the consortium's chain lives on its nodes),
``logs/``, ``metrics/`` and the lock.

``restore`` checks the key from the archive's header first (a wrong key writes
nothing), then builds the new data directory beside its final place and moves
it there only when every record was authenticated and every row count matched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.province.backup.components import MIGRATIONS
from ledger.store.archive import ArchiveError, ArchiveReader, ArchiveWriter
from ledger.store.database import Database
from ledger.store.migrations import Migration
from ledger.store.snapshot import Restorer, dump

__all__ = ["BackupSummary", "RestoreSummary", "back_up", "backed_up_files", "restore"]

_STORE_FILES = (".sqlite", ".sqlite-wal", ".sqlite-shm", ".sqlite-journal")
_MAX_FILE = 16 * 1024 * 1024


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds."""

    path: Path
    rows: dict[str, int]
    files: list[str]
    size_bytes: int

    @property
    def audit_events(self) -> int:
        """Audit events in the snapshot."""
        return self.rows.get("audit_events", 0)

    @property
    def credentials(self) -> int:
        """Issued credentials in the snapshot."""
        return self.rows.get("cred_issued", 0)

    def to_json(self) -> dict[str, Any]:
        """JSON form (no key material, no personal data: counts and file names)."""
        return {
            "archive": str(self.path),
            "sizeBytes": self.size_bytes,
            "credentials": self.credentials,
            "auditEvents": self.audit_events,
            "rows": self.rows,
            "files": self.files,
        }


@dataclass(frozen=True)
class RestoreSummary:
    """What a restore brought back."""

    data_dir: Path
    rows: dict[str, int]
    files: list[str]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "dataDir": str(self.data_dir),
            "credentials": self.rows.get("cred_issued", 0),
            "auditEvents": self.rows.get("audit_events", 0),
            "rows": self.rows,
            "files": self.files,
        }


def backed_up_files(data_dir: Path) -> list[str]:
    """The files of ``data_dir`` a backup takes, relative, sorted."""
    chosen: list[str] = []
    if (data_dir / "deployment.json").is_file():
        chosen.append("deployment.json")
    for folder in ("keys", "demo"):
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink() and not path.name.endswith(_STORE_FILES):
                chosen.append(path.relative_to(data_dir).as_posix())
    return chosen


def back_up(db: Database, data_dir: Path, key: bytes, out: Path) -> BackupSummary:
    """Write the province's backup to ``out`` (a new file) under ``key``."""
    with ArchiveWriter(out, key, label="tongban province backup") as writer:
        writer.write({"province": {"format": 1, "dialect": db.dialect}})
        rows = dump(db, writer.write)
        files = backed_up_files(data_dir)
        for name in files:
            path = data_dir / name
            data = path.read_bytes()
            if len(data) > _MAX_FILE:
                raise ArchiveError(f"{name} is larger than a key or record file can be")
            writer.write({"file": name, "mode": path.stat().st_mode & 0o777, "data": data})
        writer.write({"files": len(files)})
    return BackupSummary(out, rows, files, writer.bytes_written)


def _safe_name(name: str) -> Path:
    relative = Path(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ArchiveError(f"the backup names a file outside the data directory: {name!r}")
    return relative


def _records(reader: ArchiveReader) -> Iterator[Any]:
    records = reader.records()
    first = next(records, None)
    if not isinstance(first, dict) or "province" not in first:
        raise ArchiveError(f"{reader.path} is not a province backup")
    yield from records


def _check_target(data_dir: Path) -> None:
    if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
        raise ArchiveError(
            f"{data_dir} is not empty: restore into a new data directory "
            "(a restore never overwrites a province)"
        )


def restore(
    archive: Path,
    key: bytes,
    data_dir: Path,
    db: Database | None,
    components: Mapping[str, Sequence[Migration]] = MIGRATIONS,
) -> RestoreSummary:
    """Bring ``archive`` back as the new data directory ``data_dir``.

    ``db`` is the (empty) store to restore into when it is not the SQLite file
    of the data directory (a PostgreSQL database); None restores into
    ``data_dir/store.sqlite``. A snapshot of either engine restores into either.
    ``components``: every component's migrations (a snapshot naming another is refused).
    """
    from ledger.store.sqlite import SqliteDatabase

    with ArchiveReader(archive, key) as reader:  # a wrong key stops here, nothing written
        _check_target(data_dir)
        staging = data_dir.with_name(f".{data_dir.name}.restoring-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(mode=0o700, parents=True)
        store = db if db is not None else SqliteDatabase(staging / "store.sqlite")
        try:
            summary = _restore_records(reader, store, staging, components)
        except BaseException:
            if db is None:
                store.close()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if db is None:
            store.close()
    _check_target(data_dir)
    if data_dir.exists():
        data_dir.rmdir()
    staging.rename(data_dir)
    return RestoreSummary(data_dir, summary[0], summary[1])


def _restore_records(
    reader: ArchiveReader,
    store: Database,
    staging: Path,
    components: Mapping[str, Sequence[Migration]],
) -> tuple[dict[str, int], list[str]]:
    restorer = Restorer(store, components)
    restorer.check_empty()
    rows: dict[str, int] | None = None
    files: list[str] = []
    declared: int | None = None
    for record in _records(reader):
        if rows is None:
            restorer.add(record)
            if isinstance(record, dict) and "end" in record:
                rows = restorer.finish()
            continue
        if not isinstance(record, dict):
            raise ArchiveError(f"{reader.path} has a malformed record")
        if "file" in record:
            target = staging / _safe_name(str(record["file"]))
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, int(record["mode"]) & 0o700)
            with os.fdopen(fd, "wb") as handle:
                handle.write(bytes(record["data"]))
            files.append(str(record["file"]))
        elif "files" in record:
            declared = int(record["files"])
    if rows is None or declared != len(files):
        raise ArchiveError(f"{reader.path} ends early: it is incomplete")
    return rows, files

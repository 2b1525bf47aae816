"""Pinned outside reference data under ``tests/vectors`` matches its recorded provenance.

Every row of the PROVENANCE.md files of ``tests/vectors/vcalm``, ``w3c-di`` and ``rdf-canon``
names a copied file and the SHA-256 it had when copied; these tests check that each file is
still there, unchanged, and parses (JSON or YAML). Nothing outside the repository is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

VECTORS = Path(__file__).resolve().parent / "vectors"
PROVENANCE_FILES = (
    VECTORS / "vcalm" / "PROVENANCE.md",
    VECTORS / "w3c-di" / "PROVENANCE.md",
    VECTORS / "rdf-canon" / "PROVENANCE.md",
)
ROW = re.compile(r"^\| `(?P<file>[^`]+)` \|.*\| `(?P<sha256>[0-9a-f]{64})` \|$")


def _rows() -> list[tuple[Path, str]]:
    """Return (file path, recorded SHA-256) for every table row of the PROVENANCE files."""
    rows: list[tuple[Path, str]] = []
    for provenance in PROVENANCE_FILES:
        for line in provenance.read_text(encoding="utf-8").splitlines():
            match = ROW.match(line)
            if match is not None:
                rows.append((provenance.parent / match["file"], match["sha256"]))
    return rows


ROWS = _rows()


def _ids(rows: list[tuple[Path, str]]) -> list[str]:
    """Return readable test ids (paths relative to ``tests/vectors``)."""
    return [path.relative_to(VECTORS).as_posix() for path, _ in rows]


def test_provenance_files_list_the_vcalm_spec() -> None:
    """The PROVENANCE files exist and the VC API table lists ``oas.yaml``."""
    assert all(provenance.is_file() for provenance in PROVENANCE_FILES)
    assert VECTORS / "vcalm" / "oas.yaml" in {path for path, _ in ROWS}


def test_provenance_lists_every_data_integrity_suite_vector() -> None:
    """Each suite's signed vector and the rdf-canon poison entry are pinned."""
    pinned = {path.relative_to(VECTORS).as_posix() for path, _ in ROWS}
    assert {
        "w3c-di/vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json",
        "w3c-di/vc-di-eddsa/eddsa-jcs-2022/signedJCS.json",
        "w3c-di/vc-di-ecdsa/rec/example-15-ecdsa-rdfc-2019-p256-signed.json",
        "w3c-di/vc-di-ecdsa/rec/example-37-ecdsa-rdfc-2019-p384-signed.json",
        "w3c-di/vc-di-ecdsa/rec/example-59-ecdsa-jcs-2019-p256-signed.json",
        "w3c-di/vc-di-ecdsa/rec/example-70-ecdsa-jcs-2019-p384-signed.json",
        "w3c-di/ed25519-signature-2020/test-vectors.js",
        "rdf-canon/manifest-test074c.jsonld-fragment.txt",
    } <= pinned


def test_every_vector_file_is_pinned() -> None:
    """No file sits in the Data Integrity or rdf-canon folders without a provenance row."""
    pinned = {path for path, _ in ROWS}
    for folder in ("w3c-di", "rdf-canon"):
        for path in (VECTORS / folder).rglob("*"):
            if path.is_file() and path.name != "PROVENANCE.md":
                assert path in pinned, f"{path.relative_to(VECTORS)} has no provenance row"


@pytest.mark.parametrize(("path", "sha256"), ROWS, ids=_ids(ROWS))
def test_pinned_file_matches_recorded_sha256(path: Path, sha256: str) -> None:
    """The copied file exists and its bytes hash to the SHA-256 recorded when copied."""
    assert path.is_file(), f"missing pinned file {path}"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256


@pytest.mark.parametrize(("path", "sha256"), ROWS, ids=_ids(ROWS))
def test_pinned_file_parses(path: Path, sha256: str) -> None:
    """A ``.json`` file parses as JSON, a ``.yml``/``.yaml`` file as YAML; others are UTF-8."""
    del sha256
    text = path.read_bytes().decode("utf-8")
    assert text
    if path.suffix == ".json":
        json.loads(text)
    elif path.suffix in {".yml", ".yaml"}:
        assert yaml.safe_load(text) is not None

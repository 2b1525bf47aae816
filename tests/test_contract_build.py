"""The committed contract artifacts are reproducible, and the check notices any change."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_contracts", REPO / "scripts" / "build_contracts.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def fresh_artifacts(build_script: ModuleType) -> dict[str, Any]:
    artifacts: dict[str, Any] = build_script.compile_sources()
    return artifacts


def test_committed_artifacts_match_a_fresh_compile(
    build_script: ModuleType, fresh_artifacts: dict[str, Any]
) -> None:
    assert build_script.check(fresh_artifacts) == []
    info = fresh_artifacts["build-info.json"]
    assert info["settings"]["evmVersion"] == "shanghai"
    assert info["settings"]["metadata"] == {"bytecodeHash": "none"}
    assert info["compiler"]["version"].startswith("0.8.28+")
    assert info["openzeppelin"] == "5.4.0"
    assert all(not name.startswith("/") for name in info["sources"])


def test_flipping_one_byte_of_an_artifact_fails_the_check(
    build_script: ModuleType, fresh_artifacts: dict[str, Any], tmp_path: Path
) -> None:
    copy = tmp_path / "build"
    shutil.copytree(REPO / "contracts" / "build", copy)
    target = copy / "ChainProbe.json"
    data = bytearray(target.read_bytes())
    position = data.index(b'"bytecode": "0x') + len(b'"bytecode": "0x') + 10
    data[position] = ord("0") if data[position] != ord("0") else ord("1")
    target.write_bytes(bytes(data))
    problems = build_script.check(fresh_artifacts, copy)
    assert problems == ["ChainProbe.json: differs from a fresh compile"]


def test_a_stale_or_missing_artifact_fails_the_check(
    build_script: ModuleType, fresh_artifacts: dict[str, Any], tmp_path: Path
) -> None:
    copy = tmp_path / "build"
    shutil.copytree(REPO / "contracts" / "build", copy)
    (copy / "ChainProbe.json").unlink()
    (copy / "Removed.json").write_text("{}")
    problems = build_script.check(fresh_artifacts, copy)
    assert "ChainProbe.json: missing from contracts/build" in problems
    assert "Removed.json: no source produces it" in problems

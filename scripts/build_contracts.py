"""Compile the Solidity sources into the committed artifacts, or check that they match.

    python scripts/build_contracts.py          # rewrite contracts/build/*.json
    python scripts/build_contracts.py --check  # recompile; exit 1 if anything differs

The compiler is the pinned npm ``solc`` (solcjs) behind ``tools/solc``, driven
through py-solc-x's ``compile_standard``. Source names are relative to the
repository root and ``bytecodeHash`` is ``none``, so a clone in any folder
reproduces the artifacts byte for byte.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import solcx

REPO = Path(__file__).resolve().parent.parent
SOURCES = REPO / "contracts" / "src"
BUILD = REPO / "contracts" / "build"
SOLC = REPO / "tools" / "solc"
SOLC_VERSION = "0.8.28"

SETTINGS: dict[str, Any] = {
    "evmVersion": "shanghai",
    "optimizer": {"enabled": True, "runs": 200},
    "metadata": {"bytecodeHash": "none"},
    "outputSelection": {
        "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]},
    },
}


def source_names() -> list[str]:
    """Relative source names of every contract under ``contracts/src``, sorted."""
    return sorted(p.relative_to(REPO).as_posix() for p in SOURCES.rglob("*.sol"))


def compile_sources() -> dict[str, dict[str, Any]]:
    """Compile every source and return the artifact documents keyed by file name."""
    names = source_names()
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": (REPO / name).read_text("utf-8")} for name in names},
        "settings": SETTINGS,
    }
    output = solcx.compile_standard(standard_input, solc_binary=SOLC)
    version = str(solcx.wrapper.get_version_str_from_solc_binary(SOLC))
    if not version.startswith(SOLC_VERSION + "+"):
        raise SystemExit(f"tools/solc reports {version}, expected {SOLC_VERSION}")

    artifacts: dict[str, dict[str, Any]] = {}
    for source_name in names:
        for contract_name, out in sorted(output["contracts"].get(source_name, {}).items()):
            bytecode = out["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and abstract contracts have no code to deploy
            artifacts[f"{contract_name}.json"] = {
                "contractName": contract_name,
                "sourceName": source_name,
                "abi": out["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + out["evm"]["deployedBytecode"]["object"],
            }
    # Interfaces carry the custom errors and events other code decodes: keep their ABIs too.
    for source_name in names:
        for contract_name, out in sorted(output["contracts"].get(source_name, {}).items()):
            key = f"{contract_name}.json"
            if key not in artifacts and out["abi"]:
                artifacts[key] = {
                    "contractName": contract_name,
                    "sourceName": source_name,
                    "abi": out["abi"],
                    "bytecode": "0x",
                    "deployedBytecode": "0x",
                }
    artifacts["build-info.json"] = {
        "compiler": {"name": "solcjs", "version": version},
        "settings": SETTINGS,
        "sources": {name: hashlib.sha256((REPO / name).read_bytes()).hexdigest() for name in names},
        "openzeppelin": _package_version("@openzeppelin/contracts"),
    }
    return artifacts


def _package_version(package: str) -> str:
    manifest = REPO / "node_modules" / package / "package.json"
    return str(json.loads(manifest.read_text("utf-8"))["version"])


def render(document: dict[str, Any]) -> str:
    """Serialise an artifact exactly as it is committed."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def check(artifacts: dict[str, dict[str, Any]], build_dir: Path = BUILD) -> list[str]:
    """Return one line per artifact that differs from, or is missing in, ``build_dir``."""
    problems = []
    committed = {p.name for p in build_dir.glob("*.json")}
    for name, document in sorted(artifacts.items()):
        path = build_dir / name
        if not path.exists():
            problems.append(f"{name}: missing from contracts/build")
        elif path.read_text("utf-8") != render(document):
            problems.append(f"{name}: differs from a fresh compile")
    problems.extend(f"{name}: no source produces it" for name in sorted(committed - set(artifacts)))
    return problems


def main(argv: list[str] | None = None) -> int:
    """Build or check the contract artifacts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if artifacts differ")
    args = parser.parse_args(argv)
    artifacts = compile_sources()
    if args.check:
        problems = check(artifacts)
        for line in problems:
            print(f"contracts/build/{line}", file=sys.stderr)
        if problems:
            print(
                "contract artifacts are not reproducible: run "
                "`.venv/bin/python scripts/build_contracts.py` and commit contracts/build/",
                file=sys.stderr,
            )
            return 1
        print(f"contract artifacts reproduce ({len(artifacts)} files)")
        return 0
    BUILD.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in BUILD.glob("*.json")) - set(artifacts):
        (BUILD / stale).unlink()
    for name, document in artifacts.items():
        (BUILD / name).write_text(render(document), "utf-8")
    print(f"wrote {len(artifacts)} artifacts to contracts/build/")
    return 0


if __name__ == "__main__":
    sys.exit(main())

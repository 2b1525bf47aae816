"""Compiled contract artifacts committed under ``contracts/build``.

The service reads only these files: no compiler at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_utils.abi import function_signature_to_4byte_selector

from ledger.chain.errors import ChainConfigError


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: its ABI and creation bytecode."""

    name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode: bytes

    @property
    def deployable(self) -> bool:
        """Whether the artifact has creation code (interfaces have none)."""
        return bool(self.bytecode)

    def error_selectors(self) -> dict[bytes, dict[str, Any]]:
        """Map each custom error's 4-byte selector to its ABI entry."""
        table: dict[bytes, dict[str, Any]] = {}
        for entry in self.abi:
            if entry.get("type") == "error":
                signature = f"{entry['name']}({','.join(abi_type(i) for i in entry['inputs'])})"
                table[function_signature_to_4byte_selector(signature)] = entry
        return table


def abi_type(param: dict[str, Any]) -> str:
    """The canonical ABI type string of a parameter (tuples expanded)."""
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@cache
def load_artifact(name: str) -> Artifact:
    """Load the committed artifact of contract ``name`` (e.g. ``"ChainProbe"``)."""
    path = resources.files("contracts").joinpath("build", f"{name}.json")
    try:
        document = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ChainConfigError(
            f"no compiled artifact for contract {name!r} in contracts/build; "
            "run `make contracts` and commit the result"
        ) from None
    return Artifact(
        name=document["contractName"],
        source_name=document["sourceName"],
        abi=document["abi"],
        bytecode=bytes.fromhex(document["bytecode"].removeprefix("0x")),
    )


CONSORTIUM_ARTIFACTS = ("IssuerRegistry", "CredentialAnchor", "AuditAnchor")
"""The deployable consortium contracts, by artifact name."""


@cache
def error_parameters() -> dict[str, tuple[tuple[str, str], ...]]:
    """Each consortium custom error's parameters as (name, ABI type), by error name.

    Read from the committed artifacts; the named revert errors use it to label
    their arguments.
    """
    params: dict[str, tuple[tuple[str, str], ...]] = {}
    for artifact in CONSORTIUM_ARTIFACTS:
        for entry in load_artifact(artifact).abi:
            if entry.get("type") == "error":
                params[str(entry["name"])] = tuple(
                    (str(i["name"]), str(i["type"])) for i in entry["inputs"]
                )
    return params

"""Fixtures of the foreign Data Integrity tests: the pinned W3C vectors, loaded and resolved."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from credentials.suites import StaticMethods

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "w3c-di"
ISSUER = "https://vc.example/issuers/5678"
ED25519 = json.loads((VECTORS / "vc-di-eddsa" / "keyPair.json").read_text())["publicKeyMultibase"]
P256 = json.loads((VECTORS / "vc-di-ecdsa" / "p256KeyPair.json").read_text())["publicKeyMultibase"]
P384 = json.loads((VECTORS / "vc-di-ecdsa" / "p384KeyPair.json").read_text())["publicKeyMultibase"]


@dataclass(frozen=True)
class Vector:
    """One signed vector: its name, the document and the resolver its method needs."""

    name: str
    document: dict[str, Any]
    resolver: StaticMethods


def _json(relative: str) -> dict[str, Any]:
    value = json.loads((VECTORS / relative).read_text(encoding="utf-8"))
    assert isinstance(value, dict)
    return value


def ed25519_2020_fixture() -> dict[str, Any]:
    """The ``signedFixture`` JSON literal of digitalbazaar's pinned ``test-vectors.js``."""
    text = (VECTORS / "ed25519-signature-2020" / "test-vectors.js").read_text(encoding="utf-8")
    match = re.search(r"export const signedFixture = (\{.*?\n\});", text, re.S)
    assert match is not None
    value = json.loads(match.group(1))
    assert isinstance(value, dict)
    return value


def _https_methods() -> StaticMethods:
    """The vc-di-eddsa vectors name ``https://vc.example/issuers/5678#<key>``: a fixed table."""
    return StaticMethods({f"{ISSUER}#{ED25519}": (ISSUER, ED25519)})


def all_vectors() -> list[Vector]:
    """Every signed vector of every supported suite."""
    https = _https_methods()
    return [
        Vector("eddsa-rdfc-2022", _json("vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json"), https),
        Vector("eddsa-jcs-2022", _json("vc-di-eddsa/eddsa-jcs-2022/signedJCS.json"), https),
        Vector(
            "ecdsa-rdfc-2019-p256",
            _json("vc-di-ecdsa/rec/example-15-ecdsa-rdfc-2019-p256-signed.json"),
            https,
        ),
        Vector(
            "ecdsa-rdfc-2019-p384",
            _json("vc-di-ecdsa/rec/example-37-ecdsa-rdfc-2019-p384-signed.json"),
            https,
        ),
        Vector(
            "ecdsa-jcs-2019-p256",
            _json("vc-di-ecdsa/rec/example-59-ecdsa-jcs-2019-p256-signed.json"),
            https,
        ),
        Vector(
            "ecdsa-jcs-2019-p384",
            _json("vc-di-ecdsa/rec/example-70-ecdsa-jcs-2019-p384-signed.json"),
            https,
        ),
        Vector("Ed25519Signature2020", ed25519_2020_fixture(), https),
    ]


@pytest.fixture(params=all_vectors(), ids=lambda vector: vector.name)
def vector(request: pytest.FixtureRequest) -> Vector:
    """Each signed vector in turn."""
    value = request.param
    assert isinstance(value, Vector)
    return value

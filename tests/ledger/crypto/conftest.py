"""Fixtures for the ledger.crypto tests: vectors, backends, and the openssl command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ledger.crypto import sm2
from ledger.crypto._backend import Sm2Backend
from ledger.crypto._reference import insecure_reference_signing_backend

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "sm" / "vectors.json"


@cache
def load_vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text("utf-8"))
    return data


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    vectors = load_vectors()
    if "sm3_vector" in metafunc.fixturenames:
        entries = vectors["sm3"]
        metafunc.parametrize("sm3_vector", entries, ids=[f"sm3-{i}" for i in range(len(entries))])
    if "sign_vector" in metafunc.fixturenames:
        entries = vectors["sm2_sign"]
        metafunc.parametrize("sign_vector", entries, ids=[e["curve"] for e in entries])
    if "verify_case" in metafunc.fixturenames:
        cases = vectors["sm2_verify_digest"]["cases"]
        metafunc.parametrize("verify_case", cases, ids=[f"case-{i}" for i in range(len(cases))])


@pytest.fixture(scope="session")
def sm_vectors() -> dict[str, Any]:
    return load_vectors()


@pytest.fixture(scope="session")
def openssl_backend() -> Sm2Backend:
    return sm2.default_backend()


@pytest.fixture(scope="session")
def reference_backend() -> Sm2Backend:
    return insecure_reference_signing_backend()


@pytest.fixture(params=["openssl", "reference"])
def backend(request: pytest.FixtureRequest) -> Sm2Backend:
    if request.param == "openssl":
        return sm2.default_backend()
    return insecure_reference_signing_backend()


@pytest.fixture(scope="session")
def openssl_cli(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Path of an ``openssl`` binary that can sign with SM2 and a distid; skip if there is none."""
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("the openssl command line is not installed")
    key = tmp_path_factory.mktemp("probe") / "key.pem"
    probe = subprocess.run(
        [path, "genpkey", "-algorithm", "SM2", "-out", str(key)],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        pytest.skip(f"the openssl command line lacks SM2: {probe.stderr.decode(errors='replace')}")
    return path

"""``tongban serve --role``: a split role that cannot join its province says why in one line.

Nothing is started before these refusals (no chain node, no store, no socket):
``--role api`` and ``--role writer`` join a provisioned province on a chain
started elsewhere, by the configured addresses, with the province's keys.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.processes import TONGBAN, tongban_env

ADDRESSES = {
    "TONGBAN_REGISTRY": "0x" + "11" * 20,
    "TONGBAN_CREDENTIAL_ANCHOR": "0x" + "22" * 20,
    "TONGBAN_AUDIT_ANCHOR": "0x" + "33" * 20,
}


def _serve(data: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, "serve", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env=tongban_env(**settings),
        timeout=60,
        check=False,
    )


def _with_keys(data: Path) -> Path:
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "signing-key-1.json").write_text("{}")
    return data


@pytest.mark.parametrize(
    ("args", "settings", "message"),
    [
        (["--role", "boss"], {}, "--role must be one of all, api, writer"),
        (["--role", "api"], {}, "--role api joins a chain started elsewhere"),
        (
            ["--role", "writer", "--chain", "http://127.0.0.1:9"],
            {},
            "--role writer needs the province's contract addresses; TONGBAN_REGISTRY is not set",
        ),
        (
            ["--role", "api", "--chain", "http://127.0.0.1:9"],
            {**ADDRESSES, "TONGBAN_AUDIT_ANCHOR": "0x12"},
            "TONGBAN_AUDIT_ANCHOR is not an EVM address",
        ),
    ],
)
def test_a_split_role_without_what_it_joins_is_refused_in_one_line(
    tmp_path: Path, args: list[str], settings: dict[str, str], message: str
) -> None:
    result = _serve(_with_keys(tmp_path / "data"), *args, **settings)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: {message}" in result.stderr


def test_a_host_without_the_provinces_keys_is_refused_before_it_makes_any(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    result = _serve(data, "--role", "api", "--chain", "http://127.0.0.1:9", **ADDRESSES)
    assert result.returncode == 2, result.stderr
    assert "needs the province's keys" in result.stderr
    assert not (data / "keys").exists()


def test_a_writer_without_the_provinces_evm_account_is_refused(tmp_path: Path) -> None:
    data = _with_keys(tmp_path / "data")
    result = _serve(data, "--role", "writer", "--chain", "http://127.0.0.1:9", **ADDRESSES)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "every writer of a province signs with the same account" in result.stderr
    assert not (data / "keys" / "evm-operator.json").exists()

"""Usage errors: one ``error:`` line, exit status 2, no traceback, no echo of a typed value.

Each row is a real ``tongban`` process. The typed values are chosen to be
recognisable (``fraud``, ``abc``, ``bogus``) so the test can tell that none
of them comes back in the output.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers.processes import TONGBAN, tongban_env

CASES = [
    (["issue", "--nosuch"], "no such option --nosuch", ()),
    (["verify"], "missing argument DOCUMENT", ()),
    (
        ["revoke", "--reason", "fraud", "0" * 64],
        "invalid value for --reason: use one of",
        ("fraud",),
    ),
    (["issue", "--batch-size", "0", "x.jsonl"], "invalid value for --batch-size", ()),
    (["wallet", "history", "--url"], "option --url needs a value", ()),
    (["chain", "status", "--chain-id", "abc"], "invalid value for --chain-id", ("abc",)),
    (["clients", "create", "--role", "bogus", "c1"], "invalid value for --role", ("bogus",)),
    (["nosuch"], "no such command", ("nosuch",)),
    (["audit", "export"], "missing option --out", ()),
    (["wallet", "present"], "missing", ()),
]


@pytest.mark.parametrize(
    ("args", "expected", "secrets"), CASES, ids=[" ".join(c[0]) for c in CASES]
)
def test_a_usage_error_is_one_line_and_exit_status_2(
    args: list[str], expected: str, secrets: tuple[str, ...], tmp_path: Path
) -> None:
    result = subprocess.run(
        [TONGBAN, *args],
        capture_output=True,
        text=True,
        env=tongban_env(TONGBAN_DATA_DIR=str(tmp_path / "data")),
        cwd=tmp_path,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert expected in lines[0]
    for typed in secrets:
        assert typed not in result.stderr + result.stdout


def test_flags_show_no_value_placeholder_in_help() -> None:
    result = subprocess.run(
        [TONGBAN, "clients", "list", "--help"],
        capture_output=True,
        text=True,
        env=tongban_env(COLUMNS="100"),
        timeout=60,
    )
    assert result.returncode == 0
    json_line = next(line for line in result.stdout.splitlines() if "--json" in line)
    assert "<bool>" not in json_line

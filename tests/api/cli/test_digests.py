"""Digests on the command line (``tongban revoke``): whole, or a unique prefix of 8+ hex.

In process for the rules, and as real ``tongban revoke`` processes for the
error lines: each refusal is one ``error:`` line and exit status 2, sent
nowhere (the API URL is a closed port) and never repeating what was typed.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import click
import pytest

from api.cli.digests import digest_arguments, issued_digests, resolve_digests
from api.cli.options import InputFileError
from tests.helpers.processes import TONGBAN, tongban_env

A = "6405b0e5" + "a" * 56
B = "6405b0e5" + "b" * 56
C = "c" * 64


def test_arguments_are_whole_digests_or_prefixes_and_read_from_stdin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{B}\n\n6405b0e5\n"))
    assert digest_arguments([A, "-"]) == [A, B, "6405b0e5"]
    for bad in ("A" * 64, "6405b0e", "c" * 65, "6405b0eg"):
        with pytest.raises(click.BadParameter, match="its first 8 or more"):
            digest_arguments([bad])
    with pytest.raises(click.BadParameter, match="at least one"):
        digest_arguments([])


def test_a_prefix_resolves_to_the_one_digest_it_names() -> None:
    issued = {A, B, C}
    assert resolve_digests([A[:12], "cccccccc", C], issued) == [A, C]
    assert resolve_digests([A, C], None) == [A, C]  # whole digests need no records


def test_an_ambiguous_unknown_or_unresolvable_prefix_is_refused_by_position() -> None:
    with pytest.raises(InputFileError) as ambiguous:
        resolve_digests([C, "6405b0e5"], {A, B, C})
    assert str(ambiguous.value) == (
        "digest 2 of 2 matches 2 credentials in --issued: give more of it"
    )
    assert A not in str(ambiguous.value)
    with pytest.raises(InputFileError, match=r"the digest matches no credential in --issued \(3"):
        resolve_digests(["12345678"], {A, B, C})
    with pytest.raises(InputFileError, match="the digest is a prefix: give the whole digest"):
        resolve_digests(["6405b0e5"], None)


def test_issued_records_are_out_directories_and_json_output(tmp_path: Path) -> None:
    directory = tmp_path / "issued"
    directory.mkdir()
    (directory / f"{A}.json").write_text("{}")
    (directory / "notes.json").write_text("{}")
    answers = tmp_path / "issued.jsonl"
    lines = [
        {"digest": B, "credential": {"type": ["VerifiableCredential"]}},
        {"digest": C, "file": "x.json", "anchoring": {"digest": C, "state": "pending"}},
    ]
    answers.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert issued_digests([directory, answers]) == {A, B, C}
    credential_only = tmp_path / "credentials.jsonl"
    credential_only.write_text('{"type": ["VerifiableCredential"]}\n')
    with pytest.raises(InputFileError, match="line 1 has no digest"):
        issued_digests([credential_only])
    with pytest.raises(InputFileError, match="does not exist"):
        issued_digests([tmp_path / "absent.jsonl"])


def _revoke(*args: str) -> subprocess.CompletedProcess[str]:
    env = tongban_env(TONGBAN_API_URL="http://127.0.0.1:9", TONGBAN_API_TOKEN="tb_x")
    return subprocess.run(
        [TONGBAN, "revoke", *args, "--reason", "superseded"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_revoke_refuses_a_bad_prefix_in_one_line_without_echo(tmp_path: Path) -> None:
    directory = tmp_path / "issued"
    directory.mkdir()
    for digest in (A, B):
        (directory / f"{digest}.json").write_text("{}")
    typed = "6405b0e5"
    cases = [
        ([typed, "--issued", str(directory)], "error: the digest matches 2 credentials"),
        (["110101199003071234", "--issued", str(directory)], "error: the digest matches no"),
        ([typed], "error: the digest is a prefix"),
        (["110101199003071234x"], "error: invalid value for DIGEST"),
    ]
    for args, expected in cases:
        result = _revoke(*args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(expected), lines[0]
        assert args[0] not in result.stderr + result.stdout
        assert A not in result.stderr

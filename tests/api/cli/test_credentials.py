"""``tongban issue``, ``verify``, ``revoke`` and ``audit export`` as real processes.

Zhejiang issues (batches, a refused line), Guangdong verifies a credential file,
Zhejiang revokes with ``--wait`` while the test drives its writer, and an auditor
exports Zhejiang's log and checks it against the chain. The helpers that need no
province are tested in process.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.cli.credentials import ReasonCode, _batch_refusal, chunk_key, send_with_retries
from api.cli.options import InputFileError, read_json, read_json_lines
from api.client.remote import RemoteApiError
from api.province.clients import Role
from api.runtime.settings import SettingsError, load_settings
from credentials.holder import Holder
from credentials.status import StatusReason
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province


def _url(province: ServedProvince) -> str:
    return f"http://127.0.0.1:{province.server.port}"


def _client(province: ServedProvince, role: Role) -> dict[str, str]:
    return {"TONGBAN_API_URL": _url(province), "TONGBAN_API_TOKEN": province.tokens[role]}


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(**env), timeout=90
    )


# -- in process -----------------------------------------------------------------------------


def test_reason_codes_are_the_status_reasons() -> None:
    assert [r.value for r in ReasonCode] == [r.name.lower() for r in StatusReason]


def test_documents_are_read_as_strict_ijson(tmp_path: Path) -> None:
    duplicate = tmp_path / "dup.json"
    duplicate.write_text('{"a": 1, "a": 2}')
    with pytest.raises(InputFileError, match="not acceptable JSON") as raised:
        read_json(str(duplicate))
    assert "1" not in str(raised.value).replace(str(duplicate), "")
    array = tmp_path / "array.json"
    array.write_text("[1]")
    with pytest.raises(InputFileError, match="one JSON object"):
        read_json(str(array))
    with pytest.raises(InputFileError, match="does not exist"):
        read_json(str(tmp_path / "absent.json"))
    lines = tmp_path / "batch.jsonl"
    lines.write_text('{"a": 1}\n\n{"b": 2}\n{"c": NaN}\n')
    reader = read_json_lines(lines)
    assert next(reader) == (1, {"a": 1})
    assert next(reader) == (3, {"b": 2})
    with pytest.raises(InputFileError, match="line 4"):
        next(reader)


def test_a_refused_batch_names_file_lines() -> None:
    refusal = RemoteApiError(
        422,
        "validation-failed",
        "the request breaks a field rule",
        (("/requests/1/claims/degreeLevel", "must be one of the template's values"),),
    )
    mapped = _batch_refusal(refusal, [7, 9, 12], issued=4)
    assert mapped.errors == (
        ("line 9 /claims/degreeLevel", "must be one of the template's values"),
    )
    assert "lines 7-12" in str(mapped)
    assert "4 credentials issued before it" in str(mapped)


def test_chunk_keys_follow_the_lines_and_their_content() -> None:
    chunk: list[tuple[int, dict[str, Any]]] = [
        (3, {"template": "t", "claims": {"a": 1, "b": 2}}),
        (4, {"template": "u"}),
    ]
    key = chunk_key(chunk)
    assert key.startswith("batch-")
    assert len(key) == 70
    reordered: list[tuple[int, dict[str, Any]]] = [
        (3, {"claims": {"b": 2, "a": 1}, "template": "t"}),
        (4, {"template": "u"}),
    ]
    assert chunk_key(reordered) == key
    assert chunk_key([(5, chunk[0][1]), (6, chunk[1][1])]) != key
    assert chunk_key([chunk[0], (4, {"template": "v"})]) != key
    assert chunk_key(chunk[:1]) != key


def test_requests_without_an_answer_are_sent_again_with_backoff() -> None:
    sleeps: list[float] = []
    heard: list[str] = []
    failures = [RemoteApiError(0, "unreachable", "gone"), RemoteApiError(503, "unavailable", "x")]

    def send() -> str:
        if failures:
            raise failures.pop(0)
        return "answer"

    assert send_with_retries(send, 6, sleep=sleeps.append, notify=heard.append) == "answer"
    assert sleeps == [0.5, 1.0]
    assert len(heard) == 2
    assert "503 unavailable" in heard[1]

    calls: list[int] = []

    def refused() -> str:
        calls.append(1)
        raise RemoteApiError(409, "idempotency-key-reused", "another request")

    with pytest.raises(RemoteApiError, match="another request"):
        send_with_retries(refused, 6, sleep=sleeps.append)
    assert len(calls) == 1

    def down() -> str:
        calls.append(1)
        raise RemoteApiError(0, "unreachable", "gone")

    calls.clear()
    sleeps.clear()
    with pytest.raises(RemoteApiError, match="gone"):
        send_with_retries(down, 6, sleep=sleeps.append)
    assert len(calls) == 7
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


# -- real processes -------------------------------------------------------------------------


@pytest.fixture
def provinces(world: World, tmp_path: Path) -> Iterator[tuple[ServedProvince, ServedProvince]]:
    with (
        served_province(world, tmp_path, ZJ) as zj,
        served_province(world, tmp_path, GD) as gd,
    ):
        yield zj, gd


def _batch_file(path: Path, count: int, *, bad_line: int | None = None) -> Path:
    lines = []
    for n in range(1, count + 1):
        claims: dict[str, Any] = dict(DEGREE_CLAIMS)
        if n == bad_line:
            claims["degreeLevel"] = "honorary-emperor"
        body = {"template": "degree-certificate", "holder": Holder.generate().did, "claims": claims}
        lines.append(json.dumps(body, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_issue_batches_verify_revoke_and_export(
    provinces: tuple[ServedProvince, ServedProvince], world: World, tmp_path: Path
) -> None:
    zj, gd = provinces
    issuer, verifier = _client(zj, Role.ISSUER), _client(gd, Role.VERIFIER)

    # Five requests in batches of two: three API calls, five files, one JSON line each.
    batch = _batch_file(tmp_path / "batch.jsonl", 5)
    out_dir = tmp_path / "issued"
    args = ["--batch", str(batch), "--batch-size", "2", "--out", str(out_dir), "--json"]
    issued = _run("issue", *args, **issuer)
    assert issued.returncode == 0, issued.stderr
    results = [json.loads(line) for line in issued.stdout.splitlines()]
    assert len(results) == 5
    digests = [r["digest"] for r in results]
    assert sorted(p.stem for p in out_dir.glob("*.json")) == sorted(digests)
    assert all(r["anchoring"] == {"digest": r["digest"], "state": "pending"} for r in results)

    # A bad fourth line: lines 1-2 are issued, the batch of lines 3-4 is refused by name.
    refused_batch = _batch_file(tmp_path / "bad.jsonl", 5, bad_line=4)
    refused = _run("issue", "--batch", str(refused_batch), "--batch-size", "2", **issuer)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: ")
    assert "lines 3-4" in refused.stderr
    assert "2 credentials issued before it" in refused.stderr
    assert "line 4 /claims/degreeLevel" in refused.stderr
    assert "honorary-emperor" not in refused.stderr
    assert len(refused.stdout.splitlines()) == 2  # the issued ones were not lost

    # Once anchored, the issuer's copy carries the anchor proof; Guangdong finds it VALID.
    zj.anchor_all()
    gd.sync()
    read = zj.request("GET", f"/credentials/{digests[0]}", Role.ISSUER, headers=PERSONAL)
    assert read.status == 200, read.text
    credential_file = tmp_path / "anchored.json"
    credential_file.write_text(json.dumps(read.json()["credential"], ensure_ascii=False))
    valid = _run("verify", str(credential_file), **verifier)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "credential: VALID" in valid.stdout

    # Revoke two, named by prefixes found in --out's directory, with --wait: the command
    # follows the request while the writer works.
    prefixes = [d[:10] for d in digests[:2]]
    revoke = ["revoke", *prefixes, "--issued", str(out_dir), "--reason", "superseded"]
    waiting = subprocess.Popen(
        [TONGBAN, *revoke, "--wait", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=tongban_env(**issuer),
    )
    deadline = time.monotonic() + 60
    while waiting.poll() is None and time.monotonic() < deadline:
        zj.anchor_all()
        time.sleep(0.2)
    stdout, stderr = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, stderr
    revoked = json.loads(stdout)
    assert revoked["action"] == "revoke"
    assert [(r["count"], r["state"], r["reason"]) for r in revoked["requests"]] == [
        (2, "final", "superseded")
    ]
    gd.sync()
    invalid = _run("verify", str(credential_file), "--json", **verifier)
    assert invalid.returncode == 1, invalid.stderr
    result = json.loads(invalid.stdout)
    assert result["kind"] == "credential"
    assert result["verdict"] == "INVALID"
    assert next(c for c in result["checks"] if c["name"] == "status")["status"] == "INVALID"

    # Reinstating a revoked credential is refused by the issuer: one error line, status 2.
    reinstated = _run("revoke", digests[0], "--reinstate", "--reason", "review_cleared", **issuer)
    assert reinstated.returncode == 2
    assert "status-transition-refused" in reinstated.stderr

    # An auditor exports Zhejiang's log and checks it against the chain.
    zj.parts.checkpoints.maybe_checkpoint(force=True)
    zj.anchor_all()
    export = tmp_path / "export.jsonl"
    exported = _run("audit", "export", "--out", str(export), "--json", **_client(zj, Role.AUDITOR))
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["lines"] == len(export.read_text().splitlines())
    assert export.stat().st_mode & 0o077 == 0
    text = export.read_text()
    assert text.count('"credential.issue"') == 7
    assert DEGREE_CLAIMS["holderName"] not in text
    chain = ["--chain", world.client.url, "--chain-id", str(world.client.chain_id)]
    contracts = ["--audit-anchor", world.audit.address, "--registry", world.registry.address]
    checked = _run(
        "audit", "verify", str(export), "--json", "--data-dir", str(tmp_path), *chain, *contracts
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["valid"] is True
    assert report["checkpointsChecked"] >= 1


def _stored(province: ServedProvince) -> int:
    with province.parts.db.read() as tx:
        row = tx.fetchone("SELECT COUNT(*) FROM cred_issued")
    assert row is not None
    return int(row[0])


def test_a_batch_run_again_issues_nothing_twice(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path, ZJ) as zj:
        issuer = _client(zj, Role.ISSUER)
        batch = _batch_file(tmp_path / "batch.jsonl", 5, bad_line=4)
        good = batch.read_text().splitlines()
        args = ["issue", "--batch", str(batch), "--batch-size", "2", "--json"]
        refused = _run(*args, **issuer)
        assert refused.returncode == 2
        first = [json.loads(line)["digest"] for line in refused.stdout.splitlines()]
        assert len(first) == 2
        assert _stored(zj) == 2
        # Line 4 fixed: lines 1-2 keep their key and are answered again, not issued again.
        good[3] = good[3].replace("honorary-emperor", DEGREE_CLAIMS["degreeLevel"])
        batch.write_text("\n".join(good) + "\n", encoding="utf-8")
        resumed = _run(*args, "--resume", **issuer)
        assert resumed.returncode == 0, resumed.stderr
        digests = [json.loads(line)["digest"] for line in resumed.stdout.splitlines()]
        assert digests[:2] == first
        assert len(set(digests)) == 5
        assert _stored(zj) == 5
        again = _run(*args, **issuer)
        assert [json.loads(line)["digest"] for line in again.stdout.splitlines()] == digests
        assert _stored(zj) == 5
        # Another batch size makes other chunks: new keys, new credentials (documented).
        other = _run("issue", "--batch", str(batch), "--batch-size", "5", "--json", **issuer)
        assert other.returncode == 0, other.stderr
        assert _stored(zj) == 10
        misuse = _run("issue", "--resume", "--template", "degree-certificate", **issuer)
        assert misuse.returncode == 2
        assert "--resume" in misuse.stderr


def test_missing_url_or_token_is_one_error_line() -> None:
    result = _run("verify", "-", TONGBAN_API_URL="http://127.0.0.1:9")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: give an API token for the verifying province's API with --token "
        "(or TONGBAN_API_TOKEN)"
    )


def test_the_client_variables_are_not_unknown_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("TONGBAN_API_URL", "TONGBAN_API_TOKEN", "TONGBAN_WALLET"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("TONGBAN_WALLET_PASSPHRASE", "x")
    assert load_settings(data_dir=tmp_path).data_dir == tmp_path
    monkeypatch.setenv("TONGBAN_WALLETS", "x")
    with pytest.raises(SettingsError, match="unknown setting TONGBAN_WALLETS"):
        load_settings(data_dir=tmp_path)

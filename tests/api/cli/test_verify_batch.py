"""``tongban verify --batch FILE`` as a real process against a served province.

Zhejiang issues and anchors credentials; the command verifies a JSON Lines file and a
JSON array of them: one result line per credential in file order, progress on standard
error, exit status 0 only when every credential verified, usage errors exit 2 with one
line. How the file is cut into requests is tested in process.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.cli.options import InputFileError
from api.cli.verify_batch import BATCH_LIMIT, read_entries, requests
from api.province.clients import Role
from credentials.holder import Holder
from tests.helpers.contracts import ZJ, World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import issue_body

SECRET = "110101199003071234"


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(**env), timeout=120
    )


# -- in process -----------------------------------------------------------------------------


def test_requests_hold_at_most_1000_credentials_and_stay_under_the_body_cap(
    tmp_path: Path,
) -> None:
    entries = [("line", n, {"n": n}) for n in range(1, 2501)]
    assert [len(c) for c in requests(entries)] == [BATCH_LIMIT, BATCH_LIMIT, 500]
    assert [e for c in requests(entries) for e in c] == entries
    big = [("item", n, {"pad": "x" * 1000}) for n in range(10)]
    assert [len(c) for c in requests(big, budget=3500)] == [3, 3, 3, 1]
    with pytest.raises(InputFileError, match="item 0 is larger"):
        list(requests(big, budget=500))


def test_a_file_is_json_lines_or_one_array_of_objects(tmp_path: Path) -> None:
    lines = tmp_path / "c.jsonl"
    lines.write_text('{"a": 1}\n\n{"b": 2}\n')
    assert read_entries(lines) == [("line", 1, {"a": 1}), ("line", 3, {"b": 2})]
    array = tmp_path / "c.json"
    array.write_text('  [{"a": 1}, {"b": 2}]')
    assert read_entries(array) == [("item", 0, {"a": 1}), ("item", 1, {"b": 2})]
    array.write_text(f'[{{"a": 1}}, "{SECRET}"]')
    with pytest.raises(InputFileError, match="item 1 must be a JSON object") as raised:
        read_entries(array)
    assert SECRET not in str(raised.value)
    lines.write_text('{"a": 1}\n{"a": 1, "a": 2}\n')
    with pytest.raises(InputFileError, match="line 2"):
        read_entries(lines)


# -- against a province ---------------------------------------------------------------------


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, served: it issues and verifies."""
    with served_province(world, tmp_path, ZJ) as served:
        yield served


def _anchored(province: ServedProvince, count: int) -> list[dict[str, Any]]:
    body = {"requests": [issue_body(Holder.generate().did) for _ in range(count)]}
    reply = province.request(
        "POST", "/credentials/issue/batch", Role.ISSUER, json_body=body, headers=PERSONAL
    )
    assert reply.status == 201, reply.text
    province.anchor_all()
    found = []
    for result in reply.json()["results"]:
        read = province.request(
            "GET", f"/credentials/{result['digest']}", Role.HOLDER, headers=PERSONAL
        )
        found.append(read.json()["credential"])
    return found


def test_verify_batch_prints_one_line_per_credential_and_exits_by_the_worst(
    zhejiang: ServedProvince, tmp_path: Path
) -> None:
    env = {
        "TONGBAN_API_URL": f"http://127.0.0.1:{zhejiang.server.port}",
        "TONGBAN_API_TOKEN": zhejiang.tokens[Role.VERIFIER],
    }
    good = _anchored(zhejiang, 3)
    tampered = copy.deepcopy(good[1])
    tampered["disclosures"][0][2] = SECRET
    not_one = {**good[2], "@context": ["https://example.org/ctx"], "issuer": SECRET}
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join(json.dumps(c) for c in [good[0], tampered, not_one]) + "\n")
    run = _run("verify", "--batch", str(mixed), **env)
    assert run.returncode == 1, run.stderr
    out = run.stdout.splitlines()
    assert len(out) == 3
    assert out[0].startswith("line 1: VALID credential ")
    assert out[1].startswith("line 2: INVALID credential ")
    assert out[1].endswith(": disclosure_not_in_sd")
    assert out[2].startswith("line 3: not verified (bad-request): line 3 /@context/0: ")
    assert SECRET not in run.stdout + run.stderr
    assert "verified 3 of 3 credentials (1 verified so far)" in run.stderr
    assert "Traceback" not in run.stderr

    # Every credential verified, as a JSON array, with --json: exit status 0.
    array = tmp_path / "good.json"
    array.write_text(json.dumps(good))
    ok = _run("verify", "--batch", str(array), "--json", **env)
    assert ok.returncode == 0, ok.stderr
    lines = [json.loads(line) for line in ok.stdout.splitlines()]
    assert [line["item"] for line in lines] == [0, 1, 2]
    assert all(line["result"]["verified"] for line in lines)
    verifications = [
        r.event for r in zhejiang.parts.audit_log.iterate() if r.event.action == "credential.verify"
    ]
    assert len(verifications) == 2 + 3  # the malformed line wrote none

    # Usage: one error line, exit status 2, no traceback.
    for args, expected in (
        (["--batch", str(array), str(array)], "error: give DOCUMENT or --batch FILE, not both"),
        (["--batch", str(tmp_path / "absent.jsonl")], "does not exist"),
        ([], "error: missing argument DOCUMENT"),
    ):
        refused = _run("verify", *args, **env)
        assert refused.returncode == 2, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert expected in refused.stderr
        assert "Traceback" not in refused.stderr

"""``tongban zhengzhao lookup`` as a real process against a served province (#16).

Exit status 0 with the certificate's facts and no claim; with the holder's
presentation the disclosed claims too; 1 for an identifier the province has
none of; 2, one line and no traceback, for a malformed identifier (refused before
any request) or an unusable API.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.province.clients import Role
from credentials.holder import Holder
from credentials.zhengzhao.identifier import parse_zhengzhao_id
from tests.helpers.contracts import ZJ, World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import ServedProvince, served_province
from tests.helpers.routes import issue


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(**env), timeout=120
    )


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, served."""
    with served_province(world, tmp_path, ZJ) as served:
        yield served


def test_lookup_prints_the_facts_and_claims_only_with_a_presentation(
    zhejiang: ServedProvince, tmp_path: Path
) -> None:
    holder = Holder.generate()
    digest = issue(zhejiang, holder.did)["digest"]
    zhejiang.anchor_all()
    assert zhejiang.context.issuer is not None
    credential = zhejiang.context.issuer.credential(bytes.fromhex(digest))
    identifier = credential["zhengzhao"]["identifier"]
    env = {
        "TONGBAN_API_URL": f"http://127.0.0.1:{zhejiang.server.port}",
        "TONGBAN_API_TOKEN": zhejiang.tokens[Role.VERIFIER],
    }

    done = _run("zhengzhao", "lookup", identifier, **env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    lines = done.stdout.strip().splitlines()
    assert lines[0] == identifier
    assert lines[1].startswith("type: 学位证书 (")
    assert "status: valid" in lines
    assert any(line.startswith("anchoring: anchored in block ") for line in lines)
    assert holder.did not in done.stdout
    assert "claims" not in done.stdout

    challenge = zhejiang.request("POST", "/challenges", Role.VERIFIER).json()["challenge"]
    presentation = holder.present(
        [(credential, ["degreeLevel"])], challenge=challenge, domain=zhejiang.did
    )
    path = tmp_path / "presentation.json"
    path.write_text(json.dumps(presentation, ensure_ascii=False))
    done = _run("zhengzhao", "lookup", identifier, "--presentation", str(path), "--json", **env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    answer = json.loads(done.stdout)
    assert answer["authorization"]["accepted"] is True
    assert answer["claims"]["degreeLevel"] == "bachelor"

    unknown = str(dataclasses.replace(parse_zhengzhao_id(identifier), serial_number="ZZZZ"))
    done = _run("zhengzhao", "lookup", unknown, **env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout.startswith("not found: ")

    malformed = identifier[:-1] + ("0" if identifier[-1] != "0" else "1")
    done = _run("zhengzhao", "lookup", malformed, **env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ")
    assert "checkCharacter" in line
    assert malformed not in line

    done = _run("zhengzhao", "lookup", identifier, "--legal-basis", "", **env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "X-Legal-Basis" in done.stderr

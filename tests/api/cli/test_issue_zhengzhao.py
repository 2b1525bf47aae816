"""``tongban issue --agency --certificate-file`` and what ``tongban verify`` prints of a 电子证照.

Real processes against a served Zhejiang: a client that may issue for two agencies
names one, with a PDF certificate file; the credential carries that agency and the
file's ``relatedResource`` entry (the member ``tongban document digest`` prints);
``tongban verify`` prints its 证照标识, agency and 信任等级. Bad options are one error
line (exit 2), nothing sent. The formatting helpers are tested in process.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from api.cli.certificates import agency_code, certificate_file_member, certificate_lines
from api.province.clients import Role
from credentials.file_binding import describe_file, named_file
from credentials.holder import Holder
from credentials.zhengzhao.agencies import add_agency
from tests.helpers.agencies import TEST_AGENCY
from tests.helpers.certificate_files import sample_pdf
from tests.helpers.contracts import ZJ, World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import ORGS, PERSONAL, ServedProvince, served_province

EDUCATION = "11330000TB0000001D"
EDUCATION_NAME = "演示省教育厅"
PDF = sample_pdf()


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(**env), timeout=120
    )


def _one_error_line(done: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert fragment in lines[0], done.stderr


# -- in process -----------------------------------------------------------------------------


def test_agency_code_takes_a_uscc_and_refuses_a_wrong_check_character_without_echo() -> None:
    assert agency_code(EDUCATION) == EDUCATION
    wrong = EDUCATION[:-1] + ("E" if EDUCATION[-1] != "E" else "F")
    with pytest.raises(click.UsageError, match="--agency") as refused:
        agency_code(wrong)
    assert wrong not in str(refused.value)
    assert "check character" in str(refused.value)


def test_the_certificate_file_member_is_the_one_document_digest_prints(tmp_path: Path) -> None:
    path = tmp_path / "degree.pdf"
    path.write_bytes(PDF)
    assert certificate_file_member(path) == describe_file(PDF).to_request_json()
    named = certificate_file_member(path, "application/ofd")
    assert named["mediaType"] == "application/ofd"


def test_certificate_lines_show_identifier_agency_grade_and_a_grade_a_note() -> None:
    entry = {
        "credential": 1,
        "identifier": "1.2.156.3005.2.X.Y.1.001.Z",
        "typeName": "学位证书",
        "issuingAgency": {"name": EDUCATION_NAME, "code": EDUCATION},
        "trustGrade": "A",
        "usageNote": "可作为办事依据",
    }
    result: dict[str, Any] = {"credentialDigests": ["a", "b"], "zhengzhao": [entry]}
    (line,) = certificate_lines(result)
    assert line == (
        f"  credential 1: 证照标识 1.2.156.3005.2.X.Y.1.001.Z (学位证书), "
        f"颁发机构 {EDUCATION_NAME} ({EDUCATION}), 信任等级 A: 可作为办事依据"
    )
    assert certificate_lines({"credentialDigests": ["a"]}) == []
    single = certificate_lines({"credentialDigests": ["a"], "zhengzhao": [entry]})
    assert single[0].startswith("  证照标识 ")


# -- real processes -------------------------------------------------------------------------


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, served, with an education department beside the test agency."""
    with served_province(world, tmp_path, ZJ) as served:
        add_agency(served.context.db, EDUCATION, EDUCATION_NAME, ["degree-certificate"])
        yield served


def _env(province: ServedProvince, token: str) -> dict[str, str]:
    return {
        "TONGBAN_API_URL": f"http://127.0.0.1:{province.server.port}",
        "TONGBAN_API_TOKEN": token,
    }


def test_issue_names_agency_and_file_and_verify_prints_the_certificate(
    zhejiang: ServedProvince, tmp_path: Path
) -> None:
    issued = zhejiang.context.clients.create(
        "issuing system",
        ORGS[ZJ],
        [Role.ISSUER],
        client_id="sys-cli",
        agencies=[EDUCATION, TEST_AGENCY],
    )
    env = _env(zhejiang, issued.token)
    claims, pdf = tmp_path / "claims.json", tmp_path / "degree.pdf"
    claims.write_text(json.dumps(DEGREE_CLAIMS, ensure_ascii=False))
    pdf.write_bytes(PDF)
    holder = Holder.generate().did
    args = [
        "issue",
        "--template",
        "degree-certificate",
        "--holder",
        holder,
        "--claims",
        str(claims),
    ]

    # Two agencies may issue degrees for this client: left out, the API refuses.
    left_out = _run(*args, **env)
    _one_error_line(left_out, "/agency")

    done = _run(*args, "--agency", EDUCATION, "--certificate-file", str(pdf), "--json", **env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    answer = json.loads(done.stdout)
    credential = answer["credential"]
    member = credential["zhengzhao"]
    assert member["issuingAgency"] == {"name": EDUCATION_NAME, "code": EDUCATION}
    assert named_file(credential) == describe_file(PDF)

    zhejiang.anchor_all()
    path = tmp_path / "credential.json"
    reply = zhejiang.request(
        "GET", f"/credentials/{answer['digest']}", Role.HOLDER, headers=PERSONAL
    )
    assert reply.status == 200, reply.text
    path.write_text(json.dumps(reply.json()["credential"], ensure_ascii=False))
    verifier = _env(zhejiang, zhejiang.tokens[Role.VERIFIER])
    shown = _run("verify", str(path), **verifier)
    assert shown.returncode == 0, (shown.stdout, shown.stderr)
    expected = (
        f"  证照标识 {member['identifier']} ({member['typeName']}), "
        f"颁发机构 {EDUCATION_NAME} ({EDUCATION}), 信任等级 {member['trustGrade']}"
    )
    if "usageNote" in member:  # grade A (the degree template's) carries its usage note
        expected += f": {member['usageNote']}"
    assert expected in shown.stdout.splitlines(), shown.stdout
    as_json = json.loads(_run("verify", str(path), "--json", **verifier).stdout)
    assert as_json["zhengzhao"][0]["identifier"] == member["identifier"]


def test_bad_agency_or_file_options_are_one_error_line_and_nothing_is_sent(
    zhejiang: ServedProvince, tmp_path: Path
) -> None:
    env = _env(zhejiang, zhejiang.tokens[Role.ISSUER])
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(DEGREE_CLAIMS, ensure_ascii=False))
    args = ["issue", "--template", "degree-certificate", "--holder", Holder.generate().did]
    args += ["--claims", str(claims)]
    wrong = EDUCATION[:-1] + ("E" if EDUCATION[-1] != "E" else "F")
    refused = _run(*args, "--agency", wrong, **env)
    _one_error_line(refused, "--agency is not a 统一社会信用代码")
    assert wrong not in refused.stderr
    text = tmp_path / "notes.txt"
    text.write_text("not a certificate")
    _one_error_line(_run(*args, "--certificate-file", str(text), **env), "neither a PDF nor an OFD")
    _one_error_line(
        _run(*args, "--certificate-file", str(tmp_path / "absent.pdf"), **env), "does not exist"
    )
    _one_error_line(
        _run(*args, "--certificate-media-type", "application/pdf", **env), "--certificate-file"
    )
    batch = tmp_path / "batch.jsonl"
    batch.write_text("")
    _one_error_line(_run("issue", "--batch", str(batch), "--agency", EDUCATION, **env), "--batch")
    # The province saw no issuance.
    with zhejiang.context.db.read() as tx:
        row = tx.fetchone("SELECT COUNT(*) FROM cred_issued")
    assert row is not None
    assert row[0] == 0

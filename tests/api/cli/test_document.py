"""``tongban document digest`` and ``tongban document verify`` as real processes.

``digest`` prints the issue request's ``certificateFile`` member; a province issues a
certificate with it, and ``verify`` sends the file and the credential to ``POST
/documents/verify``: exit status 0 for the named file, 1 for a one-byte change (its
reason on the file line), 2 with one line and no traceback for what cannot be used.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.client.documents import encode_form
from api.province.clients import Role
from credentials.file_binding import MAX_FILE_BYTES, describe_file
from credentials.holder import Holder
from tests.helpers.certificate_files import sample_ofd, sample_pdf
from tests.helpers.contracts import ZJ, World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import issue

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
    assert lines[0].startswith("error: "), done.stderr
    assert fragment in lines[0], done.stderr


def test_digest_prints_the_certificate_file_member(tmp_path: Path) -> None:
    pdf, ofd = tmp_path / "licence.pdf", tmp_path / "licence.ofd"
    pdf.write_bytes(PDF)
    ofd.write_bytes(sample_ofd())
    done = _run("document", "digest", str(pdf))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == describe_file(PDF).to_request_json()
    done = _run("document", "digest", str(ofd))
    assert json.loads(done.stdout)["mediaType"] == "application/ofd"

    other = tmp_path / "notes.txt"
    other.write_text("not a certificate")
    _one_error_line(_run("document", "digest", str(other)), "neither a PDF nor an OFD")
    done = _run("document", "digest", str(other), "--media-type", "application/pdf")
    assert json.loads(done.stdout)["size"] == len("not a certificate")
    _one_error_line(_run("document", "digest", str(tmp_path / "missing.pdf")), "does not exist")
    (tmp_path / "empty.pdf").write_bytes(b"")
    _one_error_line(_run("document", "digest", str(tmp_path / "empty.pdf")), "is empty")
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-" + b"\0" * MAX_FILE_BYTES)
    _one_error_line(_run("document", "digest", str(big)), "larger than a certificate file")
    done = _run("document", "digest")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


def test_the_multipart_body_has_a_boundary_in_neither_part() -> None:
    body, content_type = encode_form(PDF, {"id": "urn:uuid:1"})
    boundary = content_type.split("boundary=", 1)[1]
    assert content_type.startswith("multipart/form-data; ")
    assert body.count(boundary.encode()) == 3
    assert boundary.encode() not in PDF


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, served: it issues and verifies."""
    with served_province(world, tmp_path, ZJ) as served:
        yield served


def _credential(province: ServedProvince) -> dict[str, Any]:
    member = describe_file(PDF).to_request_json()
    digest = issue(province, Holder.generate().did, certificateFile=member)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def test_verify_exits_0_for_the_named_file_and_1_for_a_one_byte_change(
    zhejiang: ServedProvince, tmp_path: Path
) -> None:
    credential = _credential(zhejiang)
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(credential, ensure_ascii=False))
    pdf = tmp_path / "licence.pdf"
    pdf.write_bytes(PDF)
    env = {
        "TONGBAN_API_URL": f"http://127.0.0.1:{zhejiang.server.port}",
        "TONGBAN_API_TOKEN": zhejiang.tokens[Role.VERIFIER],
    }

    done = _run("document", "verify", str(pdf), str(path), **env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    first, second = done.stdout.strip().splitlines()
    assert first.startswith("VALID: credential ")
    assert second.startswith("file: ok: ")
    assert describe_file(PDF).digest_hex in second

    changed = bytearray(PDF)
    changed[len(changed) // 2] ^= 0x20
    pdf.write_bytes(bytes(changed))
    done = _run("document", "verify", str(pdf), str(path), **env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    first, second = done.stdout.strip().splitlines()
    assert first.startswith("INVALID: credential ")
    assert first.endswith("VALID, file INVALID")
    assert second.startswith("file: file_digest_mismatch: ")

    as_json = json.loads(_run("document", "verify", str(pdf), str(path), "--json", **env).stdout)
    assert as_json["file"]["reasonCode"] == "file_digest_mismatch"
    assert as_json["credentialVerdict"] == "VALID"

    # Unusable input or API: exit 2, one line, nothing of the credential printed.
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": 1, "a": 2}')
    _one_error_line(_run("document", "verify", str(pdf), str(broken), **env), "not acceptable")
    _one_error_line(
        _run("document", "verify", str(pdf), str(path), "--legal-basis", "", **env),
        "X-Legal-Basis",
    )
    issuer = {**env, "TONGBAN_API_TOKEN": zhejiang.tokens[Role.ISSUER]}
    refused = _run("document", "verify", str(pdf), str(path), **issuer)
    _one_error_line(refused, "403")
    assert credential["id"] not in refused.stderr
    _one_error_line(_run("document", "verify", str(pdf), str(path)), "--url")

"""``POST /documents/verify`` over real HTTP: the certificate file bound by SM3 (issue #16).

A province issues a certificate naming its PDF (Tongban dialect ``certificateFile``,
or the VC API dialect's own ``relatedResource``), anchors it, and verifies the
credential with the file: the right file is VALID; a one-byte change, another
length, another kind of file and a credential naming no file are each INVALID
with their own reason code, while the credential itself stays VALID. Bodies that
are no acceptable upload are refused before any verification (400, 413, 415), and
no verdict leaves without its access event.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.errors import ProblemCode
from api.http.schemas.documents import DocumentVerificationOut
from api.province.clients import Role
from credentials.contexts import CREDENTIALS_V2, TONGBAN_V1
from credentials.file_binding import MAX_FILE_BYTES, describe_file
from credentials.holder import Holder
from credentials.reasons import Reason
from ledger.audit.events import Outcome
from tests.helpers.certificate_files import form_body, hostile_ofd, sample_ofd, sample_pdf
from tests.helpers.contracts import World
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import issue, issue_body, problem
from tests.helpers.server import Reply

PDF = sample_pdf()


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, served: it issues and verifies."""
    with served_province(world, tmp_path) as served:
        yield served


def _read(province: ServedProvince, digest: str) -> dict[str, Any]:
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def _issued_with(province: ServedProvince, data: bytes | None) -> dict[str, Any]:
    overrides = {} if data is None else {"certificateFile": describe_file(data).to_request_json()}
    digest = issue(province, Holder.generate().did, **overrides)["digest"]
    province.anchor_all()
    return _read(province, digest)


def _post(province: ServedProvince, body: bytes, content_type: str) -> Reply:
    return province.request(
        "POST",
        "/documents/verify",
        Role.VERIFIER,
        body=body,
        headers={**PERSONAL, "Content-Type": content_type},
    )


def _verify(province: ServedProvince, credential: dict[str, Any], data: bytes) -> dict[str, Any]:
    body, content_type = form_body({"file": data, "credential": credential})
    reply = _post(province, body, content_type)
    assert reply.status == 200, reply.text
    answer: dict[str, Any] = reply.json()
    shaped = DocumentVerificationOut.model_validate(answer)
    assert shaped.file.model_dump(mode="json", exclude_none=True) == answer["file"]
    assert shaped.credential_verdict == answer["credentialVerdict"]
    return answer


def _file_failure(answer: dict[str, Any], reason: Reason) -> None:
    assert answer["verdict"] == "INVALID"
    assert answer["verified"] is False
    assert answer["credentialVerdict"] == "VALID", answer["checks"]
    assert answer["file"]["status"] == "INVALID"
    assert answer["file"]["reasonCode"] == reason.value
    assert [p["reasonCode"] for p in answer["problemDetails"]] == [reason.value]


def test_the_named_file_is_valid_and_a_one_byte_change_is_file_digest_mismatch(
    province: ServedProvince,
) -> None:
    credential = _issued_with(province, PDF)
    [entry] = credential["relatedResource"]
    assert entry == describe_file(PDF).to_related_resource()
    before = province.parts.audit_log.size()

    answer = _verify(province, credential, PDF)
    assert answer["verdict"] == "VALID", answer
    assert answer["verified"] is True
    assert answer["credentialVerdict"] == "VALID"
    assert answer["file"] == {
        "status": "VALID",
        "reasonCode": "ok",
        "message": answer["file"]["message"],
        "digestSm3": describe_file(PDF).digest_hex,
        "mediaType": "application/pdf",
        "size": len(PDF),
    }
    assert [c["status"] for c in answer["checks"]].count("VALID") == 7

    changed = bytearray(PDF)
    middle = len(changed) // 2
    changed[middle] ^= 0x01
    answer = _verify(province, credential, bytes(changed))
    _file_failure(answer, Reason.FILE_DIGEST_MISMATCH)
    assert answer["file"]["at"] == "/relatedResource/0/digestMultibase"
    assert answer["file"]["size"] == len(PDF)

    # One access event per verification, its outcome the combined verdict; the file's
    # bytes are nowhere in the log.
    events = [r.event for r in province.parts.audit_log.iterate(before)]
    assert [e.action for e in events] == ["credential.verify", "credential.verify"]
    assert [e.outcome for e in events] == [Outcome.SUCCESS, Outcome.INVALID]
    logged = json.dumps([e.to_json() for e in events])
    assert "Tongban certificate" not in logged


def test_another_length_or_kind_of_file_is_named_by_its_own_reason(
    province: ServedProvince,
) -> None:
    credential = _issued_with(province, PDF)
    _file_failure(_verify(province, credential, PDF + b"\n"), Reason.FILE_SIZE_MISMATCH)
    _file_failure(_verify(province, credential, PDF[:-1]), Reason.FILE_SIZE_MISMATCH)
    answer = _verify(province, credential, sample_ofd())
    _file_failure(answer, Reason.FILE_MEDIA_TYPE_MISMATCH)
    assert answer["file"]["mediaType"] == "application/ofd"
    assert answer["file"]["at"] == "/relatedResource/0/mediaType"
    answer = _verify(province, credential, b"not a certificate at all")
    _file_failure(answer, Reason.FILE_MEDIA_TYPE_MISMATCH)
    assert "mediaType" not in answer["file"]
    # A ZIP package zipfile cannot read (hostile, not merely broken): not an OFD, no 500.
    for kind in ("version", "name"):
        answer = _verify(province, credential, hostile_ofd(kind))
        _file_failure(answer, Reason.FILE_MEDIA_TYPE_MISMATCH)


def test_an_ofd_certificate_file_round_trips(province: ServedProvince) -> None:
    ofd = sample_ofd()
    credential = _issued_with(province, ofd)
    assert credential["relatedResource"][0]["mediaType"] == "application/ofd"
    assert _verify(province, credential, ofd)["verdict"] == "VALID"
    _file_failure(_verify(province, credential, sample_ofd("ff" * 16)), Reason.FILE_DIGEST_MISMATCH)


def test_a_credential_naming_no_file_is_file_not_named(province: ServedProvince) -> None:
    credential = _issued_with(province, None)
    assert "relatedResource" not in credential
    answer = _verify(province, credential, PDF)
    _file_failure(answer, Reason.FILE_NOT_NAMED)
    assert "at" not in answer["file"]


def test_a_tampered_credential_is_invalid_whatever_the_file(province: ServedProvince) -> None:
    credential = _issued_with(province, PDF)
    other = sample_pdf("Another certificate 0002")
    credential["relatedResource"] = [describe_file(other).to_related_resource()]
    answer = _verify(province, credential, other)
    assert answer["verdict"] == "INVALID"
    assert answer["credentialVerdict"] == "INVALID"
    assert answer["file"]["status"] == "VALID"
    assert answer["checks"][1]["reasonCode"] == Reason.SIGNATURE_INVALID.value


def test_the_vc_api_dialect_names_the_file_in_its_own_related_resource(
    province: ServedProvince,
) -> None:
    holder = Holder.generate()
    entry = describe_file(PDF).to_related_resource()
    submitted = {
        "@context": [CREDENTIALS_V2, TONGBAN_V1],
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": province.did,
        "credentialSubject": {"id": holder.did, **DEGREE_CLAIMS},
        "relatedResource": [entry],
    }
    reply = province.request(
        "POST",
        "/credentials/issue",
        Role.ISSUER,
        json_body={"credential": submitted},
        headers=PERSONAL,
    )
    assert reply.status == 201, reply.text
    assert reply.json()["verifiableCredential"]["relatedResource"] == [entry]

    broken = {**entry, "digestMultibase": "u" + "A" * 48}
    reply = province.request(
        "POST",
        "/credentials/issue",
        Role.ISSUER,
        json_body={"credential": {**submitted, "relatedResource": [broken]}},
        headers=PERSONAL,
    )
    body = problem(reply, 400, ProblemCode.BAD_REQUEST) if reply.status == 400 else reply.json()
    assert reply.status in (400, 422), reply.text
    assert "/relatedResource/0/digestMultibase" in json.dumps(body)


def test_a_malformed_certificate_file_member_is_refused_at_issuance(
    province: ServedProvince,
) -> None:
    good = describe_file(PDF).to_request_json()
    for member in (
        {**good, "digestSm3": "AB" * 32},
        {**good, "mediaType": "image/png"},
        {**good, "size": 0},
        {**good, "size": MAX_FILE_BYTES + 1},
        {"digestSm3": good["digestSm3"], "mediaType": "application/pdf"},
    ):
        reply = province.request(
            "POST",
            "/credentials/issue",
            Role.ISSUER,
            json_body={
                "template": "degree-certificate",
                "holder": Holder.generate().did,
                "claims": DEGREE_CLAIMS,
                "certificateFile": member,
            },
            headers=PERSONAL,
        )
        body = problem(reply, 422, ProblemCode.VALIDATION_FAILED)
        assert any(e["field"].startswith("/certificateFile") for e in body["errors"]), body


def test_an_upload_over_the_file_cap_is_413(province: ServedProvince) -> None:
    credential = _issued_with(province, None)
    before = province.parts.audit_log.size()
    body, content_type = form_body(
        {"credential": credential, "file": b"%PDF-" + b"\0" * MAX_FILE_BYTES}
    )
    answer = problem(_post(province, body, content_type), 413, ProblemCode.BODY_TOO_LARGE)
    assert answer["errors"] == [{"field": "file", "rule": f"at most {MAX_FILE_BYTES} bytes"}]
    declared = province.request(
        "POST",
        "/documents/verify",
        Role.VERIFIER,
        body=b"",
        headers={
            **PERSONAL,
            "Content-Type": content_type,
            "Content-Length": str(MAX_FILE_BYTES * 2),
        },
    )
    problem(declared, 413, ProblemCode.BODY_TOO_LARGE)
    assert province.parts.audit_log.size() == before


def _multipart(*chunks: str) -> bytes:
    return "\r\n".join(chunks).encode()


def test_a_body_that_is_no_acceptable_upload_is_refused_before_verifying(
    province: ServedProvince, caplog: pytest.LogCaptureFixture
) -> None:
    credential = _issued_with(province, PDF)
    before = province.parts.audit_log.size()
    good, content_type = form_body({"file": PDF, "credential": credential}, boundary="XyZ")

    assert problem(
        _post(province, good, "application/json"), 415, ProblemCode.UNSUPPORTED_MEDIA_TYPE
    )
    problem(_post(province, good, "multipart/form-data"), 415, ProblemCode.UNSUPPORTED_MEDIA_TYPE)
    cut = problem(_post(province, good[:-12], content_type), 400, ProblemCode.BAD_REQUEST)
    assert "closing boundary" in cut["detail"]
    problem(_post(province, b"garbage", content_type), 400, ProblemCode.BAD_REQUEST)

    only_file, _ = form_body({"file": PDF}, boundary="XyZ")
    missing = problem(_post(province, only_file, content_type), 400, ProblemCode.BAD_REQUEST)
    assert missing["errors"] == [{"field": "credential", "rule": "the part is missing"}]

    extra, _ = form_body({"file": PDF, "credential": credential, "notes": b"x"}, boundary="XyZ")
    problem(_post(province, extra, content_type), 400, ProblemCode.BAD_REQUEST)

    twice = _multipart(
        "--XyZ",
        'Content-Disposition: form-data; name="file"',
        "",
        "%PDF-1",
        "--XyZ",
        'Content-Disposition: form-data; name="file"',
        "",
        "%PDF-2",
        "--XyZ--",
        "",
    )
    doubled = problem(_post(province, twice, content_type), 400, ProblemCode.BAD_REQUEST)
    assert doubled["errors"] == [{"field": "file", "rule": "the part is given twice"}]

    nameless = _multipart("--XyZ", "Content-Disposition: attachment", "", "x", "--XyZ--", "")
    problem(_post(province, nameless, content_type), 400, ProblemCode.BAD_REQUEST)

    not_json, _ = form_body({"file": PDF, "credential": b'{"a": 1, "a": 2}'}, boundary="XyZ")
    refused = _post(province, not_json, content_type)
    assert refused.status == 400, refused.text
    assert refused.json()["code"] == "duplicate-key"

    not_a_credential, _ = form_body({"file": PDF, "credential": {"x": 1}}, boundary="XyZ")
    problem(_post(province, not_a_credential, content_type), 400, ProblemCode.BAD_REQUEST)

    # Refusals are no access: nothing was verified, nothing logged; and the parser's own
    # warnings (which quote a byte of the body) reach no log either.
    assert province.parts.audit_log.size() == before
    assert [r.name for r in caplog.records if "multipart" in r.name] == []


def test_only_verifiers_with_a_declared_purpose_may_ask(province: ServedProvince) -> None:
    credential = _issued_with(province, PDF)
    body, content_type = form_body({"file": PDF, "credential": credential})
    headers = {**PERSONAL, "Content-Type": content_type}
    issuer = province.request("POST", "/documents/verify", Role.ISSUER, body=body, headers=headers)
    assert issuer.status == 403, issuer.text
    anonymous = province.request("POST", "/documents/verify", None, body=body, headers=headers)
    assert anonymous.status == 401, anonymous.text
    undeclared = province.request(
        "POST",
        "/documents/verify",
        Role.VERIFIER,
        body=body,
        headers={"Content-Type": content_type},
    )
    assert problem(undeclared, 422, ProblemCode.VALIDATION_FAILED)["errors"][0]["field"] == (
        "X-Purpose"
    )


def test_no_verdict_without_its_access_event(
    province: ServedProvince, monkeypatch: pytest.MonkeyPatch
) -> None:
    credential = _issued_with(province, PDF)
    log = province.parts.audit_log
    before = log.size()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("the disk is full")

    monkeypatch.setattr(log, "submit", refuse)
    body, content_type = form_body({"file": PDF, "credential": credential})
    reply = _post(province, body, content_type)
    monkeypatch.undo()
    problem(reply, 503, ProblemCode.ACCESS_LOG_UNAVAILABLE)
    assert "verdict" not in reply.text
    assert log.size() == before


def test_an_idempotency_key_stands_for_the_certificate_file_too(province: ServedProvince) -> None:
    holder = Holder.generate().did
    headers = {**PERSONAL, "Idempotency-Key": "issue-with-file-1"}

    def send(data: bytes) -> Reply:
        body = issue_body(holder, certificateFile=describe_file(data).to_request_json())
        return province.request(
            "POST", "/credentials/issue", Role.ISSUER, json_body=body, headers=headers
        )

    first = send(PDF)
    assert first.status == 201, first.text
    again = send(PDF)
    assert again.status == 201, again.text
    assert again.json()["digest"] == first.json()["digest"]
    problem(send(sample_pdf("Another certificate 0002")), 409, ProblemCode.IDEMPOTENCY_KEY_REUSED)


def test_a_chunked_upload_is_refused_once_it_passes_the_cap_not_after(
    province: ServedProvince,
) -> None:
    # No Content-Length: the reader counts as it reads and answers before the end.
    boundary = "XyZ"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n%PDF-1.7\n'
    ).encode()
    total = MAX_FILE_BYTES * 2
    lines = [
        "POST /documents/verify HTTP/1.1",
        f"Host: 127.0.0.1:{province.server.port}",
        f"Authorization: Bearer {province.tokens[Role.VERIFIER]}",
        f"Content-Type: multipart/form-data; boundary={boundary}",
        "Transfer-Encoding: chunked",
        *(f"{name}: {value}" for name, value in PERSONAL.items()),
    ]
    piece = b"\0" * (256 * 1024)
    sent = 0
    with socket.create_connection(("127.0.0.1", province.server.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        response = http.client.HTTPResponse(sock, method="POST")
        response.begin()
        status, body = response.status, response.read()
    assert status == 413, body
    assert json.loads(body)["code"] == ProblemCode.BODY_TOO_LARGE.value
    assert sent < total

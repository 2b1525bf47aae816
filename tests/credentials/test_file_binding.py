"""``credentials.file_binding``: the certificate file a credential names, and its check.

The entry's encoding (multihash sm3-256 in multibase base64url, the content URN),
the two request forms (Tongban ``certificateFile``, VC API ``relatedResource``),
what the builder writes and check (0) accepts, and ``check_file``'s reasons in
their order. A value of the document never appears in an error.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest

from credentials.contexts import CREDENTIALS_V2, TONGBAN_V1, TONGBAN_VOCAB
from credentials.credential import (
    IssueRequest,
    credential_digest,
    issue_credential,
    secured_form,
)
from credentials.did import issuer_did
from credentials.errors import NotConformingError
from credentials.file_binding import (
    MAX_FILE_BYTES,
    OFD,
    PDF,
    RESOURCE_PREFIX,
    SM3_MULTIHASH_PREFIX,
    CertificateFile,
    FileBindingError,
    certificate_file_from_request,
    certificate_file_from_resource,
    check_file,
    describe_file,
    file_digest,
    named_file,
    sniff_media_type,
)
from credentials.holder import Holder
from credentials.reasons import Reason
from credentials.submitted import SubmittedCredential, build_submitted
from credentials.suites.rdfc import expand_safely
from credentials.verify.outcome import Failed, Passed
from credentials.verify.parse import load_credential
from ledger.crypto.signer import LocalSigner
from tests.helpers.certificate_files import hostile_ofd, sample_ofd, sample_pdf
from tests.helpers.credentials import DEGREE_CLAIMS, ZJ_KEY

CHAIN, ISSUER = 31337, 1
PDF_BYTES = sample_pdf()
# GB/T 32905-2016 appendix A.1: SM3("abc").
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_the_multihash_is_sm3_256_of_the_multicodec_table_then_32_bytes() -> None:
    # multicodec table.csv: sm3-256, multihash, 0x534d.
    assert _varint(0x534D) + bytes([32]) == SM3_MULTIHASH_PREFIX
    assert file_digest(b"abc").hex() == SM3_ABC
    named = CertificateFile(bytes.fromhex(SM3_ABC), PDF, 3)
    encoded = named.digest_multibase
    assert encoded.startswith("u")
    assert "=" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert raw == SM3_MULTIHASH_PREFIX + bytes.fromhex(SM3_ABC)
    assert named.resource_id == RESOURCE_PREFIX + SM3_ABC
    assert named.to_related_resource() == {
        "id": RESOURCE_PREFIX + SM3_ABC,
        "digestMultibase": encoded,
        "mediaType": "application/pdf",
        "fileSize": 3,
    }


def test_both_request_forms_read_back_what_they_were_written_from() -> None:
    named = describe_file(PDF_BYTES)
    assert named == CertificateFile(file_digest(PDF_BYTES), PDF, len(PDF_BYTES))
    assert certificate_file_from_request(named.to_request_json()) == named
    assert certificate_file_from_resource(named.to_related_resource()) == named
    assert describe_file(sample_ofd()).media_type == OFD


GOOD = describe_file(PDF_BYTES).to_related_resource()
SHA256_MULTIBASE = "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA"


@pytest.mark.parametrize(
    ("entry", "pointer"),
    [
        ({**GOOD, "id": RESOURCE_PREFIX + "00" * 32}, "/id"),
        ({**GOOD, "digestMultibase": SHA256_MULTIBASE}, "/digestMultibase"),
        ({**GOOD, "digestMultibase": GOOD["digestMultibase"] + "=="}, "/digestMultibase"),
        ({**GOOD, "digestMultibase": "z" + GOOD["digestMultibase"][1:]}, "/digestMultibase"),
        ({**GOOD, "digestMultibase": "u!!"}, "/digestMultibase"),
        ({**GOOD, "mediaType": "image/png"}, "/mediaType"),
        ({**GOOD, "fileSize": 0}, "/fileSize"),
        ({**GOOD, "fileSize": True}, "/fileSize"),
        ({**GOOD, "fileSize": MAX_FILE_BYTES + 1}, "/fileSize"),
        ({**GOOD, "fileSize": "605"}, "/fileSize"),
        ({k: v for k, v in GOOD.items() if k != "mediaType"}, "/mediaType"),
        ({**GOOD, "digestSRI": "sha256-abc"}, "/digestSRI"),
    ],
)
def test_a_malformed_entry_names_its_member_and_never_its_value(
    entry: dict[str, Any], pointer: str
) -> None:
    with pytest.raises(FileBindingError) as raised:
        certificate_file_from_resource(entry, "/relatedResource/0")
    assert raised.value.pointer == "/relatedResource/0" + pointer
    for value in entry.values():
        if isinstance(value, str) and len(value) > 8:
            assert value not in str(raised.value)


@pytest.mark.parametrize(
    ("member", "pointer"),
    [
        ({"digestSm3": SM3_ABC.upper(), "mediaType": PDF, "size": 3}, "/digestSm3"),
        ({"digestSm3": SM3_ABC[:-2], "mediaType": PDF, "size": 3}, "/digestSm3"),
        ({"digestSm3": SM3_ABC, "mediaType": "application/zip", "size": 3}, "/mediaType"),
        ({"digestSm3": SM3_ABC, "mediaType": PDF, "size": -1}, "/size"),
        ({"digestSm3": SM3_ABC, "mediaType": PDF}, "/size"),
        ({"digestSm3": SM3_ABC, "mediaType": PDF, "size": 3, "name": "x.pdf"}, "/name"),
        ([SM3_ABC], ""),
    ],
)
def test_a_malformed_request_member_names_its_member(member: Any, pointer: str) -> None:
    with pytest.raises(FileBindingError) as raised:
        certificate_file_from_request(member)
    assert raised.value.pointer == "/certificateFile" + pointer


def test_the_media_type_is_read_from_the_bytes() -> None:
    assert sniff_media_type(PDF_BYTES) == PDF
    # A reader accepts the header within the first 1,024 bytes, not after.
    assert sniff_media_type(b"\0" * 1000 + PDF_BYTES) == PDF
    assert sniff_media_type(b"\0" * 1024 + PDF_BYTES) is None
    assert sniff_media_type(sample_ofd()) == OFD
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as package:
        package.writestr("Document.xml", "<x/>")
    assert sniff_media_type(plain_zip.getvalue()) is None
    assert sniff_media_type(sample_ofd()[:40]) is None
    assert sniff_media_type(hostile_ofd("version")) is None
    assert sniff_media_type(hostile_ofd("name")) is None
    assert sniff_media_type(b"") is None
    with pytest.raises(FileBindingError, match="neither a PDF nor an OFD"):
        describe_file(b"plain text")


def _issued(related: CertificateFile | None) -> dict[str, Any]:
    holder = Holder.generate()
    request = IssueRequest(
        "degree-certificate", holder.did, dict(DEGREE_CLAIMS), related_file=related
    )
    signer = LocalSigner(f"{issuer_did(CHAIN, ISSUER)}#key-1", ZJ_KEY)
    return issue_credential(
        request, signer, chain_id=CHAIN, issuer_id=ISSUER, now_ms=1_767_225_600_000
    ).document


def test_the_builder_writes_the_entry_under_the_signature_and_check_0_accepts_it() -> None:
    named = describe_file(PDF_BYTES)
    credential = _issued(named)
    assert credential["relatedResource"] == [named.to_related_resource()]
    assert isinstance(load_credential(credential, text=False), Passed)
    assert named_file(credential) == named
    # The entry is signed: another file's entry changes the credential's digest.
    swapped = {
        **credential,
        "relatedResource": [describe_file(sample_pdf("other")).to_related_resource()],
    }
    assert credential_digest(swapped) != credential_digest(credential)
    assert named_file(_issued(None)) is None


def _failure(outcome: Passed[CertificateFile] | Failed) -> tuple[Reason, str | None]:
    assert isinstance(outcome, Failed), outcome
    return outcome.reason, outcome.at


def test_check_file_names_the_first_difference_media_type_then_size_then_digest() -> None:
    credential = _issued(describe_file(PDF_BYTES))
    passed = check_file(credential, PDF_BYTES)
    assert isinstance(passed, Passed)
    assert passed.value == describe_file(PDF_BYTES)
    entry = "/relatedResource/0"
    assert _failure(check_file(credential, sample_ofd())) == (
        Reason.FILE_MEDIA_TYPE_MISMATCH,
        f"{entry}/mediaType",
    )
    assert _failure(check_file(credential, PDF_BYTES + b" ")) == (
        Reason.FILE_SIZE_MISMATCH,
        f"{entry}/fileSize",
    )
    one_byte = bytearray(PDF_BYTES)
    one_byte[-10] ^= 0xFF
    assert _failure(check_file(credential, bytes(one_byte))) == (
        Reason.FILE_DIGEST_MISMATCH,
        f"{entry}/digestMultibase",
    )
    assert _failure(check_file(_issued(None), PDF_BYTES)) == (Reason.FILE_NOT_NAMED, None)


def test_a_credential_naming_two_files_or_a_malformed_one_names_no_file() -> None:
    credential = _issued(describe_file(PDF_BYTES))
    second = describe_file(sample_ofd()).to_related_resource()
    twice = {**credential, "relatedResource": [*credential["relatedResource"], second]}
    assert _failure(check_file(twice, PDF_BYTES)) == (
        Reason.FILE_NOT_NAMED,
        "/relatedResource/1",
    )
    broken = {**credential, "relatedResource": [{**GOOD, "fileSize": -5}]}
    reason, at = _failure(check_file(broken, PDF_BYTES))
    assert (reason, at) == (Reason.FILE_NOT_NAMED, "/relatedResource/0/fileSize")
    other = {"id": "https://zj.example/photo.jpg", "digestMultibase": SHA256_MULTIBASE}
    unrelated = {**credential, "relatedResource": [other]}
    assert _failure(check_file(unrelated, PDF_BYTES)) == (Reason.FILE_NOT_NAMED, None)


def _submitted(**members: Any) -> SubmittedCredential:
    holder = Holder.generate()
    document = {
        "@context": [CREDENTIALS_V2, TONGBAN_V1],
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": issuer_did(CHAIN, ISSUER),
        "credentialSubject": {"id": holder.did, **DEGREE_CLAIMS},
        **members,
    }
    return SubmittedCredential(document)


def _build(submitted: SubmittedCredential) -> dict[str, Any]:
    _, secured, _ = build_submitted(
        submitted, chain_id=CHAIN, issuer_id=ISSUER, now_ms=1_767_225_600_000
    )
    return secured


def test_the_vc_api_dialect_takes_one_certificate_file_for_a_certificate() -> None:
    secured = _build(_submitted(relatedResource=[GOOD]))
    assert secured["relatedResource"] == [GOOD]
    # A single object (VCDM allows one or more) is rewritten as the builder writes it.
    assert _build(_submitted(relatedResource=GOOD))["relatedResource"] == [GOOD]
    photo = {"id": "https://zj.example/photo.jpg", "digestMultibase": SHA256_MULTIBASE}
    for related, pointer in (
        ([GOOD, photo], "/relatedResource"),
        ([photo], "/relatedResource"),
        ([{**GOOD, "fileSize": 0}], "/relatedResource/0/fileSize"),
    ):
        with pytest.raises(NotConformingError) as raised:
            _build(_submitted(relatedResource=related))
        assert raised.value.pointer == pointer


def test_a_plain_vc_api_credential_keeps_its_related_resources_and_well_formed_files() -> None:
    photo = {"id": "https://zj.example/photo.jpg", "digestMultibase": SHA256_MULTIBASE}
    plain = {
        "@context": [CREDENTIALS_V2],
        "type": ["VerifiableCredential", "MembershipCard"],
        "issuer": issuer_did(CHAIN, ISSUER),
        "credentialSubject": {"name": "x"},
    }
    secured = _build(SubmittedCredential({**plain, "relatedResource": [photo, GOOD]}))
    assert secured["relatedResource"] == [photo, GOOD]
    with pytest.raises(NotConformingError) as raised:
        _build(
            SubmittedCredential({**plain, "relatedResource": [photo, {**GOOD, "mediaType": "x"}]})
        )
    assert raised.value.pointer == "/relatedResource/1/mediaType"


def test_the_issued_entry_expands_in_json_ld_without_dropping_a_term() -> None:
    # The signed form (what the proof covers); safe mode: a term the contexts do not
    # define would raise instead of vanishing.
    credential = secured_form(_issued(describe_file(PDF_BYTES)))
    expanded = json.dumps(expand_safely(credential))
    assert TONGBAN_VOCAB + "fileSize" in expanded
    assert "https://w3id.org/security#digestMultibase" in expanded
    assert RESOURCE_PREFIX + describe_file(PDF_BYTES).digest_hex in expanded

"""The paper loop over real HTTP (issue #16): print, rasterize at 150 dpi, scan, verify.

Zhejiang issues and prints (``GET /credentials/{digest}/certificate.pdf``);
pypdfium2 rasterizes the page at 150 dpi, zxing-cpp decodes the QR from the
image, and Guangdong verifies the scanned text (``POST /credentials/verify``,
an enveloped TB1 credential): VALID, check (6) not applicable to paper. Neither
the QR nor the PDF's text holds an undisclosed value, salt or disclosure.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import cbor2
import pypdfium2
import pytest
import zxingcpp

from api.errors import ProblemCode
from api.http.routes import paper as paper_routes
from api.paper.render import FontMissingError
from api.province.clients import Role
from credentials.credential import credential_digest
from credentials.holder import Holder
from credentials.paper.base45 import b45decode, b45encode
from credentials.paper.codec import KEYS, decode
from credentials.paper.envelope import envelope
from credentials.paper.printing import PAPER_HOLDER_MESSAGE, print_claims
from credentials.templates import get_template
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue_body, problem

TEMPLATE = "business-licence"
DPI = 150


def _print(province: ServedProvince, digest: str, role: Role = Role.ISSUER) -> Any:
    return province.request("GET", f"/credentials/{digest}/certificate.pdf", role, headers=PERSONAL)


def _scan(pdf: bytes) -> tuple[str, str]:
    """The QR text decoded from the page rasterized at 150 dpi, and the page's text."""
    document = pypdfium2.PdfDocument(pdf)
    assert len(document) == 1
    page = document[0]
    width, height = page.get_size()
    assert (round(width / 72 * 25.4), round(height / 72 * 25.4)) == (210, 297)  # A4
    image = page.render(scale=DPI / 72).to_pil()
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1
    assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    text = page.get_textpage().get_text_range()
    return found[0].text, text


def _verify_scanned(province: ServedProvince, text: str) -> Any:
    return province.request(
        "POST",
        "/credentials/verify",
        Role.VERIFIER,
        json_body={"verifiableCredential": envelope(text), "options": {"returnCredential": True}},
        headers=PERSONAL,
    )


def _undisclosed(issued: dict[str, Any], printed: set[str]) -> list[list[Any]]:
    return [d for d in issued["disclosures"] if d[1].rsplit("/", 1)[1] not in printed]


def test_printed_certificate_scanned_at_150_dpi_verifies_valid_at_another_province(
    world: World, tmp_path: Path
) -> None:
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        holder = Holder.generate().did
        reply = zhejiang.request(
            "POST",
            "/credentials/issue",
            Role.ISSUER,
            json_body=issue_body(holder, TEMPLATE),
            headers=PERSONAL,
        )
        assert reply.status == 201, reply.text
        issued = reply.json()["credential"]
        digest = reply.json()["digest"]

        # Not anchored yet: nothing to print (409), though the read is logged.
        problem(_print(zhejiang, digest), 409, ProblemCode.ANCHOR_PENDING)
        zhejiang.anchor_all()
        guangdong.sync()

        answer = _print(zhejiang, digest)
        assert answer.status == 200, answer.text
        assert answer.header("Content-Type") == "application/pdf"
        assert answer.body.startswith(b"%PDF-")
        last = events(zhejiang)[-1]
        assert (last.action, last.outcome, last.resource) == (
            "credential.print",
            "success",
            f"credential:{digest}",
        )

        scanned, page_text = _scan(answer.body)
        assert scanned.startswith("TB1:")
        decoded = decode(scanned)
        assert credential_digest(decoded).hex() == digest
        # The national metadata travels in the QR and is printed (long values wrap).
        assert decoded["zhengzhao"] == issued["zhengzhao"]
        assert decoded["zhengzhao"]["identifier"][:40] in page_text
        assert decoded["zhengzhao"]["issuingAgency"]["name"] in page_text

        verified = _verify_scanned(guangdong, scanned)
        assert verified.status == 200, verified.text
        result = verified.json()
        assert result["verified"] is True
        assert result["verdict"] == "VALID"
        holder_check = result["checks"][6]
        assert (holder_check["status"], holder_check["reasonCode"]) == ("SKIPPED", "not_applicable")
        assert holder_check["message"] == PAPER_HOLDER_MESSAGE
        assert result["credential"] == decoded
        assert events(guangdong)[-1].action == "credential.verify"

        # Exactly the print disclosures: nothing else in the QR nor in the PDF's text.
        printed = set(print_claims(get_template(TEMPLATE)))
        shown = {d[1].rsplit("/", 1)[1] for d in decoded["disclosures"]}
        assert shown == printed & set(get_template(TEMPLATE).disclosable)
        qr_json = json.dumps(decoded, ensure_ascii=False)
        hidden = _undisclosed(issued, printed)
        assert hidden  # the business licence keeps some claims off paper
        for salt, pointer, value in hidden:
            for where in (qr_json, scanned, page_text):
                assert salt not in where
                assert str(value) not in where
            assert pointer not in qr_json
        for salt, _, value in decoded["disclosures"]:
            assert str(value) in page_text
            assert salt not in page_text  # salts stay in the QR
        for clear in get_template(TEMPLATE).clear:
            assert str(issued["credentialSubject"][clear]) in page_text


def test_a_tampered_scan_is_refused_or_invalid(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_province(world, tmp_path, ZJ) as zhejiang:
        reply = zhejiang.request(
            "POST",
            "/credentials/issue",
            Role.ISSUER,
            json_body=issue_body(Holder.generate().did, TEMPLATE),
            headers=PERSONAL,
        )
        digest = reply.json()["digest"]
        zhejiang.anchor_all()
        scanned, _ = _scan(_print(zhejiang, digest).body)
        size = len(events(zhejiang))

        # Not TB1 at all: a 400 naming the member, nothing verified, nothing logged.
        body = problem(
            _verify_scanned(zhejiang, "TB1:" + scanned[5:]), 400, ProblemCode.BAD_REQUEST
        )
        assert body["errors"][0]["field"] == "/verifiableCredential/id"
        assert len(events(zhejiang)) == size

        # A clear claim changed in the QR's CBOR: well-formed TB1 (the decoder recomputes
        # the anchor root from the forged digest), but the signature fails (1).
        item = cbor2.loads(zlib.decompress(b45decode(scanned[4:]), -15))
        subject = item[KEYS.index("credentialSubject")]
        subject[KEYS.index("enterpriseName")] += "X"
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        forged_text = "TB1:" + b45encode(packer.compress(cbor2.dumps(item)) + packer.flush())
        forged = _verify_scanned(zhejiang, forged_text).json()
        assert forged["verified"] is False
        assert forged["checks"][1]["status"] == "INVALID"

        # Without the CJK font the service still runs: 503 naming the Debian package.
        def no_font(printed: object) -> object:
            raise FontMissingError("the CJK font wqy-microhei.ttc is not installed")

        monkeypatch.setattr(paper_routes, "render_certificate", no_font)
        unavailable = problem(_print(zhejiang, digest), 503, ProblemCode.UNAVAILABLE)
        assert "fonts-wqy-microhei" in unavailable["detail"]


def test_printing_is_the_issuers_and_a_missing_credential_is_404(
    world: World, tmp_path: Path
) -> None:
    with served_province(world, tmp_path, ZJ) as zhejiang:
        unknown = "cd" * 32
        problem(_print(zhejiang, unknown), 404, ProblemCode.NOT_FOUND)
        last = events(zhejiang)[-1]
        assert (last.action, last.outcome, last.subject) == ("credential.print", "not_found", None)
        problem(_print(zhejiang, unknown, Role.VERIFIER), 403, ProblemCode.FORBIDDEN)
        no_purpose = zhejiang.request("GET", f"/credentials/{unknown}/certificate.pdf", Role.ISSUER)
        problem(no_purpose, 422, ProblemCode.VALIDATION_FAILED)

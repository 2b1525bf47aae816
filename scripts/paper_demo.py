"""The demo printed certificate for the docs, and the paper figures (issue #16).

    .venv/bin/python scripts/paper_demo.py [--image docs/images/printed-certificate.png]
        [--runs 5]

Builds a fictitious business licence (营业执照) of every claim, signed by the test
issuer key (scalar 1, as the tests do), with a 证照标识, a certificate file entry and
an anchor member for a batch of 2^20 leaves (20 random siblings leading from the
credential's own leaf), prints it (``api.paper.render``), rasterizes the page at
150 dpi (pypdfium2) and writes the PNG the docs show. Then, for every template,
it prints the TB1 size and QR version at ECC M for several audit path lengths,
and the time of each step of the paper loop against a baseline measured in the
same run (the offline checks (0), (1), (3), (7) of the same credential, as a wallet
runs them: parse, SM2 signature, Merkle path, disclosures).
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2
import segno
import zxingcpp

from api.paper.render import render_certificate
from credentials.credential import IssueRequest, issue_credential, with_anchor_proof
from credentials.did import issuer_did
from credentials.file_binding import CertificateFile
from credentials.holder import Holder
from credentials.paper.codec import decode, encode
from credentials.paper.printing import printed_credential
from credentials.status_list import list_url, status_entries
from credentials.templates import TEMPLATES, get_template
from credentials.verify.offline import check_offline
from credentials.zhengzhao.identifier import ZhengzhaoId
from credentials.zhengzhao.profile import Agency, zhengzhao_member
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.verify import root_from_inclusion_proof

CHAIN_ID, ISSUER_ID = 31337, 1
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PUBLIC_BASE = "https://tongban.zjzwfw.gov.cn"
KEY = Sm2PrivateKey.from_bytes((1).to_bytes(32, "big"))
AGENCY = Agency("11330000TB0000002G", "浙江省市场监督管理局 (示例)")
# Fictitious values: none names a real person or enterprise.
CLAIMS: dict[str, Any] = {
    "unifiedSocialCreditCode": "91330100MA2A777707",
    "enterpriseName": "杭州通办示例科技有限公司",
    "enterpriseType": "有限责任公司",
    "legalRepresentative": "示例人",
    "registeredCapital": "100万元人民币",
    "establishmentDate": "2019-03-15",
    "businessScope": "软件开发、信息技术咨询服务",
    "registeredAddress": "浙江省杭州市西湖区示例路1号",
    "registrationAuthority": "杭州市西湖区市场监督管理局",
    "operatingPeriodEnd": "2049-03-14",
    "holderName": "示例人",
    "gender": "female",
    "dateOfBirth": "2000-01-02",
    "degreeLevel": "bachelor",
    "degreeName": "工学学士",
    "fieldOfStudy": "计算机科学与技术",
    "awardingInstitution": "示例大学",
    "conferralDate": "2022-06-30",
    "certificateNumber": "1033512022000123",
    "studyMode": "full-time",
    "childName": "示例婴",
    "childGender": "male",
    "placeOfBirth": "浙江省杭州市上城区",
    "birthWeightGrams": 3250,
    "birthLengthCm": 50.5,
    "motherName": "示例母",
    "fatherName": "示例父",
    "issuingInstitution": "示例妇产科医院",
    "holderDateOfBirth": "1995-05-05",
    "holderNationality": "CHN",
    "spouseName": "示例配偶",
    "spouseDateOfBirth": "1996-06-06",
    "spouseNationality": "CHN",
    "registrationDate": "2023-05-20",
    "ethnicity": "汉族",
    "citizenIdNumber": "11010519491231002X",
    "householdAddress": "浙江省杭州市拱墅区示例路2号",
    "issuingAuthority": "杭州市公安局拱墅区分局",
}


def build(template: str, levels: int = 20) -> dict[str, Any]:
    """A signed credential of ``template`` anchored in a batch of ``2**levels`` leaves."""
    national = get_template(template).national
    member = None
    if national is not None:
        identifier = str(ZhengzhaoId(national.type_code, AGENCY.code, "20260001234", 1))
        member = zhengzhao_member(national, AGENCY, identifier, "330000")
    claims = {k: CLAIMS[k] for k in get_template(template).claims if k in CLAIMS}
    request = IssueRequest(
        template=template,
        holder=Holder.generate().did,
        claims=claims,
        valid_from="2026-05-01T00:00:00Z",
        valid_until="2036-04-30T23:59:59Z",
        credential_status=tuple(
            status_entries(lambda p: list_url(PUBLIC_BASE, 1, p), secrets.randbelow(131_072))
        ),
        agency=AGENCY if member is not None else None,
        zhengzhao=member,
        related_file=CertificateFile(secrets.token_bytes(32), "application/pdf", 48_213),
    )
    signer = LocalSigner(f"{issuer_did(CHAIN_ID, ISSUER_ID)}#key-1", KEY)
    signed = issue_credential(
        request, signer, chain_id=CHAIN_ID, issuer_id=ISSUER_ID, now_ms=1_777_593_600_000
    )
    size = 1 << levels
    index = secrets.randbelow(size)
    path = [secrets.token_bytes(32) for _ in range(levels)]
    hasher = TreeHasher()
    root = root_from_inclusion_proof(hasher, index, size, hasher.hash_leaf(signed.digest), path)
    anchor = {
        "type": "TongbanAnchorProof2026",
        "chainId": CHAIN_ID,
        "contract": CONTRACT,
        "issuerId": ISSUER_ID,
        "root": root.hex(),
        "leafIndex": index,
        "treeSize": size,
        "auditPath": [p.hex() for p in path],
        "blockNumber": 18_345_678,
    }
    return with_anchor_proof(signed.document, anchor)


def _median_ms(runs: int, step: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    """Write the demo PNG; print the size table and the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=Path("docs/images/printed-certificate.png"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    printed = printed_credential(build("business-licence"))
    rendered = render_certificate(printed)
    page = pypdfium2.PdfDocument(rendered.pdf)[0].render(scale=150 / 72).to_pil()
    args.image.parent.mkdir(parents=True, exist_ok=True)
    page.save(args.image, optimize=True)
    print(f"wrote {args.image} ({page.size[0]}x{page.size[1]}, 150 dpi)")

    print("\ntemplate                   path levels  TB1 chars  QR version (ECC M)")
    for name in sorted(TEMPLATES):
        for levels in (0, 10, 16, 20):
            text = encode(printed_credential(build(name, levels)))
            version = segno.make(text, error="m", boost_error=False).version
            print(f"{name:26} {levels:11} {len(text):10} {version:6}")

    text = rendered.qr_text
    pdf = rendered.pdf
    image = page
    steps: list[tuple[str, Callable[[], object]]] = [
        ("baseline: offline checks", lambda: check_offline(printed, issuer_key=KEY.public_key)),
        ("TB1 encode (self-checking)", lambda: encode(printed)),
        ("TB1 decode (strict)", lambda: decode(text)),
        ("render A4 PDF", lambda: render_certificate(printed)),
        ("rasterize 150 dpi", lambda: pypdfium2.PdfDocument(pdf)[0].render(scale=150 / 72)),
        ("zxing-cpp QR decode", lambda: zxingcpp.read_barcodes(image)),
    ]
    print(f"\nmedian of {args.runs} runs, same process")
    baseline = 0.0
    for label, step in steps:
        ms = _median_ms(args.runs, step)
        baseline = baseline or ms
        print(f"{label:30} {ms:9.2f} ms  {ms / baseline:7.1f}x baseline")


if __name__ == "__main__":
    main()

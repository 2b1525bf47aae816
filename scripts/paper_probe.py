"""Probe for the printed certificate (issue #16): QR size budget and the paper loop.

    .venv/bin/python scripts/paper_probe.py [--template NAME] [--out DIR]

Scratch measurements behind docs/paper-certificate.md. Part 1 builds real
credentials with the project's own code (every template, every claim, signed
by the test issuer key as the tests do, two status entries, and an anchor
member for a batch of 2^20 leaves: 20 random siblings whose root is computed
from the credential's own leaf, so the audit path verifies), derives the print
disclosures, and prints the size of each encoding against the QR capacity of
version 25 at error correction M (asked of segno). Part 2 runs the paper loop
with each candidate library: QR, A4 PDF with Chinese text, 150-dpi raster, QR
decode, byte comparison, text extraction; it prints time per step (median of
``--runs``) and file sizes, all in the same run.

The candidate libraries are not project dependencies: install them into the
venv to run this (``pip install segno qrcode reportlab fpdf2 pypdfium2 zxing-cpp
pyzbar pypdf pdfminer.six cbor2 base45``; Debian ``fonts-wqy-microhei
poppler-utils libzbar0``). They are imported through ``importlib`` so that mypy
passes where they are absent.
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from paper_encoding import PREFIX, compact, decode_qr_text, deflate, encode_qr_text, tighten

from credentials.credential import (
    IssueRequest,
    credential_digest,
    issue_credential,
    with_anchor_proof,
)
from credentials.did import issuer_did
from credentials.holder import Holder, derive_credential
from credentials.jcs import canonicalize
from credentials.status_list import list_url, status_entries
from credentials.templates import get_template
from credentials.verify.offline import TrustedChain, check_offline
from credentials.verify.outcome import Passed
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.merkle.hasher import TreeHasher
from ledger.merkle.verify import root_from_inclusion_proof


def _mod(name: str) -> Any:
    return importlib.import_module(name)


CHAIN_ID = 31337
ISSUER_ID = 1
CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
PUBLIC_BASE = "https://tongban.zjzwfw.gov.cn"  # a realistic province host (29 chars)
ISSUER_KEY = Sm2PrivateKey.from_bytes((1).to_bytes(32, "big"))
LEVELS = 20

CLAIMS: dict[str, dict[str, Any]] = {
    "degree-certificate": {
        "holderName": "张三",
        "gender": "male",
        "dateOfBirth": "2000-01-02",
        "degreeLevel": "bachelor",
        "degreeName": "工学学士",
        "fieldOfStudy": "计算机科学与技术",
        "awardingInstitution": "浙江大学",
        "conferralDate": "2022-06-30",
        "certificateNumber": "1033512022000123",
        "studyMode": "full-time",
    },
    "business-licence": {
        "unifiedSocialCreditCode": "91330100MA2A777707",
        "enterpriseName": "杭州通办科技有限公司",
        "enterpriseType": "有限责任公司",
        "legalRepresentative": "李四",
        "registeredCapital": "100万元人民币",
        "establishmentDate": "2019-03-15",
        "businessScope": "软件开发、信息技术咨询服务",
        "registeredAddress": "浙江省杭州市西湖区文三路1号",
        "registrationAuthority": "杭州市西湖区市场监督管理局",
        "operatingPeriodEnd": "2049-03-14",
    },
    "birth-medical-certificate": {
        "childName": "王小明",
        "childGender": "male",
        "dateOfBirth": "2024-02-29",
        "placeOfBirth": "浙江省杭州市上城区",
        "birthWeightGrams": 3250,
        "birthLengthCm": 50.5,
        "motherName": "赵丽",
        "fatherName": "王强",
        "issuingInstitution": "浙江大学医学院附属妇产科医院",
        "certificateNumber": "R330012345",
    },
    "marriage-certificate": {
        "holderName": "陈一",
        "holderDateOfBirth": "1995-05-05",
        "holderNationality": "CHN",
        "spouseName": "林二",
        "spouseDateOfBirth": "1996-06-06",
        "spouseNationality": "CHN",
        "registrationDate": "2023-05-20",
        "registrationAuthority": "杭州市西湖区民政局",
        "certificateNumber": "J330106-2023-001234",
    },
}

PRINT_CLAIMS: dict[str, tuple[str, ...]] = {
    "degree-certificate": (
        "holderName",
        "degreeName",
        "fieldOfStudy",
        "awardingInstitution",
        "conferralDate",
        "certificateNumber",
    ),
    "business-licence": (
        "enterpriseType",
        "legalRepresentative",
        "registeredCapital",
        "establishmentDate",
        "registeredAddress",
        "registrationAuthority",
    ),
    "birth-medical-certificate": (
        "childName",
        "childGender",
        "dateOfBirth",
        "placeOfBirth",
        "issuingInstitution",
        "certificateNumber",
    ),
    "marriage-certificate": (
        "holderName",
        "spouseName",
        "registrationDate",
        "registrationAuthority",
        "certificateNumber",
    ),
}


# ------------------------------------------------------------------ credentials


def build(template: str) -> dict[str, Any]:
    """A signed credential of ``template`` with every claim and a 20-level anchor member."""
    signer = LocalSigner(f"{issuer_did(CHAIN_ID, ISSUER_ID)}#key-1", ISSUER_KEY)
    index = secrets.randbelow(131_072)
    entries = status_entries(lambda p: list_url(PUBLIC_BASE, 1, p), index)
    request = IssueRequest(
        template=template,
        holder=Holder.generate().did,
        claims=CLAIMS[template],
        valid_from="2026-05-01T00:00:00Z",
        valid_until="2036-04-30T23:59:59Z",
        credential_status=tuple(entries),
    )
    signed = issue_credential(
        request, signer, chain_id=CHAIN_ID, issuer_id=ISSUER_ID, now_ms=1_777_593_600_000
    )
    doc = signed.document
    # A batch of exactly 2^20 leaves: every leaf has a 20-sibling path.
    tree_size = 1 << LEVELS
    leaf_index = secrets.randbelow(tree_size)
    path = [secrets.token_bytes(32) for _ in range(LEVELS)]
    hasher = TreeHasher()
    root = root_from_inclusion_proof(
        hasher, leaf_index, tree_size, hasher.hash_leaf(signed.digest), path
    )
    anchor = {
        "type": "TongbanAnchorProof2026",
        "chainId": CHAIN_ID,
        "contract": CONTRACT,
        "issuerId": ISSUER_ID,
        "root": root.hex(),
        "leafIndex": leaf_index,
        "treeSize": tree_size,
        "auditPath": [p.hex() for p in path],
        "blockNumber": 18_345_678,
    }
    return with_anchor_proof(doc, anchor)


def encodings(credential: dict[str, Any]) -> dict[str, bytes]:
    """Every candidate byte encoding of ``credential`` (before base45)."""
    cbor2 = _mod("cbor2")
    plain = json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode()
    out = {
        "JSON (compact, UTF-8)": plain,
        "JCS": canonicalize(credential),
        "CBOR": cbor2.dumps(credential),
        "CBOR + key dictionary": cbor2.dumps(compact(credential, keys=True, typed=False)),
        "CBOR + keys + typed values": cbor2.dumps(compact(credential, keys=True, typed=True)),
        "CBOR + keys + typed + recomputables dropped": cbor2.dumps(
            compact(tighten(credential), keys=True, typed=True)
        ),
    }
    for name in list(out):
        out[name + " + deflate-9"] = deflate(out[name])
    return out


def qr_fits(payload: bytes | str, version: int = 25) -> bool:
    """Whether segno can put ``payload`` in a QR of ``version`` at ECC M."""
    segno = _mod("segno")
    try:
        segno.make(payload, error="m", version=version, boost_error=False, micro=False)
    except segno.DataOverflowError:
        return False
    return True


def smallest_version(payload: bytes | str) -> int | str:
    """The smallest QR version at ECC M that segno chooses, or ``>40``."""
    segno = _mod("segno")
    try:
        return int(segno.make(payload, error="m", boost_error=False, micro=False).version)
    except segno.DataOverflowError:
        return ">40"


def capacity(kind: str, version: int = 25) -> int:
    """The largest payload of ``kind`` (byte or alphanumeric) segno fits in ``version``-M."""
    lo, hi = 1, 4000
    while lo < hi:
        mid = (lo + hi + 1) // 2
        data: bytes | str = b"\xa5" * mid if kind == "byte" else "A" * mid
        if qr_fits(data, version):
            lo = mid
        else:
            hi = mid - 1
    return lo


def size_budget(template_names: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Part 1; returns the largest template's full and print credentials."""
    base45 = _mod("base45")
    cap_b, cap_a = capacity("byte"), capacity("alnum")
    print(f"QR 25-M capacity (segno): {cap_b} bytes (byte mode), {cap_a} chars (alphanumeric)")
    print(f"QR 40-M capacity (segno): {capacity('byte', 40)} bytes, {capacity('alnum', 40)} chars")
    full_sizes = {}
    docs = {}
    for name in template_names:
        doc = build(name)
        docs[name] = doc
        full_sizes[name] = len(canonicalize(doc))
        print(f"  {name}: full credential JCS {full_sizes[name]} bytes")
    largest = max(full_sizes, key=lambda n: full_sizes[n])
    doc = docs[largest]
    printed = derive_credential(doc, PRINT_CLAIMS[largest])
    print(f"largest template: {largest}; print claims {PRINT_CLAIMS[largest]}")
    for label, cred in (("all claims", doc), ("print disclosures", printed)):
        print(f"\n{label} ({largest}, {LEVELS}-level audit path):")
        print(f"  {'encoding':44} {'bytes':>6} {'ver':>4} {'base45':>7} {'ver':>4}")
        for enc, data in encodings(cred).items():
            b45 = PREFIX + base45.b45encode(data).decode()
            print(
                f"  {enc:44} {len(data):6} {smallest_version(data)!s:>4} "
                f"{len(b45):7} {smallest_version(b45)!s:>4}"
            )
    # Where the bytes go, in the typed CBOR form (before deflate).
    cbor2 = _mod("cbor2")
    # Without the anchor path: what remains if the path left the QR.
    no_path = {**printed, "anchor": {**printed["anchor"], "auditPath": []}}
    nb = deflate(cbor2.dumps(compact(tighten(no_path), keys=True, typed=True)))
    print(f"  chosen encoding with no auditPath at all: {len(nb)} bytes deflated")
    tight = tighten(printed)
    parts = {k: len(cbor2.dumps(compact(v, keys=True, typed=True))) for k, v in tight.items()}
    print("  chosen encoding, CBOR bytes per member before deflate:", parts)
    sd_left = len(tight["credentialSubject"]["_sd"])
    salts = 16 * len(printed.get("disclosures", []))
    floor = 32 * sd_left + 32 * LEVELS + 64 + salts + 16 + 35
    print(
        f"  random bytes no encoding can shrink: {sd_left} undisclosed _sd x 32 + path"
        f" {LEVELS} x 32 + signature 64 + salts {salts} + uuid 16 + holder key 35 = {floor}"
    )
    for levels in (10, 12, 14, 16):
        cut = {
            **printed,
            "anchor": {**printed["anchor"], "auditPath": printed["anchor"]["auditPath"][:levels]},
        }
        t = encode_qr_text(cut)
        print(
            f"  audit path of {levels} levels: {len(t)} chars base45,"
            f" QR version {smallest_version(t)}"
        )
    return doc, printed


# ----------------------------------------------------------------- the paper loop

COLON = "\N{FULLWIDTH COLON}"
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
TITLE = {
    "degree-certificate": "学位证书",
    "business-licence": "营业执照",
    "birth-medical-certificate": "出生医学证明",
    "marriage-certificate": "结婚证",
}


def lines_for(cred: dict[str, Any], template: str) -> list[str]:
    """The text printed on the certificate (照面信息 and its metadata)."""
    disclosed = {d[1].rsplit("/", 1)[1]: d[2] for d in cred.get("disclosures", [])}
    subject = {k: v for k, v in cred["credentialSubject"].items() if k not in ("id", "_sd")}
    out = [f"{k}{COLON}{v}" for k, v in {**subject, **disclosed}.items()]
    out += [
        f"发证机关 (agency){COLON}浙江省市场监督管理局",
        f"签发方 (issuer){COLON}{cred['issuer']}",
        f"证照标识{COLON}{cred['id']}",
        f"有效期{COLON}{cred['validFrom'][:10]} 至 {cred.get('validUntil', '长期')[:10]}",
        f"可信等级 (trust grade){COLON}A",
    ]
    return out


def qr_png(text: str, lib: str) -> bytes:
    """A PNG of the QR (ECC M, 4-module quiet zone)."""
    buf = io.BytesIO()
    if lib == "segno":
        _mod("segno").make(text, error="m", boost_error=False, micro=False).save(
            buf, kind="png", scale=4, border=4
        )
    else:
        qrcode = _mod("qrcode")
        qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=4, border=4)
        qr.add_data(text, optimize=0)
        qr.make(fit=True)
        qr.make_image().save(buf)
    return buf.getvalue()


def pdf_reportlab(path: Path, title: str, lines: list[str], png: bytes) -> None:
    """A4 with reportlab: TrueType subset of WenQuanYi Micro Hei, QR 60 mm."""
    pdfmetrics = _mod("reportlab.pdfbase.pdfmetrics")
    ttfonts = _mod("reportlab.pdfbase.ttfonts")
    canvas_mod = _mod("reportlab.pdfgen.canvas")
    a4 = _mod("reportlab.lib.pagesizes").A4
    mm = _mod("reportlab.lib.units").mm
    reader = _mod("reportlab.lib.utils").ImageReader
    pdfmetrics.registerFont(ttfonts.TTFont("WQY", FONT, subfontIndex=0))
    c = canvas_mod.Canvas(str(path), pagesize=a4, invariant=1)
    c.setFont("WQY", 24)
    c.drawCentredString(a4[0] / 2, a4[1] - 30 * mm, title)
    c.setFont("WQY", 11)
    y = a4[1] - 50 * mm
    for line in lines:
        c.drawString(20 * mm, y, line)
        y -= 7 * mm
    c.drawImage(reader(io.BytesIO(png)), 125 * mm, 20 * mm, 65 * mm, 65 * mm)
    c.showPage()
    c.save()


def pdf_fpdf2(path: Path, title: str, lines: list[str], png: bytes) -> None:
    """A4 with fpdf2: the same layout (fpdf2 subsets fonts with fontTools)."""
    fpdf = _mod("fpdf")
    pdf = fpdf.FPDF(format="A4")
    pdf.add_page()
    pdf.add_font("WQY", fname=FONT)
    pdf.set_font("WQY", size=24)
    pdf.cell(0, 20, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("WQY", size=11)
    for line in lines:
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(png), x=125, y=212, w=65, h=65)
    pdf.output(str(path))


def raster_pdfium(path: Path) -> Any:
    """Page 1 at 150 dpi as a PIL image, by pypdfium2."""
    pdfium = _mod("pypdfium2")
    doc = pdfium.PdfDocument(str(path))
    image = doc[0].render(scale=150 / 72).to_pil()
    doc.close()
    return image


def raster_pdftoppm(path: Path) -> Any:
    """Page 1 at 150 dpi as a PIL image, by poppler's pdftoppm (a subprocess)."""
    image_mod = _mod("PIL.Image")
    out = subprocess.run(
        [shutil.which("pdftoppm") or "pdftoppm", "-r", "150", "-png", "-singlefile", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return image_mod.open(io.BytesIO(out))


def decode_zxing(image: Any) -> bytes:
    """The QR's bytes, by zxing-cpp."""
    results = _mod("zxingcpp").read_barcodes(image)
    return bytes(results[0].bytes) if results else b""


def decode_zbar(image: Any) -> bytes:
    """The QR's bytes, by pyzbar (libzbar0)."""
    results = _mod("pyzbar.pyzbar").decode(image)
    return bytes(results[0].data) if results else b""


def text_pypdf(path: Path) -> str:
    """The PDF's text, by pypdf."""
    return str(_mod("pypdf").PdfReader(str(path)).pages[0].extract_text())


def text_pdfminer(path: Path) -> str:
    """The PDF's text, by pdfminer.six."""
    return str(_mod("pdfminer.high_level").extract_text(str(path)))


def text_pdfium(path: Path) -> str:
    """The PDF's text, by pypdfium2's text page."""
    pdfium = _mod("pypdfium2")
    doc = pdfium.PdfDocument(str(path))
    text = str(doc[0].get_textpage().get_text_range())
    doc.close()
    return text


def timed(fn: Callable[[], Any], runs: int) -> tuple[Any, float]:
    """``fn``'s result and its median wall time in ms over ``runs`` calls."""
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return result, statistics.median(times)


def leaks(haystack: str, full: dict[str, Any], printed: dict[str, Any]) -> list[str]:
    """Undisclosed values, salts or pointers of ``full`` found in ``haystack``."""
    shown = {tuple(map(str, d)) for d in printed.get("disclosures", [])}
    found = []
    for d in full["disclosures"]:
        if tuple(map(str, d)) in shown:
            continue
        for part in (str(d[0]), str(d[2]), str(d[1])):
            if part in haystack:
                found.append(part)
    return found


def paper_loop(template: str, full: dict[str, Any], printed: dict[str, Any], out: Path) -> None:
    """Part 2: every library combination once, timed, same run."""
    runs = ARGS.runs
    text = encode_qr_text(printed)
    print(f"\nQR payload: {len(text)} chars, version {smallest_version(text)}-M")
    assert decode_qr_text(text) == printed  # noqa: S101 - a probe, not the service
    assert credential_digest(decode_qr_text(text)) == credential_digest(full)  # noqa: S101
    trusted = TrustedChain(CHAIN_ID, CONTRACT)
    offline = check_offline(decode_qr_text(text), trusted=trusted, issuer_key=ISSUER_KEY.public_key)
    print(f"offline checks (0),(1),(3),(7) on the decoded payload: {type(offline).__name__}")
    assert isinstance(offline, Passed)  # noqa: S101
    as_json = json.dumps(decode_qr_text(text), ensure_ascii=False)
    print(f"undisclosed parts in the QR payload (decoded JSON): {leaks(as_json, full, printed)}")
    lines = lines_for(printed, template)
    print(f"\n{'step':44} {'ms':>8}  notes")
    for qlib in ("segno", "qrcode"):
        png, ms = timed(lambda q=qlib: qr_png(text, q), runs)  # type: ignore[misc]
        print(f"{'QR PNG ' + qlib:44} {ms:8.1f}  {len(png)} B")
    png = qr_png(text, "segno")
    for plib, writer in (("reportlab", pdf_reportlab), ("fpdf2", pdf_fpdf2)):
        path = out / f"certificate-{plib}.pdf"
        _, ms = timed(lambda w=writer, p=path: w(p, TITLE[template], lines, png), runs)  # type: ignore[misc]
        print(f"{'PDF ' + plib:44} {ms:8.1f}  {path.stat().st_size} B")
        for rlib, raster in (("pypdfium2", raster_pdfium), ("pdftoppm", raster_pdftoppm)):
            image, rms = timed(lambda r=raster, p=path: r(p), runs)  # type: ignore[misc]
            image.save(out / f"certificate-{plib}-{rlib}.png")
            print(f"{'  raster 150 dpi ' + rlib:44} {rms:8.1f}  {image.size[0]}x{image.size[1]}")
            for dlib, dec in (("zxing-cpp", decode_zxing), ("pyzbar", decode_zbar)):
                got, dms = timed(lambda d=dec, i=image: d(i), runs)  # type: ignore[misc]
                ok = got == text.encode()
                print(f"{'    decode ' + dlib:44} {dms:8.1f}  bytes equal: {ok}")
        for tlib, extract in (
            ("pypdf", text_pypdf),
            ("pdfminer.six", text_pdfminer),
            ("pypdfium2", text_pdfium),
        ):
            extracted, tms = timed(lambda e=extract, p=path: e(p), runs)  # type: ignore[misc]
            complete = all(line.replace(" ", "") in extracted.replace(" ", "") for line in lines)
            print(
                f"{'  text ' + tlib:44} {tms:8.1f}  all printed lines found: {complete};"
                f" leaks: {leaks(extracted, full, printed)}"
            )


def main() -> None:
    """Run parts 1 and 2."""
    names = list(CLAIMS) if ARGS.template is None else [ARGS.template]
    for name in names:
        get_template(name)
    full, printed = size_budget(names)
    template = next(n for n in CLAIMS if get_template(n).credential_type == full["type"][1])
    out = Path(ARGS.out) if ARGS.out else Path(tempfile.mkdtemp(prefix="paper-probe-"))
    out.mkdir(parents=True, exist_ok=True)
    paper_loop(template, full, printed, out)
    print(f"\nfiles in {out}")


PARSER = argparse.ArgumentParser(description=__doc__)
PARSER.add_argument("--template", default=None)
PARSER.add_argument("--out", default=None)
PARSER.add_argument("--runs", type=int, default=5)
ARGS = PARSER.parse_args() if __name__ == "__main__" else PARSER.parse_args([])

if __name__ == "__main__":
    main()

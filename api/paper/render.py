"""One A4 page: the 照面信息 chosen for print, the agency, issuer, 证照标识, validity, grade, QR.

The page shows only what the printed credential discloses (its clear claims and
its print disclosures: ``credentials.paper.printing.printed_credential``), and
the QR carries that very credential in TB1 (``credentials.paper.codec``): the
PDF's text and the QR hold no undisclosed value, salt or disclosure.

Chinese text is drawn with WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``,
embedded as a subset; reportlab reads TrueType, not the CFF outlines of Noto
CJK). The QR is drawn as vector squares from segno's module matrix, up to 95 mm
wide with its quiet zone: at version 34 (161 modules with the quiet zone) a
150-dpi scan has about 3.5 pixels per module, which zxing-cpp decodes (tests).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from credentials.credential import credential_digest
from credentials.disclosure import claim_name
from credentials.paper.codec import encode
from credentials.paper.printing import template_of
from credentials.zhengzhao.profile import MEMBER

__all__ = [
    "FONT_FILE",
    "FONT_PACKAGE",
    "MIN_QR_SIZE_MM",
    "QR_ERROR",
    "QR_SIZE_MM",
    "FontMissingError",
    "PrintedCertificate",
    "find_font",
    "render_certificate",
]

FONT_PACKAGE: Final = "fonts-wqy-microhei"
"""The Debian package holding the CJK font (``apt-get install fonts-wqy-microhei``)."""

FONT_FILE: Final = "wqy-microhei.ttc"
"""The font file looked for under ``/usr/share/fonts``."""

FONT_ROOTS: Final = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
"""Where the font is looked for (the Debian package installs it under the first)."""

QR_ERROR: Final = "m"
"""QR error correction level (ECC M: about 15 % of the symbol may be damaged)."""

QR_SIZE_MM: Final = 95.0
"""Printed width of the QR symbol with its 4-module quiet zone, when the text leaves room."""

MIN_QR_SIZE_MM: Final = 70.0
"""Smallest printed width: long claim values wrap onto more lines, the QR shrinks to this."""

_FONT_NAME = "WenQuanYiMicroHei"

LABELS: Final[Mapping[str, tuple[str, str]]] = {
    "holderName": ("持证人", "Holder"),
    "gender": ("性别", "Sex"),
    "dateOfBirth": ("出生日期", "Date of birth"),
    "degreeLevel": ("学位层次", "Degree level"),
    "degreeName": ("学位名称", "Degree"),
    "fieldOfStudy": ("学科专业", "Field of study"),
    "awardingInstitution": ("学位授予单位", "Awarding institution"),
    "conferralDate": ("授予日期", "Conferred on"),
    "certificateNumber": ("证照编号", "Certificate number"),
    "studyMode": ("学习形式", "Study mode"),
    "unifiedSocialCreditCode": ("统一社会信用代码", "Unified social credit code"),
    "enterpriseName": ("名称", "Enterprise name"),
    "enterpriseType": ("类型", "Enterprise type"),
    "legalRepresentative": ("法定代表人", "Legal representative"),
    "registeredCapital": ("注册资本", "Registered capital"),
    "establishmentDate": ("成立日期", "Established on"),
    "businessScope": ("经营范围", "Business scope"),
    "registeredAddress": ("住所", "Registered address"),
    "registrationAuthority": ("登记机关", "Registration authority"),
    "operatingPeriodEnd": ("营业期限至", "Operating until"),
    "childName": ("新生儿姓名", "Child's name"),
    "childGender": ("性别", "Sex"),
    "placeOfBirth": ("出生地点", "Place of birth"),
    "birthWeightGrams": ("出生体重 (克)", "Birth weight (g)"),
    "birthLengthCm": ("出生身长 (厘米)", "Birth length (cm)"),
    "motherName": ("母亲姓名", "Mother"),
    "fatherName": ("父亲姓名", "Father"),
    "issuingInstitution": ("签发机构", "Issuing institution"),
    "holderDateOfBirth": ("出生日期", "Date of birth"),
    "holderNationality": ("国籍", "Nationality"),
    "spouseName": ("配偶姓名", "Spouse"),
    "spouseDateOfBirth": ("配偶出生日期", "Spouse's date of birth"),
    "spouseNationality": ("配偶国籍", "Spouse's nationality"),
    "registrationDate": ("登记日期", "Registered on"),
    "ethnicity": ("民族", "Ethnicity"),
    "citizenIdNumber": ("公民身份号码", "Citizen ID number"),
    "householdAddress": ("户籍地址", "Household address"),
    "issuingAuthority": ("出具机关", "Issuing authority"),
}
"""Chinese and English labels of the claims (a claim not listed shows its own name)."""

VERIFY_HINT: Final = (
    "验证: 扫描二维码, 提交至任一通办省份的 POST /credentials/verify, "
    "或运行 tongban verify --qr 图片文件。",
    "To verify: scan the QR code and submit it to POST /credentials/verify of any "
    "Tongban province, or run tongban verify --qr IMAGE.",
    "纸质打印件不证明持有人身份; 二维码只含本页所示信息。",
    "Paper does not prove who holds it; the QR holds only what this page shows.",
)
"""The verification hint printed under the QR code."""


class FontMissingError(RuntimeError):
    """The CJK font is not installed (names the Debian package to install)."""


@dataclass(frozen=True)
class PrintedCertificate:
    """A rendered certificate: the PDF, the QR's TB1 text and its QR version."""

    pdf: bytes
    qr_text: str
    qr_version: int


def find_font(roots: Sequence[Path] = FONT_ROOTS) -> Path:
    """The WenQuanYi Micro Hei font file; ``FontMissingError`` naming the package if absent."""
    for root in roots:
        if root.is_dir():
            for found in sorted(root.rglob(FONT_FILE)):
                return found
    raise FontMissingError(
        f"the CJK font {FONT_FILE} is not installed: run "
        f"'apt-get install {FONT_PACKAGE}' as root (or 'make deps')"
    )


def _register_font() -> str:
    if _FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT_NAME, str(find_font()), subfontIndex=0))
    return _FONT_NAME


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "是 yes" if value else "否 no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(credential: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(Chinese label, English label, value) of every claim the credential shows."""
    template = template_of(credential)
    subject = credential.get("credentialSubject", {})
    shown = {k: v for k, v in subject.items() if k not in ("id", "_sd")}
    for disclosure in credential.get("disclosures", []):
        shown[claim_name(str(disclosure[1]))] = disclosure[2]
    rows = []
    for claim in template.claims:
        if claim in shown:
            chinese, english = LABELS.get(claim, (claim, claim))
            rows.append((chinese, english, _text(shown[claim])))
    return rows


def _header_rows(credential: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    member = credential.get(MEMBER)
    zhengzhao = member if isinstance(member, Mapping) else {}
    agency = zhengzhao.get("issuingAgency")
    agency_text = (
        f"{agency.get('name', '')} ({agency.get('code', '')})"
        if isinstance(agency, Mapping)
        else "—"
    )
    until = credential.get("validUntil", "长期 no end")
    grade = zhengzhao.get("trustGrade")
    rows = [
        ("证照标识", "Certificate identifier", str(zhengzhao.get("identifier", "—"))),
        ("颁发机构", "Issuing agency", agency_text),
        ("签发方", "Issuer", str(credential.get("issuer", ""))),
        ("有效期", "Valid", f"{credential.get('validFrom', '')} — {until}"),
        ("信任等级", "Trust grade", "—" if grade is None else str(grade)),
    ]
    if zhengzhao.get("usageNote"):
        rows.append(("用证说明", "Usage note", str(zhengzhao["usageNote"])))
    if zhengzhao.get("jurisdiction"):
        rows.append(("管辖属地", "Jurisdiction", str(zhengzhao["jurisdiction"])))
    return rows


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines no wider than ``width`` (cut at any character: CJK has no spaces)."""
    lines, line = [], ""
    for char in text:
        if pdfmetrics.stringWidth(line + char, font, size) > width and line:
            lines.append(line)
            line = char
        else:
            line += char
    return [*lines, line] if line else lines


def _draw_qr(canvas: Canvas, qr: segno.QRCode, x: float, y: float, size: float) -> None:
    """The symbol as filled squares, bottom-left at (x, y), ``size`` wide with its quiet zone."""
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    module = size / len(matrix)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        top = y + size - (r + 1) * module
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                # A run of dark modules as one rectangle, slightly overlapping the next row.
                canvas.rect(
                    x + start * module, top, (c - start) * module, module * 1.02, stroke=0, fill=1
                )
            else:
                c += 1


def render_certificate(printed: Mapping[str, Any]) -> PrintedCertificate:
    """The A4 PDF of ``printed`` (a credential already derived to its print disclosures)."""
    font = _register_font()
    template = template_of(printed)
    text = encode(printed)
    qr = segno.make(text, error=QR_ERROR, boost_error=False)
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(template.title)
    canvas.setCreator("Tongban")
    width, height = A4
    left, right = 20 * mm, width - 20 * mm
    y = height - 25 * mm
    chinese_title, _, english_title = template.title.partition(" ")
    canvas.setFont(font, 24)
    canvas.drawCentredString(width / 2, y, chinese_title)
    y -= 8 * mm
    canvas.setFont(font, 11)
    canvas.drawCentredString(width / 2, y, f"{english_title} · 电子证照打印件 Printed certificate")
    y -= 10 * mm
    for rows in (_rows(printed), _header_rows(printed)):
        for chinese, english, value in rows:
            canvas.setFont(font, 10.5)
            canvas.drawString(left, y, chinese)
            canvas.setFont(font, 7.5)
            canvas.drawString(left, y - 3.6 * mm, english)
            canvas.setFont(font, 10.5)
            lines = _wrap(value, font, 10.5, right - left - 45 * mm) or [""]
            for i, line in enumerate(lines):
                canvas.drawString(left + 45 * mm, y - i * 4.6 * mm, line)
            y -= max(8.5 * mm, (len(lines) * 4.6 + 3.9) * mm)
        canvas.setLineWidth(0.4)
        canvas.line(left, y + 4 * mm, right, y + 4 * mm)
        y -= 2 * mm
    digest = credential_digest(printed).hex()
    canvas.setFont(font, 7.5)
    canvas.drawString(left, y, f"凭证摘要 Credential digest (SM3): {digest}")
    qr_y = 28 * mm
    # As large as the text above leaves room for, within QR_SIZE_MM and MIN_QR_SIZE_MM.
    size = max(MIN_QR_SIZE_MM * mm, min(QR_SIZE_MM * mm, y - 4 * mm - qr_y))
    _draw_qr(canvas, qr, (width - size) / 2, qr_y, size)
    canvas.setFont(font, 7.5)
    canvas.drawCentredString(
        width / 2, qr_y - 1 * mm, f"TB1 · QR {qr.version}-{QR_ERROR.upper()} · {len(text)} chars"
    )
    hint_y = qr_y - 6 * mm
    for line in VERIFY_HINT:
        canvas.drawCentredString(width / 2, hint_y, line)
        hint_y -= 3.8 * mm
    canvas.showPage()
    canvas.save()
    return PrintedCertificate(out.getvalue(), text, int(qr.version))

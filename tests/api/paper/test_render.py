"""The printed certificate's page (api.paper.render): every template, 2^20-leaf paths, 150 dpi.

Each template's printed credential (a 证照标识, a certificate file, a 20-level
audit path) is drawn on one A4 page; the page rasterized at 150 dpi gives back
the QR text with zxing-cpp, and the page's text (pypdfium2) shows the labels,
the printed claims and the national metadata, and no undisclosed claim.
"""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageFilter

from api.paper.render import FontMissingError, find_font, render_certificate
from credentials.paper.codec import decode
from credentials.paper.printing import printed_credential
from credentials.templates import TEMPLATES
from tests.credentials.paper.samples import CLAIMS, sample


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_prints_one_a4_page_whose_qr_decodes_at_150_dpi(template: str) -> None:
    issued = sample(template)
    printed = printed_credential(issued)
    rendered = render_certificate(printed)
    document = pypdfium2.PdfDocument(rendered.pdf)
    assert len(document) == 1
    page = document[0]
    assert [round(v / 72 * 25.4) for v in page.get_size()] == [210, 297]
    image = page.render(scale=150 / 72).to_pil()
    assert image.size == (1241, 1754)
    found = zxingcpp.read_barcodes(image)
    assert [r.text for r in found] == [rendered.qr_text]
    assert decode(found[0].text) == printed

    text = page.get_textpage().get_text_range()
    shown = {d[1].rsplit("/", 1)[1] for d in printed.get("disclosures", [])}
    for name, value in CLAIMS[template].items():
        if name not in TEMPLATES[template].claims:
            continue
        if name in shown or name in TEMPLATES[template].clear:
            assert str(value) in text, name
        else:
            assert str(value) not in text, name
    for salt, _, _ in issued["disclosures"]:
        assert salt not in text
    zhengzhao = printed["zhengzhao"]
    for expected in (
        "证照标识",
        "Certificate identifier",
        zhengzhao["identifier"][:40],  # long values wrap
        zhengzhao["issuingAgency"]["name"],
        "信任等级",
        "Trust grade",
        printed["issuer"],
        "有效期",
        printed["validFrom"],
        "tongban verify --qr",
    ):
        assert expected in text, expected
    assert f"QR {rendered.qr_version}-M" in text


@pytest.mark.parametrize(("angle", "blur", "quality"), [(3, 0.6, 85), (7, 1.0, 50), (0, 0.0, 30)])
def test_a_crooked_blurred_jpeg_scan_of_the_largest_page_still_decodes(
    angle: float, blur: float, quality: int
) -> None:
    # What a flatbed scan or a phone photo does to the page: rotation, softness, JPEG.
    printed = printed_credential(sample("business-licence"))
    rendered = render_certificate(printed)
    page = pypdfium2.PdfDocument(rendered.pdf)[0].render(scale=150 / 72).to_pil().convert("L")
    scan = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if blur:
        scan = scan.filter(ImageFilter.GaussianBlur(blur))
    stored = io.BytesIO()
    scan.save(stored, "JPEG", quality=quality)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(stored.getvalue())))
    assert [r.text for r in found] == [rendered.qr_text]


def test_a_credential_without_national_metadata_prints_dashes() -> None:
    printed = printed_credential(sample("degree-certificate", with_agency=False, levels=4))
    rendered = render_certificate(printed)
    page = pypdfium2.PdfDocument(rendered.pdf)[0]
    text = page.get_textpage().get_text_range()
    assert "证照标识" in text
    assert "—" in text
    found = zxingcpp.read_barcodes(page.render(scale=150 / 72).to_pil())
    assert decode(found[0].text) == printed


def test_a_missing_font_names_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(FontMissingError, match="apt-get install fonts-wqy-microhei"):
        find_font((tmp_path,))
    assert find_font().name == "wqy-microhei.ttc"

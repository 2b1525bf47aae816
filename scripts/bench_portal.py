"""What the counter portal adds to a verification, in process (docs/portal.md).

    .venv/bin/python scripts/bench_portal.py [--repeat 200]

Two comparisons, each against a baseline measured in the same run:

- the result page: rendering ``result.html`` (Jinja2, autoescaped) for a VALID
  business licence with its 8 checks, 9 claims and 电子证照 member, beside
  serializing the same verification as the API's JSON answer
  (``VcApiVerification.to_json`` + ``json.dumps``: the baseline);
- the server-side QR decode of an upload: an A4 page with a TB1-sized QR as a PDF
  (rasterized at 150 dpi with pypdfium2, then zxing-cpp), beside the same page as
  a PNG (decoded and scanned by zxing-cpp: the baseline).

Medians of ``--repeat`` runs (QR: a tenth of them). A benchmark, not a test: it
asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import time
from collections.abc import Callable

import segno
from PIL import Image

from api.http.signin import StaffSession
from api.portal.pages import render_page, result_values
from api.portal.verify_form import Verified, scan_qr
from credentials.reasons import Check
from credentials.verify.result import finish, valid
from credentials.verify.vcapi import VcApiVerification, VerifyOptions

CLAIMS = (
    ("unifiedSocialCreditCode", "91330100MA2A777707"),
    ("enterpriseName", "杭州通办科技有限公司"),
    ("enterpriseType", "有限责任公司"),
    ("legalRepresentative", "李四"),
    ("registeredCapital", "100万元人民币"),
    ("establishmentDate", "2019-03-15"),
    ("businessScope", "软件开发、信息技术咨询服务"),
    ("registeredAddress", "浙江省杭州市西湖区文三路1号"),
    ("registrationAuthority", "杭州市西湖区市场监督管理局"),
)
ZHENGZHAO = {
    "credential": 0,
    "identifier": "1.2.156.3005.2.11100000TB0000028B001.11330000TB00000096.20260000001.001.2",
    "typeCode": "11100000TB0000028B001",
    "typeName": "营业执照",
    "issuingAgency": {"name": "测试省通办测试机构", "code": "11330000TB00000096"},
    "jurisdiction": "330000",
    "trustGrade": "A",
    "usageNote": "此件仅供办理政务服务事项时使用",
}
STAFF = StaffSession("s", "sub", "窗口 3", frozenset({"verifier"}), "c" * 32, 0.0, "staff:x", "1")


def _median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _verified() -> Verified:
    result = finish(
        "credential",
        {check: valid(check) for check in Check},
        12,
        ["ab" * 32],
        "credential:" + "ab" * 32,
        None,
        certificates=[ZHENGZHAO],
    )
    document = {"credentialSubject": dict(CLAIMS), "zhengzhao": ZHENGZHAO}
    checked = VcApiVerification("credential", result, document, VerifyOptions())
    return Verified(checked, False, None, CLAIMS, "did:tongban:31337:1", 12, "2026-12-07 (UTC+8)")


def main() -> None:
    """Run both comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    verified = _verified()

    def page() -> str:
        values = result_values(verified, "zh", "audit.review")
        return render_page("result.html", "zh", STAFF, "330000", **values)

    def api_json() -> str:
        return json.dumps(verified.checked.to_json())

    page()  # the template compiled once, as in a serving process
    html, baseline = _median_ms(page, args.repeat), _median_ms(api_json, args.repeat)
    print(
        f"result: API JSON (baseline) {baseline * 1000:.0f} us, "
        f"result page {html * 1000:.0f} us (x{html / baseline:.1f}); "
        f"page {len(page().encode())} bytes, JSON {len(api_json().encode())} bytes"
    )

    text = "TB1:" + "6BFOXN*TS0BI$ZD.P9UOL97O4-2HH77HRM3HSHM" * 8  # a QR as dense as a TB1
    code = io.BytesIO()
    segno.make(text, error="m", micro=False).save(code, kind="png", scale=6, border=4)
    # An A4 page at 150 dpi (1240 x 1754 px) with the QR at its lower right, as printed.
    page_image = Image.new("RGB", (1240, 1754), "white")
    page_image.paste(Image.open(io.BytesIO(code.getvalue())), (800, 1300))
    png, pdf = io.BytesIO(), io.BytesIO()
    page_image.save(png, format="PNG")
    page_image.save(pdf, format="PDF", resolution=150.0)
    for data in (png.getvalue(), pdf.getvalue()):
        if scan_qr(data) != text:
            raise SystemExit("the QR did not decode")
    qr_repeat = max(3, args.repeat // 10)
    from_png = _median_ms(lambda: scan_qr(png.getvalue()), qr_repeat)
    from_pdf = _median_ms(lambda: scan_qr(pdf.getvalue()), qr_repeat)
    print(
        f"QR decode of an A4 page: PNG (baseline) {from_png:.1f} ms, "
        f"PDF rasterized at 150 dpi {from_pdf:.1f} ms "
        f"(x{from_pdf / from_png:.1f})"
    )


if __name__ == "__main__":
    main()

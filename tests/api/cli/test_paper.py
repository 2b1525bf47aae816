"""``tongban wallet print`` and ``tongban verify --qr`` as processes, against served provinces.

Zhejiang issues a business licence to a wallet (in process); the holder prints it
offline (``tongban wallet print``); the PDF is rasterized at 150 dpi to PNG and
JPEG as a scanner would; Guangdong's verifier client scans each image (and the
PDF itself) with ``tongban verify --qr``: VALID. Bad images end in one line.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pypdfium2

from api.client.wallet import Wallet
from api.province.clients import Role
from credentials.paper.printing import PAPER_HOLDER_MESSAGE
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import FAST, PERSONAL, served_province
from tests.helpers.routes import issue_body

PASSPHRASE = "correct horse battery staple"


def _run(*args: str, wallet: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = tongban_env(
        **{"TONGBAN_WALLET": str(wallet), "TONGBAN_WALLET_PASSPHRASE": PASSPHRASE, **env}
    )
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=environment, timeout=60
    )


def _one_error_line(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for text in expected:
        assert text in lines[0]


def test_wallet_print_then_verify_qr_from_png_jpeg_and_pdf(world: World, tmp_path: Path) -> None:
    home = tmp_path / "wallet"
    wallet = Wallet.create(home, PASSPHRASE, kdf=FAST)
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        reply = zhejiang.request(
            "POST",
            "/credentials/issue",
            Role.ISSUER,
            json_body=issue_body(wallet.did, "business-licence"),
            headers=PERSONAL,
        )
        assert reply.status == 201, reply.text
        digest: str = reply.json()["digest"]
        wallet.receive(reply.json()["credential"])
        pdf = tmp_path / "licence.pdf"

        # Not anchored yet: nothing to print, and the line says what to do.
        _one_error_line(
            _run("wallet", "print", digest[:12], "--out", str(pdf), wallet=home),
            "not anchored",
            "fetch-proofs",
        )
        assert not pdf.exists()

        zhejiang.anchor_all()
        guangdong.sync()
        read = zhejiang.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
        wallet.receive(read.json()["credential"])

        printed = _run("wallet", "print", digest[:12], "--out", str(pdf), "--json", wallet=home)
        assert printed.returncode == 0, printed.stderr
        summary: dict[str, Any] = json.loads(printed.stdout)
        assert summary["digest"] == digest
        assert summary["qrVersion"] <= 34
        assert pdf.read_bytes().startswith(b"%PDF-")

        page = pypdfium2.PdfDocument(pdf.read_bytes())[0].render(scale=150 / 72).to_pil()
        png, jpeg = tmp_path / "scan.png", tmp_path / "scan.jpg"
        page.save(png)
        page.convert("RGB").save(jpeg, quality=85)

        verifier = {
            "TONGBAN_API_URL": f"http://127.0.0.1:{guangdong.server.port}",
            "TONGBAN_API_TOKEN": guangdong.tokens[Role.VERIFIER],
        }
        for image in (png, jpeg, pdf):
            verified = _run("verify", "--qr", str(image), "--json", wallet=home, **verifier)
            assert verified.returncode == 0, (image, verified.stdout, verified.stderr)
            result = json.loads(verified.stdout)
            assert result["verdict"] == "VALID"
            assert result["checks"][6]["message"] == PAPER_HOLDER_MESSAGE
        text = _run("verify", "--qr", str(png), wallet=home, **verifier)
        assert text.returncode == 0, text.stderr
        assert "VALID" in text.stdout

        # Not an image; an image without a QR code; a missing file: one line each.
        not_image = tmp_path / "notes.txt"
        not_image.write_text("hello")
        _one_error_line(
            _run("verify", "--qr", str(not_image), wallet=home, **verifier),
            "not a PNG or JPEG image",
        )
        blank = tmp_path / "blank.png"
        page.crop((0, 0, 300, 300)).save(blank)
        _one_error_line(
            _run("verify", "--qr", str(blank), wallet=home, **verifier), "no Tongban QR code"
        )
        _one_error_line(
            _run("verify", "--qr", str(tmp_path / "absent.png"), wallet=home, **verifier),
            "cannot read",
        )
        both = _run("verify", "x.json", "--qr", str(png), wallet=home, **verifier)
        assert both.returncode != 0
        assert "Traceback" not in both.stderr

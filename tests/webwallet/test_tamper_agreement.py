"""The wallet's checks in JavaScript and Python's offline checks give the same verdict on the
verifier's tamper corpus: generated once, judged twice (issue #18).

A module fixture builds the scene of ``tests.helpers.tamper`` on the test chain, turns all
10,000 mutations (and the scene's valid credentials) into wallet cases with Python's verdicts
(``tamper_corpus.py``) and writes them to one JSON file. ``checks_driver.mjs`` then runs the
committed bundle ``api/webwallet/static/checks.js`` over the whole file in ONE node process;
a smaller slice of the same file runs in headless Chromium under the wallet's strict CSP with
Trusted Types. Every verdict is ``[check, reason code]`` of the first failure, or ``null``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from playwright.sync_api import Browser

from api.webwallet import CHECKS_MODULE
from credentials.holder import Holder
from ledger.chain.contracts.consortium import ConsortiumAddresses
from ledger.chain.node.client import ChainClient
from ledger.chain.node.processes import NodeProcess
from tests.helpers.contracts import Accounts, World
from tests.helpers.credentials import make_issuing_province, make_verifying_province
from tests.helpers.tamper import TOTAL, setup_scene
from tests.portal.browser import chromium
from tests.webwallet.tamper_corpus import Corpus, build_corpus

DRIVER = Path(__file__).resolve().parent / "checks_driver.mjs"
BROWSER_SLICE = 400
"""Cases run in Chromium: every 30th case of the file (all kinds and categories appear)."""


@dataclass(frozen=True)
class CorpusFile:
    """The corpus, and where its cases are written as JSON."""

    corpus: Corpus
    path: Path


@pytest.fixture(scope="module")
def corpus_file(
    anvil_node: NodeProcess,
    consortium_setup: tuple[Accounts, ConsortiumAddresses],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CorpusFile]:
    """The scene issued inside a chain snapshot (reverted after the module), and its corpus."""
    client = ChainClient(anvil_node.url, anvil_node.chain_id)
    snapshot = client.rpc("evm_snapshot")
    folder = tmp_path_factory.mktemp("tamper")
    accounts, addresses = consortium_setup
    world = World(client, accounts, addresses)
    zhejiang = make_issuing_province(world, folder)
    guangdong = make_verifying_province(world, folder)
    try:
        scene = setup_scene(zhejiang, guangdong, world, Holder.generate())
        corpus = build_corpus(scene, guangdong, scene.verifier.config.trusted)
        path = folder / "corpus.json"
        path.write_text(json.dumps({"cases": corpus.cases}), "utf-8")
        yield CorpusFile(corpus, path)
    finally:
        guangdong.audit.close()
        guangdong.db.close()
        zhejiang.db.close()
        client.rpc("evm_revert", snapshot)


def _run_node(corpus: Path, *, bundle: Path = CHECKS_MODULE) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is missing: the wallet's checks run under node here"
    completed = subprocess.run(
        [node, str(DRIVER), str(bundle), str(corpus)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _differences(
    corpus: Corpus, indices: list[int], verdicts: list[Any]
) -> list[tuple[int, str, Any, Any]]:
    return [
        (index, corpus.categories[index], corpus.verdicts[index], found)
        for index, found in zip(indices, verdicts, strict=True)
        if found != corpus.verdicts[index]
    ]


def test_node_checks_give_pythons_verdict_on_every_case_of_the_tamper_corpus(
    corpus_file: CorpusFile,
) -> None:
    corpus = corpus_file.corpus
    assert corpus.mutations == TOTAL
    result = _run_node(corpus_file.path)
    verdicts = result["verdicts"]
    assert len(verdicts) == len(corpus.cases)
    differences = _differences(corpus, list(range(len(verdicts))), verdicts)
    assert differences[:20] == []

    # The corpus exercises every check the wallet makes, and the valid documents pass.
    seen = Counter(tuple(v) if v else "VALID" for v in corpus.verdicts)
    checks = {v[0] for v in corpus.verdicts if v}
    assert checks == {0, 1, 3, 6, 7}, checks
    assert seen["VALID"] > 0
    for reason in (
        "signature_invalid",
        "holder_signature_invalid",
        "anchor_root_mismatch",
        "anchor_path_invalid",
        "disclosure_not_in_sd",
        "schema_violation",
        "sd_invalid",
    ):
        assert any(v and v[1] == reason for v in corpus.verdicts), reason
    cases = len(corpus.cases)
    print(
        json.dumps(
            {
                "mutations": corpus.mutations,
                "cases judged (credentials + presentations)": cases,
                "verdicts": {
                    "/".join(map(str, k)) if k != "VALID" else k: n for k, n in seen.items()
                },
                "python check_offline ms per case": round(1000 * corpus.python_seconds / cases, 3),
                "node checks.js ms per case": round(1000 * result["seconds"] / cases, 3),
            },
            indent=1,
        )
    )


def test_the_comparison_catches_a_wallet_that_skips_the_issuer_signature(
    corpus_file: CorpusFile, tmp_path: Path
) -> None:
    # The committed bundle with the issuer signature's verdict ignored, as a careless port might.
    text = CHECKS_MODULE.read_text("utf-8")
    skipped = "if (!verify(publicKey, data, signature)) {"
    assert text.count(skipped) == 1
    lenient = tmp_path / "lenient-checks.js"
    lenient.write_text(text.replace(skipped, "if (false) {"), "utf-8")
    corpus = corpus_file.corpus
    verdicts = _run_node(corpus_file.path, bundle=lenient)["verdicts"]
    differences = _differences(corpus, list(range(len(verdicts))), verdicts)
    assert differences
    assert {expected[1] for _, _, expected, _ in differences} == {"signature_invalid"}
    assert len(differences) == sum(v == [1, "signature_invalid"] for v in corpus.verdicts)


# ---------------------------------------------------------------------------- Chromium

CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'; require-trusted-types-for 'script'; "
    "trusted-types 'none'"
)
PAGE = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>checks probe</title>'
    b'<script type="module" src="/probe.js"></script></head>'
    b'<body><output id="result"></output></body></html>'
)
PROBE = Path(__file__).resolve().parent / "checks_probe.js"
INIT = """
Math.random = () => { throw new Error("Math.random is forbidden here"); };
globalThis.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  globalThis.__violations.push(event.effectiveDirective + " " + event.blockedURI);
});
"""


class _Handler(BaseHTTPRequestHandler):
    """Serves the page, the bundle, the probe and the slice, each with the strict CSP."""

    routes: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_GET(self) -> None:
        """Answer a GET from the routes, 404 otherwise."""
        route = self.routes.get(self.path.split("?")[0])
        if route is None:
            self.send_error(404)
            return
        content_type, body = route
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Security-Policy", CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        """Keep the test output quiet."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (tests/portal/browser.py)."""
    with chromium() as launched:
        yield launched


def test_chromium_checks_give_pythons_verdict_on_a_slice_of_the_same_corpus(
    corpus_file: CorpusFile, browser: Browser
) -> None:
    corpus = corpus_file.corpus
    step = max(1, len(corpus.cases) // BROWSER_SLICE)
    indices = list(range(0, len(corpus.cases), step))
    chosen = [corpus.cases[i] for i in indices]
    assert {c["kind"] for c in chosen} == {"credential", "presentation"}

    class Handler(_Handler):
        routes: ClassVar[dict[str, tuple[str, bytes]]] = {
            "/": ("text/html; charset=utf-8", PAGE),
            "/checks.js": ("text/javascript; charset=utf-8", CHECKS_MODULE.read_bytes()),
            "/probe.js": ("text/javascript; charset=utf-8", PROBE.read_bytes()),
            "/corpus.json": ("application/json", json.dumps({"cases": chosen}).encode()),
        }

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context()
    try:
        context.add_init_script(INIT)
        page = context.new_page()
        page_errors: list[str] = []
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        result = page.locator("#result[data-done]")
        result.wait_for(state="attached", timeout=120_000)
        report = json.loads(result.text_content() or "{}")
    finally:
        context.close()
        server.shutdown()
        server.server_close()
        thread.join()

    assert "error" not in report, report.get("error")
    assert page_errors == []
    assert report["violations"] == []
    assert report["trustedTypesEnforced"] is True
    assert len(report["verdicts"]) == len(chosen)
    assert _differences(corpus, indices, report["verdicts"])[:20] == []

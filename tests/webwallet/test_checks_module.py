"""The bundle of the wallet's checks (``api/webwallet/static/checks.js``) against the Python
package it ports: RFC 8785 vectors, the same tables, and safe to serve under a strict CSP.

- JCS: every input of tests/vectors/jcs canonicalizes to the vector's bytes, and each of the
  first 20,000 ECMAScript number lines to its string (RFC 8785 section 3.2.2.3), as
  ``credentials.jcs`` does (tests/credentials/test_jcs.py); and generated documents give the
  same bytes as ``credentials.jcs.canonicalize``.
- Check (0) reads the same templates (types, claim lists, ``_sd`` slots, the very schemas),
  the same context allow-list and the same cap on presented credentials as Python.
- The bundle is one self-contained module with no ``Math.random``, ``eval`` or ``Function``.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from api.webwallet import CHECKS_MODULE
from credentials.contexts import CONTEXT_FILES
from credentials.holder import MAX_PRESENTED_CREDENTIALS
from credentials.jcs import canonicalize
from credentials.templates import TEMPLATES

HERE = Path(__file__).resolve().parent
CALLS = HERE / "checks_calls.mjs"
JCS = HERE.parent / "vectors" / "jcs"


def _run(calls: list[list[Any]]) -> list[Any]:
    node = shutil.which("node")
    assert node, "node is missing: the browser module's tests run it under node"
    completed = subprocess.run(
        [node, str(CALLS)],
        input=json.dumps({"bundle": str(CHECKS_MODULE), "calls": calls}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout)
    assert all("ok" in r for r in results), [r for r in results if "error" in r][:3]
    return [r["ok"] for r in results]


def test_jcs_matches_every_rfc8785_vector_input_and_number_line() -> None:
    inputs = sorted((JCS / "testdata" / "input").glob("*.json"))
    assert inputs
    lines = (JCS / "es6_numbers_first20000.txt").read_text("utf-8").splitlines()
    calls: list[list[Any]] = [["canonicalOfText", p.read_text("utf-8")] for p in inputs]
    calls.append(["canonicalNumbers", [line.split(",", 1)[0] for line in lines]])
    *texts, numbers = _run(calls)
    for path, text in zip(inputs, texts, strict=True):
        expected = (JCS / "testdata" / "output" / path.name).read_bytes()
        assert text.encode("utf-8") == expected, path.name
    assert numbers == [line.split(",", 1)[1] for line in lines]


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 4 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(2**53) + 1, 2**53 - 1)
    if kind == 2:
        return rng.choice([0.5, -1.25e-7, 1e21, 3.141592653589793, 1e-300, 123456.789])
    if kind in (3, 4):
        alphabet = 'aZ09 "\\\n\t\x01\x1fé证照€\U0001f600/~'
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
    if kind in (5, 6):
        return {
            "".join(rng.choice("ab_é\U0001f600Z1") for _ in range(rng.randrange(1, 4))): (
                _random_json(rng, depth + 1)
            )
            for _ in range(rng.randrange(5))
        }
    return [_random_json(rng, depth + 1) for _ in range(rng.randrange(5))]


def test_jcs_gives_pythons_bytes_on_generated_documents_with_floats_and_astral_keys() -> None:
    rng = random.Random(18)
    documents = [_random_json(rng) for _ in range(500)]
    texts = _run([["canonicalText", d] for d in documents])
    for document, text in zip(documents, texts, strict=True):
        assert text.encode("utf-8") == canonicalize(document)


def test_check_zero_reads_pythons_templates_contexts_and_caps() -> None:
    (tables,) = _run([["tables"]])
    expected = [
        {
            "name": t.name,
            "credentialType": t.credential_type,
            "schemaId": t.schema_id,
            "disclosable": list(t.disclosable),
            "clear": list(t.clear),
            "sdSlots": t.sd_slots,
            "schema": t.schema,
            "national": None
            if t.national is None
            else {"typeCode": t.national.type_code, "typeName": t.national.type_name},
        }
        for t in TEMPLATES.values()
    ]
    assert tables["templates"] == expected
    assert tables["contexts"] == sorted(CONTEXT_FILES)
    assert tables["maxPresented"] == MAX_PRESENTED_CREDENTIALS


def test_checks_bundle_is_one_module_with_no_math_random_eval_or_function() -> None:
    text = CHECKS_MODULE.read_text("utf-8")
    assert not re.search(r"^\s*import[\s{*]", text, re.MULTILINE)
    assert not re.search(r"\bimport\s*\(", text)
    assert not re.search(r"\brequire\s*\(", text)
    assert "Math.random" not in text
    assert not re.search(r"\beval\s*\(", text)
    assert not re.search(r"\bnew\s+Function\b|\bFunction\s*\(", text)
    assert not re.search(r"\bset(Timeout|Interval)\s*\(\s*['\"`]", text)
    exported = re.search(r"^export \{([^}]*)\};", text, re.MULTILINE)
    assert exported is not None
    names = {name.strip().split(" as ")[-1] for name in exported.group(1).split(",")}
    assert {"checkOffline", "checkHolderProof"} <= names


def test_checks_bundle_rebuilds_byte_for_byte_from_its_sources_and_the_lock_file() -> None:
    spec = importlib.util.spec_from_file_location(
        "build_webwallet_checks", HERE.parents[1] / "scripts" / "build_webwallet.py"
    )
    assert spec is not None
    assert spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.BUNDLES["api/webwallet/src/checks.js"] == CHECKS_MODULE
    assert script.build("api/webwallet/src/checks.js") == CHECKS_MODULE.read_bytes()

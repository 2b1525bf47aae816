"""The wallet's check (0) of the 电子证照 member ``zhengzhao`` gives Python's verdict.

The chain-backed tamper corpus (test_tamper_agreement.py) issues degree certificates without
the member, so this corpus adds it: for every template, credentials signed by Zhejiang's key-1
with a well-formed member, with the member of another template, naming another agency or type
code, grade B with a usage note, and 300 random mutations of the member each (re-signed, so
that only the member is at fault), plus some left unsigned after the mutation. All of them
run through ``credentials.verify.check_offline`` and, in one node process, through
``checkOffline`` of the committed bundle; every verdict must be the same.
"""

from __future__ import annotations

import copy
import json
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

from api.webwallet import CHECKS_MODULE
from credentials.credential import IssueRequest, build_credential, sign_credential
from credentials.did import issuer_did
from credentials.holder import Holder
from credentials.templates import TEMPLATES
from credentials.times import format_ms
from credentials.verify import TrustedChain
from credentials.zhengzhao.identifier import ZhengzhaoId
from credentials.zhengzhao.profile import MEMBER, Agency, zhengzhao_member
from ledger.crypto.signer import LocalSigner
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE, ZJ_KEY
from tests.helpers.tamper import random_mutation
from tests.webwallet.tamper_corpus import credential_verdict

DRIVER = Path(__file__).resolve().parent / "checks_driver.mjs"
SIGNER = LocalSigner(f"{issuer_did(31337, 1)}#key-1", ZJ_KEY)
NOW = 1_780_000_000_000
# Fictitious agency codes with valid GB 32100 check characters (as in the verifier's tests).
AGENCY = Agency(code="11330100TB000001XA", name="杭州市西湖区教育局")
OTHER_AGENCY_CODE = "11330100TB0000028A"
MUTATIONS_PER_TEMPLATE = 300


def _member(template: str, *, agency: str = AGENCY.code, type_code: str | None = None) -> Any:
    national = TEMPLATES[template].national
    assert national is not None
    identifier = ZhengzhaoId(type_code or national.type_code, agency, "2026000001", 1)
    return zhengzhao_member(national, AGENCY, str(identifier), "330106")


def _signed(template: str, member: Any, holder: str) -> dict[str, Any]:
    request = IssueRequest(template, holder, CLAIMS_BY_TEMPLATE[template])
    _, secured, disclosures = build_credential(request, chain_id=31337, issuer_id=1, now_ms=NOW)
    secured.pop(MEMBER, None)
    if member is not None:
        secured[MEMBER] = member
    return sign_credential(
        secured, disclosures, SIGNER, template=template, created=format_ms(NOW)
    ).document


def _corpus(rng: random.Random) -> list[dict[str, Any]]:
    holder = Holder.generate().did
    names = list(TEMPLATES)
    documents: list[dict[str, Any]] = []
    for name in names:
        other = names[(names.index(name) + 1) % len(names)]
        good = _member(name)
        other_type = TEMPLATES[other].national
        assert other_type is not None
        # The identifier names another agency, or another type code, than the member says.
        other_agency = _member(name, agency=OTHER_AGENCY_CODE) | {
            "issuingAgency": good["issuingAgency"]
        }
        other_code = _member(name, type_code=other_type.type_code) | {"typeCode": good["typeCode"]}
        documents += [
            _signed(name, good, holder),
            _signed(name, None, holder),
            _signed(name, _member(other), holder),
            _signed(name, other_agency, holder),
            _signed(name, other_code, holder),
            _signed(name, {**good, "trustGrade": "B"}, holder),
        ]
        base = _signed(name, good, holder)
        for index in range(MUTATIONS_PER_TEMPLATE):
            mutated, _, _ = random_mutation(rng, good, credential=False)
            if index % 5 == 0:  # not re-signed: a member that still holds fails the signature
                document = copy.deepcopy(base)
                document[MEMBER] = mutated
                documents.append(document)
            else:
                documents.append(_signed(name, mutated, holder))
    return documents


def test_node_checks_give_pythons_verdict_on_zhengzhao_member_mutations(tmp_path: Path) -> None:
    documents = _corpus(random.Random(36903))
    trusted = TrustedChain()
    key = ZJ_KEY.public_key
    expected = [credential_verdict(d, trusted, key) for d in documents]
    wire = {"chainId": None, "credentialAnchor": None}
    cases = [
        {"kind": "credential", "document": d, "issuerKey": key.compressed().hex(), "trusted": wire}
        for d in documents
    ]
    corpus = tmp_path / "zhengzhao.json"
    corpus.write_text(json.dumps({"cases": cases}), "utf-8")
    node = shutil.which("node")
    assert node, "node is missing: the wallet's checks run under node here"
    completed = subprocess.run(
        [node, str(DRIVER), str(CHECKS_MODULE), str(corpus)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    found = json.loads(completed.stdout)["verdicts"]
    differences = [
        (i, e, f) for i, (e, f) in enumerate(zip(expected, found, strict=True)) if e != f
    ]
    assert differences[:20] == []
    reasons = Counter(v[1] if v else "VALID" for v in expected)
    for reason in (
        "VALID",
        "zhengzhao_malformed",
        "zhengzhao_identifier_invalid",
        "zhengzhao_type_code_mismatch",
        "zhengzhao_agency_mismatch",
        "zhengzhao_trust_grade_invalid",
        "zhengzhao_template_mismatch",
        "signature_invalid",
    ):
        assert reasons[reason] > 0, (reason, reasons)
    print(json.dumps({"cases": len(cases), "verdicts": dict(reasons)}, indent=1))

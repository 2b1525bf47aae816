"""Presentations signed by wallet.js are the verifier's: VALID as made, refused when altered.

A credential is issued on the test chain to a holder key made in JS, anchored and fetched;
JS answers a clerk's OpenID4VP request (the province's own request object, read by JS with the
CLI wallet's checks) with a subset of the claims asked for, and the form body JS would POST is
handed to the province's ``answer`` as the ``direct_post`` route hands it: VALID, exactly the
chosen claims disclosed, bound to the declared purpose, one access event under it. A JS
presentation bound to another purpose, or altered after signing, is refused at
``POST /presentations/verify`` by the check that owns the fault; and a presentation Python's
``Holder`` signs passes JS's own holder-proof check.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from api.province.access import Declaration
from api.province.clients import Role
from api.province.presentation_requests import answer, ask, request_object
from credentials.holder import Holder
from credentials.verify.purpose_binding import PURPOSE_OF_USE_TYPE
from ledger.audit.events import Caller
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue
from tests.webwallet.walletside import run_wallet, wallet_one

LICENCE = "business-licence"
CLERK = Caller("staff:window-three", "330000")
DECLARED = Declaration("cross-province.enrolment", "prc.pipl.art13")
WANTED = ("registeredCapital", "legalRepresentative")
ORIGIN = "https://verifier.example"


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _credential(province: ServedProvince, holder: str) -> dict[str, Any]:
    claims = dict(CLAIMS_BY_TEMPLATE[LICENCE])
    digest = issue(province, holder, template=LICENCE, claims=claims)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    assert reply.status == 200, reply.text
    credential: dict[str, Any] = reply.json()["credential"]
    return credential


def test_a_browser_answer_to_a_clerks_request_is_valid_with_the_chosen_claims_and_purpose(
    province: ServedProvince,
) -> None:
    key = wallet_one("newKey")
    credential = _credential(province, key["did"])
    verifier = province.context.verifier
    assert verifier is not None
    asked = ask(province.context.db, verifier, "session-a", CLERK, DECLARED, WANTED)
    document = request_object(asked, ORIGIN)
    link = f"openid4vp://?client_id=x&request_uri={ORIGIN}/oid4vp/requests/{asked.request_id}"
    answered, own_check = run_wallet(
        [
            ["answerRequest", key["privateKey"], document, link, credential, ["registeredCapital"]],
            ["answerRequest", key["privateKey"], document, link, credential, ["enterpriseName"]],
        ]
    )
    assert own_check.message.endswith("the verifier did not ask for")
    presentation = answered["presentation"]
    assert presentation["termsOfUse"] == {"type": PURPOSE_OF_USE_TYPE, "purpose": DECLARED.purpose}
    assert presentation["proof"]["challenge"] == asked.nonce
    assert presentation["proof"]["domain"] == asked.domain
    (derived,) = presentation["verifiableCredential"]
    assert [d[1] for d in derived["disclosures"]] == ["/credentialSubject/registeredCapital"]
    assert wallet_one("checkHolderProof", presentation) == {"check": None, "reason": None}

    form = parse_qs(answered["body"], strict_parsing=True)
    assert sorted(form) == ["state", "vp_token"]
    before = province.parts.audit_log.size()
    outcome = answer(
        province.context.db,
        province.context.audit_log,
        verifier,
        asked.request_id,
        form["vp_token"][0],
        form["state"][0],
        "req-1",
        now_ms=province.context.clock(),
    )
    assert outcome.verdict == "VALID", outcome.checks
    shown = dict(outcome.claims)
    assert shown["registeredCapital"] == CLAIMS_BY_TEMPLATE[LICENCE]["registeredCapital"]
    assert "legalRepresentative" not in shown  # asked for, not chosen: not disclosed
    appended = events(province)[before:]
    assert [(e.action, e.actor, e.purpose) for e in appended] == [
        ("presentation.verify", CLERK.actor, DECLARED.purpose)
    ]


def _verify(province: ServedProvince, presentation: dict[str, Any]) -> tuple[str, list[Any]]:
    reply = province.request(
        "POST",
        "/presentations/verify",
        Role.VERIFIER,
        json_body={"verifiablePresentation": presentation},
        headers=PERSONAL,
    )
    assert reply.status == 200, reply.text
    result = reply.json()
    failed = [(c["number"], c["reasonCode"]) for c in result["checks"] if c["status"] == "INVALID"]
    return result["verdict"], failed


def test_a_browser_presentation_altered_or_bound_elsewhere_is_refused_by_the_right_check(
    province: ServedProvince,
) -> None:
    key = wallet_one("newKey")
    credential = _credential(province, key["did"])
    challenge, another = (
        province.request("POST", "/challenges", Role.VERIFIER).json()["challenge"] for _ in range(2)
    )
    options = {"challenge": challenge, "domain": province.did}
    chosen = [[credential, ["registeredCapital", "legalRepresentative"]]]
    good, elsewhere = run_wallet(
        [
            ["present", key["privateKey"], chosen, {**options, "purpose": DECLARED.purpose}],
            # Its own challenge: a well-signed presentation uses its challenge up, VALID or not.
            [
                "present",
                key["privateKey"],
                chosen,
                {**options, "challenge": another, "purpose": "audit.review"},
            ],
        ]
    )
    altered_value = copy.deepcopy(good)
    altered_value["verifiableCredential"][0]["disclosures"][0][2] = "1亿元人民币"
    unbound = {k: v for k, v in good.items() if k != "termsOfUse"}
    other_challenge = copy.deepcopy(good)
    other_challenge["proof"]["challenge"] = challenge[:-1] + ("A" if challenge[-1] != "A" else "B")

    results = {
        name: _verify(province, doc)
        for name, doc in (
            ("elsewhere", elsewhere),
            ("altered_value", altered_value),
            ("unbound", unbound),
            ("other_challenge", other_challenge),
        )
    }
    assert results["elsewhere"] == ("INVALID", [(6, "purpose_mismatch")])
    assert results["unbound"] == ("INVALID", [(6, "holder_signature_invalid")])
    assert results["altered_value"] == (
        "INVALID",
        [(6, "holder_signature_invalid"), (7, "disclosure_not_in_sd")],
    )
    assert results["other_challenge"] == ("INVALID", [(6, "holder_signature_invalid")])
    assert _verify(province, good) == ("VALID", [])

    holder = Holder.generate()
    python_made = Holder.present(
        holder,
        [(_credential(province, holder.did), ["registeredCapital"])],
        challenge="c",
        domain="d",
    )
    assert wallet_one("checkHolderProof", python_made) == {"check": None, "reason": None}

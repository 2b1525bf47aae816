"""The tamper matrix: 10,000 mutations of valid credentials and presentations, in process.

Each mutation must be rejected (verdict INVALID) by the right check: the
lowest-numbered failing check must be one the mutation's category allows, no
check may end in ERROR (an unhandled exception inside the verifier shows up as
ERROR ``internal_error``), and every verification must append one valid access
event. Chain state comes from Guangdong's local index, synced once; everything
after the setup runs without a JSON-RPC call. The corpus is ``tests.helpers.tamper``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

from credentials.holder import Holder
from credentials.reasons import CheckStatus
from credentials.verify import VerificationResult
from tests.helpers.contracts import World
from tests.helpers.credentials import IssuingProvince, make_verifying_province, request
from tests.helpers.tamper import SEED, TOTAL, Mutation, Scene, mutations, setup_scene


@dataclass
class Tally:
    """What the matrix saw: cases per category, first failures per check."""

    counts: dict[str, int] = field(default_factory=dict)
    caught_by: dict[int, int] = field(default_factory=dict)
    verified: int = 0


def _expect(tally: Tally, case: Mutation, result: VerificationResult) -> None:
    category_what = (case.category, case.what)
    tally.verified += 1
    tally.counts[case.category] = tally.counts.get(case.category, 0) + 1
    statuses = [c.status for c in result.checks]
    assert CheckStatus.ERROR not in statuses, (category_what, result.checks)
    assert result.verdict is CheckStatus.INVALID, (category_what, result.checks)
    failure = result.first_failure()
    assert failure is not None
    assert failure.status is CheckStatus.INVALID
    assert failure.number in case.allowed, (category_what, sorted(case.allowed), failure)
    tally.caught_by[failure.number] = tally.caught_by.get(failure.number, 0) + 1
    if case.reasons is not None:
        assert failure.reason_code in case.reasons, (category_what, failure)


def test_ten_thousand_mutations_are_each_rejected_by_the_right_check(
    zhejiang: IssuingProvince, world: World, tmp_path: Path, holder: Holder
) -> None:
    guangdong = make_verifying_province(world, tmp_path)
    try:
        scene = setup_scene(zhejiang, guangdong, world, holder)
        tally = Tally()
        _run_matrix(scene, tally, random.Random(SEED))
        assert tally.verified == TOTAL
        assert len(scene.log.events) == TOTAL + tally.counts.get("valid-first", 0)
        assert sorted(tally.caught_by) == list(range(8))  # every check caught something
        print(json.dumps({"by category": tally.counts, "by check": tally.caught_by}, indent=1))
    finally:
        guangdong.audit.close()
        guangdong.db.close()


def _run_matrix(scene: Scene, tally: Tally, rng: random.Random) -> None:
    verifier = scene.verifier

    def verify(case: Mutation) -> VerificationResult:
        run = verifier.verify_presentation if case.presentation else verifier.verify_credential
        return run(case.document, request(), now_ms=case.now_ms)

    # Sanity: the unmutated documents are VALID.
    for document in [scene.base, *scene.credentials]:
        assert verifier.verify_credential(document, request()).valid
    presentation = scene.present([(scene.base, ["degreeLevel", "awardingInstitution"])])
    assert verifier.verify_presentation(presentation, request()).valid
    tally.counts["valid-first"] = len(scene.credentials) + 2

    for case in mutations(scene, rng):
        if case.replayed:
            assert verifier.verify_presentation(case.document, request()).valid
            tally.counts["valid-first"] += 1
        _expect(tally, case, verify(case))

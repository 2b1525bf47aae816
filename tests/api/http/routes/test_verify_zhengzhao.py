"""``POST /credentials/verify`` reports a credential's 电子证照 member, and refuses a broken one.

The credential is signed by Zhejiang's registered key with the member added before
signing, and not anchored: check (0) passes and the answer reports the member
(the verdict is INVALID for the missing anchor, which is not this test's concern).
"""

from __future__ import annotations

from pathlib import Path

from api.http.schemas.credentials import VerificationOut
from credentials.holder import Holder
from credentials.zhengzhao.profile import MEMBER
from tests.credentials.verify.test_zhengzhao_member import member_for, signed
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import served_province
from tests.helpers.routes import verify_at


def test_the_answer_reports_the_member_and_a_broken_one_is_invalid_at_check_0(
    world: World, tmp_path: Path
) -> None:
    member = member_for("business-licence")
    credential = signed("business-licence", member, Holder.generate())
    broken = signed("business-licence", {**member, "trustGrade": "Z"}, Holder.generate())
    with served_province(world, tmp_path, ZJ) as zhejiang:
        result = verify_at(zhejiang, credential)
        refused = verify_at(zhejiang, broken)
    assert result["checks"][0]["status"] == "VALID"
    assert result["zhengzhao"] == [{"credential": 0, **member}]
    assert (
        VerificationOut.model_validate(result).model_dump(mode="json", exclude_none=True) == result
    )
    assert refused["verdict"] == "INVALID"
    assert refused["checks"][0]["reasonCode"] == "zhengzhao_trust_grade_invalid"
    assert refused["checks"][0]["at"] == f"/{MEMBER}/trustGrade"
    assert "zhengzhao" not in refused

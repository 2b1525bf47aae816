"""VCDM 2.0 §5.10 Reserved Extension Points: ``confidenceMethod``, ``renderMethod``.

MUST: implementations specify a ``type`` in the value of a reserved property. The
model checks it; Tongban itself defines neither, so its issuer refuses both and every
verifier's check (0) refuses them as unknown members.
"""

from __future__ import annotations

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    credential,
    issuer_refuses,
    model_refuses,
    verifier_refuses,
)


@pytest.mark.parametrize("member", ["confidenceMethod", "renderMethod"])
def test_5_10_a_reserved_property_must_specify_a_type(member: str) -> None:
    check_credential(credential(**{member: {"type": "ExampleMethod"}}))
    model_refuses(
        credential(**{member: {"id": "https://zj.example/m"}}),
        Reason.STRUCTURE_INVALID,
        f"/{member}/type",
    )
    model_refuses(credential(**{member: []}), Reason.STRUCTURE_INVALID, f"/{member}")


@pytest.mark.parametrize("member", ["confidenceMethod", "renderMethod"])
def test_5_10_tongban_issues_and_accepts_no_reserved_property(member: str) -> None:
    issuer_refuses(credential(**{member: {"type": "ExampleMethod"}}), f"/{member}")
    verifier_refuses({member: {"type": "ExampleMethod"}}, Reason.STRUCTURE_INVALID, f"/{member}")

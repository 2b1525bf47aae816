"""VCDM 2.0 §4.12 Securing Mechanisms (with VC Data Integrity): the ``proof`` member.

A conforming document is secured by at least one securing mechanism (§2.1). An
embedded Data Integrity ``proof`` is one proof object or a non-empty array of them,
each with a ``type``. The issuer adds the proof; the verifier requires one.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.cryptosuite import PROOF_TYPE
from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    REMOVE,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    verifier_refuses,
)


def test_4_12_the_issuer_secures_what_it_issues_with_one_data_integrity_proof() -> None:
    signed = issued(credential()).document
    assert signed["proof"]["type"] == PROOF_TYPE
    check_credential(signed)


@pytest.mark.parametrize(
    "proof", [SECRET, [], [{"type": PROOF_TYPE}, SECRET], {"cryptosuite": "x"}]
)
def test_4_12_a_proof_must_be_objects_with_a_type(proof: Any) -> None:
    model_refuses(credential(proof=proof), Reason.PROOF_SET_INVALID, "/proof")
    verifier_refuses({"proof": proof}, Reason.PROOF_SET_INVALID, "/proof")


def test_4_12_a_submitted_credential_is_unsecured_the_issuer_adds_the_proof() -> None:
    issuer_refuses(credential(proof={"type": PROOF_TYPE}), "/proof")


def test_4_12_a_verifiable_credential_must_be_secured() -> None:
    verifier_refuses({"proof": REMOVE}, Reason.STRUCTURE_INVALID, None)

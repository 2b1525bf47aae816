"""VCDM 2.0 §4.13 Verifiable Presentations (4.13.1 enveloped credentials, 4.13.4 holder claims).

MUSTs: ``id``, if present, follows §4.4; ``type`` is present and includes
``VerifiablePresentation``; ``verifiableCredential`` is one or more credential or
enveloped credential objects (never strings, numbers or URLs); ``holder``, if
present, is a URL or an object with an ``id``. An enveloped credential has a
``@context`` with the base context, a ``data:`` URL ``id`` and the type
``EnvelopedVerifiableCredential``. A presentation with a self-asserted credential
secured only by the presentation includes ``holder``, identical to that
credential's ``issuer``. Check (0) (``load_presentation``) is stricter than the
model for Tongban presentations; it is tested where its refusal is the model's.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.credential import CONTEXT
from credentials.cryptosuite import PROOF_TYPE
from credentials.reasons import Reason
from credentials.vcdm import check_presentation
from credentials.verify import Failed, Passed
from credentials.verify.parse import load_presentation
from tests.credentials.vcdm.conftest import (
    HOLDER,
    REMOVE,
    SECRET,
    credential,
    issued,
    presentation,
    presentation_refused,
)

ENVELOPED = {
    "@context": "https://www.w3.org/ns/credentials/v2",
    "id": "data:application/vc+sd-jwt,eyJhbGciOiJFUzM4NCJ9",
    "type": "EnvelopedVerifiableCredential",
}


def _tongban(**members: Any) -> dict[str, Any]:
    """A presentation of Tongban's shape for check (0) (the holder proof is not checked there)."""
    return presentation(**{"@context": CONTEXT, "proof": {"type": PROOF_TYPE}, **members})


def _check0_refuses(document: dict[str, Any], reason: Reason) -> Failed:
    outcome = load_presentation(document)
    assert isinstance(outcome, Failed), outcome
    assert outcome.reason is reason, outcome
    assert SECRET not in outcome.message
    return outcome


def test_4_13_a_conforming_presentation_is_accepted() -> None:
    model = check_presentation(presentation())
    assert (model.holder, len(model.credentials)) == (HOLDER, 1)
    assert isinstance(load_presentation(_tongban()), Passed)
    assert check_presentation(presentation(holder={"id": HOLDER}, id=REMOVE)).holder == HOLDER


@pytest.mark.parametrize("value", [SECRET, 7, None])
def test_4_13_a_presentation_id_must_be_a_url(value: Any) -> None:
    presentation_refused(presentation(id=value), Reason.ID_INVALID, "/id")


def test_4_13_type_must_be_present_and_include_verifiable_presentation() -> None:
    presentation_refused(presentation(type=REMOVE), Reason.TYPE_INVALID, "/type")
    presentation_refused(presentation(type=["Presentation"]), Reason.TYPE_INVALID, "/type")
    presentation_refused(presentation(type=[]), Reason.TYPE_INVALID, "/type")
    _check0_refuses(_tongban(type=REMOVE), Reason.PRESENTATION_MALFORMED)
    _check0_refuses(_tongban(type=["Presentation"]), Reason.TYPE_INVALID)


@pytest.mark.parametrize(
    ("value", "at", "check0"),
    [
        ([], "", Reason.PRESENTATION_MALFORMED),
        (SECRET, "", Reason.PRESENTATION_MALFORMED),
        ("https://zj.example/vc/1", "", Reason.PRESENTATION_MALFORMED),
        ([issued(credential()).document, 7], "/1", Reason.PRESENTATION_MALFORMED),
    ],
)
def test_4_13_verifiable_credential_must_be_one_or_more_objects(
    value: Any, at: str, check0: Reason
) -> None:
    presentation_refused(
        presentation(verifiableCredential=value),
        Reason.PRESENTATION_MALFORMED,
        f"/verifiableCredential{at}",
    )
    _check0_refuses(_tongban(verifiableCredential=value), check0)


@pytest.mark.parametrize("value", [SECRET, {"name": "x"}, {"id": SECRET}, 7])
def test_4_13_holder_must_be_a_url_or_an_object_with_an_id(value: Any) -> None:
    presentation_refused(presentation(holder=value), Reason.PRESENTATION_MALFORMED, "/holder")
    _check0_refuses(_tongban(holder=value), Reason.PRESENTATION_MALFORMED)


def test_4_13_1_an_enveloped_credential_is_accepted() -> None:
    model = check_presentation(presentation(verifiableCredential=[ENVELOPED]))
    assert model.credentials == (ENVELOPED,)


@pytest.mark.parametrize(
    ("change", "reason", "at"),
    [
        ({"@context": REMOVE}, Reason.CONTEXT_INVALID, "/@context"),
        (
            {"@context": ["https://w3id.org/tongban/credentials/v1"]},
            Reason.CONTEXT_INVALID,
            "/@context",
        ),
        ({"id": "https://zj.example/vc/1"}, Reason.ID_INVALID, "/id"),
        ({"id": REMOVE}, Reason.ID_INVALID, "/id"),
        ({"type": ["EnvelopedVerifiableCredential", "X"]}, Reason.TYPE_INVALID, "/type"),
    ],
)
def test_4_13_1_an_enveloped_credential_needs_context_data_url_id_and_its_type(
    change: dict[str, Any], reason: Reason, at: str
) -> None:
    enveloped = {**ENVELOPED, **change}
    enveloped = {k: v for k, v in enveloped.items() if v is not REMOVE}
    presentation_refused(
        presentation(verifiableCredential=[enveloped]), reason, f"/verifiableCredential/0{at}"
    )


def test_4_13_4_a_self_asserted_credential_secured_by_the_presentation_needs_the_holder() -> None:
    own = credential(issuer=HOLDER)
    assert check_presentation(presentation(verifiableCredential=[own])).holder == HOLDER
    presentation_refused(
        presentation(verifiableCredential=[own], holder=REMOVE),
        Reason.PRESENTATION_MALFORMED,
        "/holder",
    )


def test_4_13_4_its_issuer_must_be_identical_to_the_holder() -> None:
    presentation_refused(
        presentation(verifiableCredential=[credential()]),
        Reason.PRESENTATION_MALFORMED,
        "/verifiableCredential/0/issuer",
    )


@pytest.mark.parametrize("member", ["termsOfUse", "refreshService"])
def test_4_13_a_holders_terms_of_use_and_refresh_service_must_be_typed(member: str) -> None:
    check_presentation(presentation(**{member: {"type": "HolderPolicy"}}))
    presentation_refused(
        presentation(**{member: {"id": "https://zj.example/p"}}),
        Reason.STRUCTURE_INVALID,
        f"/{member}/type",
    )


def test_4_13_4_an_object_that_is_no_credential_is_left_to_check_credential() -> None:
    model = check_presentation(presentation(verifiableCredential=[{"type": SECRET}]))
    assert model.credentials == ({"type": SECRET},)

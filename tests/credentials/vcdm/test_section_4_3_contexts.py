"""VCDM 2.0 §4.3 Contexts: ``@context`` is present, an ordered set, the base context first.

MUSTs: verifiable credentials and presentations include ``@context``; its value is
an ordered set whose first item is ``https://www.w3.org/ns/credentials/v2``; later
items are URLs or objects (each processable as a JSON-LD context). An ordered set
holds a URL once.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.contexts import CREDENTIALS_EXAMPLES_V2, CREDENTIALS_V2, TONGBAN_V1
from credentials.reasons import Reason
from credentials.vcdm import DataModel, check_credential, check_presentation
from tests.credentials.vcdm.conftest import (
    REMOVE,
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    presentation,
    presentation_refused,
    verifier_refuses,
)


def test_4_3_a_conforming_context_is_accepted_by_model_issuer_and_verifier() -> None:
    document = credential(**{"@context": [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2]})
    model = check_credential(document)
    assert model.version is DataModel.V2
    assert model.contexts == (CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2)
    signed = issued(document).document
    # The issuer appends the Tongban context (it defines disclosures and anchor).
    assert signed["@context"] == [CREDENTIALS_V2, CREDENTIALS_EXAMPLES_V2, TONGBAN_V1]


def test_4_3_a_credential_must_include_context() -> None:
    model_refuses(credential(**{"@context": REMOVE}), Reason.CONTEXT_INVALID, "/@context")
    issuer_refuses(credential(**{"@context": REMOVE}), "/@context")
    # Check (0) finds the missing member first, without a pointer.
    failed = verifier_refuses({"@context": REMOVE}, Reason.STRUCTURE_INVALID, None)
    assert "lacks" in failed.message


@pytest.mark.parametrize("value", [CREDENTIALS_V2, {"@vocab": "https://example.org/"}, [], None])
def test_4_3_context_must_be_an_ordered_set(value: Any) -> None:
    model_refuses(credential(**{"@context": value}), Reason.CONTEXT_INVALID, "/@context")
    issuer_refuses(credential(**{"@context": value}), "/@context")
    verifier_refuses({"@context": value}, Reason.CONTEXT_INVALID, "/@context")


@pytest.mark.parametrize(
    "contexts",
    [
        [CREDENTIALS_EXAMPLES_V2, CREDENTIALS_V2],
        ["https://www.w3.org/ns/credentials/v3"],
        [SECRET],
        [{"@vocab": "https://example.org/"}, CREDENTIALS_V2],
    ],
)
def test_4_3_the_first_context_must_be_the_base_context(contexts: list[Any]) -> None:
    model_refuses(credential(**{"@context": contexts}), Reason.CONTEXT_INVALID, "/@context/0")
    issuer_refuses(credential(**{"@context": contexts}), "/@context/0")
    verifier_refuses({"@context": contexts}, Reason.CONTEXT_INVALID, "/@context/0")


@pytest.mark.parametrize("item", [123192875, "https ://not-a-url/contexts/v1", None, ["x"], True])
def test_4_3_subsequent_contexts_must_be_urls_or_objects(item: Any) -> None:
    document = credential(**{"@context": [CREDENTIALS_V2, item]})
    model_refuses(document, Reason.CONTEXT_INVALID, "/@context/1")
    issuer_refuses(document, "/@context/1")
    verifier_refuses({"@context": [CREDENTIALS_V2, item]}, Reason.CONTEXT_INVALID, "/@context/1")


def test_4_3_an_object_context_is_model_conforming_but_outside_tongbans_allow_list() -> None:
    inline = {"favoriteFood": "https://example.org/vocab#favoriteFood"}
    assert check_credential(credential(**{"@context": [CREDENTIALS_V2, inline]}))
    # Tongban never processes a context it does not ship (see the profile tests).
    issuer_refuses(credential(**{"@context": [CREDENTIALS_V2, inline]}), "/@context/1")
    verifier_refuses(
        {"@context": [CREDENTIALS_V2, inline, TONGBAN_V1]}, Reason.CONTEXT_INVALID, "/@context"
    )


def test_4_3_the_context_is_a_set_a_url_appears_once() -> None:
    document = credential(**{"@context": [CREDENTIALS_V2, TONGBAN_V1, TONGBAN_V1]})
    model_refuses(document, Reason.CONTEXT_INVALID, "/@context")
    issuer_refuses(document, "/@context")
    verifier_refuses(
        {"@context": [CREDENTIALS_V2, TONGBAN_V1, TONGBAN_V1]}, Reason.CONTEXT_INVALID, "/@context"
    )


def test_4_3_a_presentation_must_include_the_base_context_first() -> None:
    assert check_presentation(presentation()).contexts == (CREDENTIALS_V2,)
    presentation_refused(presentation(**{"@context": REMOVE}), Reason.CONTEXT_INVALID, "/@context")
    presentation_refused(
        presentation(**{"@context": [TONGBAN_V1, CREDENTIALS_V2]}),
        Reason.CONTEXT_INVALID,
        "/@context/0",
    )
    presentation_refused(
        presentation(**{"@context": [CREDENTIALS_V2, 7]}), Reason.CONTEXT_INVALID, "/@context/1"
    )

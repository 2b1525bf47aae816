"""VCDM 2.0 §5.3 Integrity of Related Resources: ``relatedResource``.

MUSTs: the value is one or more objects; each has an ``id`` (§4.4, so a URL) unique
among them, and at least a ``digestSRI`` (SRI hash-expressions) or a
``digestMultibase`` (Data Integrity §2.6: multibase; ``u`` or ``z`` accepted here).
That a retrieved resource matches its digest needs the resource: not checked.
"""

from __future__ import annotations

from typing import Any

import pytest

from credentials.reasons import Reason
from credentials.vcdm import check_credential
from tests.credentials.vcdm.conftest import (
    SECRET,
    credential,
    issued,
    issuer_refuses,
    model_refuses,
    verifier_accepts,
    verifier_refuses,
)

SRI = "sha384-7PwbAQF6Ra6wqTGyPXGAf8mhlbwKwhuZiEgRAmwSzRbq4LK9aKnBv0RzBfb8qDZK"
V2 = {"id": "https://www.w3.org/ns/credentials/v2", "digestSRI": SRI}
PHOTO = {
    "id": "https://zj.example/photos/1.jpg",
    "mediaType": "image/jpeg",
    "digestMultibase": "uEiBZlVztZpfWHgPyslVv6-UwirFoQoRvW1htfx963sknNA",
}


@pytest.mark.parametrize("value", [V2, [V2, PHOTO], [{**PHOTO, "digestSRI": SRI}]])
def test_5_3_related_resources_with_ids_and_digests_are_accepted(value: Any) -> None:
    check_credential(credential(relatedResource=value))
    verifier_accepts(issued(credential(relatedResource=value)).document)


@pytest.mark.parametrize(
    ("value", "at"),
    [
        ([], ""),
        (SECRET, ""),
        ({"digestSRI": SRI}, "/id"),
        ({**V2, "id": SECRET}, "/id"),
        ([V2, {**PHOTO, "id": V2["id"]}], "/1/id"),
        ({"id": V2["id"]}, ""),
        ({**V2, "digestSRI": SECRET}, "/digestSRI"),
        ({**V2, "digestSRI": "md5-abc"}, "/digestSRI"),
        ({**PHOTO, "digestMultibase": SECRET}, "/digestMultibase"),
        ({**PHOTO, "digestMultibase": 7}, "/digestMultibase"),
    ],
)
def test_5_3_each_related_resource_needs_a_unique_url_id_and_a_digest(value: Any, at: str) -> None:
    pointer = f"/relatedResource{at}"
    model_refuses(credential(relatedResource=value), Reason.STRUCTURE_INVALID, pointer)
    issuer_refuses(credential(relatedResource=value), pointer)
    verifier_refuses({"relatedResource": value}, Reason.STRUCTURE_INVALID, pointer)

"""Every template's national metadata (GB/T 36903), and the rules a template's metadata must keep.

A template refuses metadata that would break the profile: a type code without valid
check characters, a trust grade outside A-D, a usage note without grade A (or grade A
without one), an unknown holder-ID type, a claim it does not have, and a citizen's
identity number (持证主体代码 of type 111) in clear. Every example request issues and
passes check (0) with the member its template gives.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from credentials.catalogue import example_request
from credentials.errors import SchemaDefinitionError
from credentials.templates import TEMPLATES, Template
from credentials.verify.outcome import Passed
from credentials.verify.parse import load_credential
from credentials.zhengzhao.check_characters import validate_uscc
from credentials.zhengzhao.identifier import validate_type_code
from credentials.zhengzhao.profile import HOLDER_ID_TYPES, TRUST_GRADES
from tests.credentials.verify.test_zhengzhao_member import member_for, signed

RESIDENT = TEMPLATES["resident-certificate"]


def _resident(**national: Any) -> Template:
    assert RESIDENT.national is not None
    return Template(
        name="resident-certificate",
        credential_type="ResidentCertificate",
        title=RESIDENT.title,
        schema_file=RESIDENT.schema_file,
        disclosable=national.pop("disclosable", RESIDENT.disclosable),
        clear=national.pop("clear", ()),
        national=replace(RESIDENT.national, **national),
    )


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_template_has_national_metadata_within_the_profile(name: str) -> None:
    template = TEMPLATES[name]
    national = template.national
    assert national is not None
    validate_type_code(national.type_code)
    validate_uscc(national.type_code[:18], organization_code=True)
    assert national.trust_grade in TRUST_GRADES
    assert national.holder_id_type in HOLDER_ID_TYPES
    assert national.printed
    assert set(national.printed) <= set(template.claims)
    assert national.holder_claim in template.claims


def test_type_codes_are_distinct() -> None:
    codes = [t.national.type_code for t in TEMPLATES.values() if t.national is not None]
    assert len(codes) == len(set(codes)) == len(TEMPLATES)


def test_the_shipped_resident_template_builds_again() -> None:
    assert _resident().national == RESIDENT.national


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"type_code": "11100000TB0000052U00"}, "type code"),
        ({"type_code": "11100000TB0000052A001"}, "type code"),
        ({"trust_grade": "E", "usage_note": None}, "trust grade"),
        ({"trust_grade": "B"}, "usage note"),
        ({"usage_note": None}, "usage note"),
        ({"holder_id_type": "999"}, "holder ID type"),
        ({"printed": ("holderName", "photo")}, "non-claim"),
        ({"holder_id_claim": "idNumber"}, "non-claim"),
        (
            {
                "clear": ("citizenIdNumber",),
                "disclosable": tuple(c for c in RESIDENT.disclosable if c != "citizenIdNumber"),
            },
            "may not be in clear",
        ),
    ],
)
def test_a_template_refuses_metadata_outside_the_profile(
    change: dict[str, Any], words: str
) -> None:
    with pytest.raises(SchemaDefinitionError, match=words):
        _resident(**change)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_every_example_request_issues_with_its_member_and_passes_check_0(name: str) -> None:
    body = example_request(TEMPLATES[name])
    assert body["template"] == name
    document = signed(name, member_for(name), claims=body["claims"], holder_did=body["holder"])
    outcome = load_credential(document, text=False)
    assert isinstance(outcome, Passed), outcome
    assert outcome.value.template is TEMPLATES[name]

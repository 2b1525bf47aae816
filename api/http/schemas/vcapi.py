"""The VC API dialect of the issuing routes: ``/credentials/issue`` and ``/credentials/status``.

Each of the two routes speaks two dialects, chosen by the body's top-level
member (``api.http.deps.DialectBody``): the W3C VC API (``credential``;
``credentialId``) and Tongban's catalogue dialect (``template``; ``action``).
These models are the VC API's, as the pinned ``w3c/vcalm`` ``oas.yaml`` has
them (``IssueCredentialRequest``, ``IssueCredentialOptions``,
``UpdateCredentialStatusRequest``); Tongban's one extension is the issue option
``disclosablePointers``, documented as such.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from api.errors import ProblemCode
from api.http.problems import FieldIssue, Problem
from api.http.schemas.common import ApiModel, InputModel
from credentials.catalogue import example_request
from credentials.did import issuer_did
from credentials.status import StatusAction
from credentials.submitted import SubmittedCredential
from credentials.templates import get_template

__all__ = [
    "VcApiIssueIn",
    "VcApiIssueOptions",
    "VcApiIssuedOut",
    "VcApiStatusEntry",
    "VcApiStatusIn",
    "submitted_credential",
    "vc_api_issue_examples",
    "vc_api_status_action",
]

_POINTER = r"^(/([^~/]|~[01])*)*$"


class VcApiIssueOptions(InputModel):
    """How to issue (VC API ``IssueCredentialOptions``, plus Tongban's ``disclosablePointers``)."""

    mandatory_pointers: list[str] | None = Field(
        default=None,
        max_length=1000,
        description="VC API: what is always revealed (JSON pointers). Every other claim of the "
        "single `credentialSubject` becomes selectively disclosable.",
        json_schema_extra={"items": {"type": "string", "pattern": _POINTER}},
    )
    credential_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=512,
        description="VC API: the name by which `POST /credentials/status` refers to the "
        "credential later (default: the credential's `id`). Not written into the credential.",
    )
    disclosable_pointers: list[str] | None = Field(
        default=None,
        max_length=1000,
        description="Tongban extension (not in the VC API): the claims to make selectively "
        "disclosable, as `/credentialSubject/<claim>`; the opposite of `mandatoryPointers`, "
        "with which it may not be combined.",
        json_schema_extra={"items": {"type": "string", "pattern": _POINTER}},
    )
    agency: str | None = Field(
        default=None,
        max_length=32,
        description="Tongban extension (the VC API's options are extensible): the issuing "
        "agency (颁发机构) of a certificate template's credential, by its 统一社会信用代码; "
        "left out, the one agency this client may issue the template for (docs/agencies.md).",
    )

    @model_validator(mode="after")
    def _one_way_to_choose(self) -> VcApiIssueOptions:
        if self.mandatory_pointers is not None and self.disclosable_pointers is not None:
            raise ValueError("give mandatoryPointers or disclosablePointers, not both")
        return self


class VcApiIssueIn(InputModel):
    """VC API Issue Credential: an unsecured credential whose issuer is this province."""

    credential: dict[str, Any] = Field(
        description="A VC Data Model 2.0 (or 1.1) credential without proof; its `issuer` is "
        "this province's issuer DID. Never echoed in an error."
    )
    options: VcApiIssueOptions = Field(default_factory=VcApiIssueOptions)


class VcApiStatusEntry(InputModel):
    """The status entry to update (VC API ``credentialStatus``)."""

    type: Literal["BitstringStatusListEntry", "BitstringStatusList"] = Field(
        description="`BitstringStatusListEntry` (the VC API's own example says "
        "`BitstringStatusList`; both are accepted)."
    )
    status_purpose: Literal["revocation", "suspension"]
    id: str | None = Field(default=None, max_length=1024)
    status_list_index: str | None = Field(default=None, max_length=16)
    status_list_credential: str | None = Field(default=None, max_length=1024)


class VcApiStatusIn(InputModel):
    """VC API Update Status: set a credential's revocation or suspension bit."""

    credential_id: str = Field(
        min_length=1,
        max_length=512,
        description="The credential's `credentialId` option at issuance, or its `id`.",
    )
    credential_status: VcApiStatusEntry
    status: bool = Field(
        description="The new value of the purpose's bit: revocation `true` revokes (final); "
        "suspension `true` suspends, `false` reinstates."
    )
    index_allocator: str | None = Field(
        default=None, max_length=1024, description="VC API; ignored (the issuer allocates)."
    )


def submitted_credential(body: VcApiIssueIn) -> SubmittedCredential:
    """The domain request of a VC API issue body."""
    options = body.options
    return SubmittedCredential(
        credential=body.credential,
        disclosable=tuple(options.disclosable_pointers or ()),
        mandatory=None if options.mandatory_pointers is None else tuple(options.mandatory_pointers),
        credential_id=options.credential_id,
    )


class VcApiIssuedOut(ApiModel):
    """VC API Issue Credential's answer: the secured credential (its anchor comes later)."""

    verifiable_credential: dict[str, Any] = Field(
        description="The credential with its `sm2-jcs-2026` proof (and `disclosures` when "
        "claims were made disclosable); `GET /credentials/{digest}` adds `anchor` once the "
        "batch is final."
    )


def vc_api_status_action(body: VcApiStatusIn) -> StatusAction:
    """The status change a VC API Update Status body asks for; 400 for undoing a revocation."""
    purpose, status = body.credential_status.status_purpose, body.status
    if purpose == "suspension":
        return StatusAction.SUSPEND if status else StatusAction.REINSTATE
    if not status:
        raise Problem(
            ProblemCode.BAD_REQUEST,
            "a revocation is final: its bit cannot be set back to false",
            errors=[FieldIssue(field="/status", rule="revocation can only be set to true")],
        )
    return StatusAction.REVOKE


def vc_api_issue_examples(chain_id: int = 31337, issuer_id: int = 1) -> dict[str, Any]:
    """OpenAPI examples of the VC API dialect: a certificate of a template, a plain credential."""
    issuer = issuer_did(chain_id, issuer_id)
    template = example_request(get_template("degree-certificate"))
    certificate = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "DegreeCertificate"],
        "issuer": issuer,
        "credentialSubject": {"id": template["holder"], **template["claims"]},
    }
    plain = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:2f1c8f0e-8d52-4c1e-9a7e-6f0b9a3c1d25",
        "type": ["VerifiableCredential"],
        "issuer": {"id": issuer, "name": [{"@value": "浙江省", "@language": "zh"}]},
        "credentialSubject": {"name": "示例", "memberOf": "示例协会"},
    }
    return {
        "vc-api-certificate": {
            "summary": "VC API: a degree certificate (the template's rules apply)",
            "value": {"credential": certificate},
        },
        "vc-api-plain": {
            "summary": "VC API: a plain credential, one claim selectively disclosable",
            "value": {
                "credential": plain,
                "options": {"mandatoryPointers": ["/credentialSubject/memberOf"]},
            },
        },
    }

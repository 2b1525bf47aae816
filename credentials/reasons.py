"""Verification checks, statuses and reason codes.

NEVER CHANGE A VALUE. These strings are part of the public format: verifiers,
API clients and auditors store and compare them. Add new codes; do not rename,
reuse or remove old ones (a code that is no longer produced stays listed here,
marked obsolete). ``docs/credentials.md`` lists every code with its meaning.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = ["CHECK_NAMES", "Check", "CheckStatus", "Reason", "Verdict"]


class CheckStatus(StrEnum):
    """Outcome of one check."""

    VALID = "VALID"
    INVALID = "INVALID"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


class Verdict(StrEnum):
    """Verdict values beyond a check's statuses (a verdict is VALID, INVALID, ERROR or these).

    ``UNREGISTERED_ISSUER``: every check that applies to a credential whose issuer is
    not a ``did:tongban`` holds (its proofs verified, its validity period and any
    status list too), but that issuer is no member of the consortium registry: never
    a consortium certificate, never VALID, and not INVALID either, since nothing
    failed but trust. ``docs/credentials.md`` "Credentials Tongban did not issue".
    """

    UNREGISTERED_ISSUER = "UNREGISTERED_ISSUER"


class Check(IntEnum):
    """The numbered checklist of DESIGN.md "Data flows", in order."""

    PARSE = 0
    ISSUER_PROOF = 1
    ISSUER_KEY = 2
    ANCHOR = 3
    STATUS = 4
    VALIDITY = 5
    PRESENTATION = 6
    DISCLOSURES = 7


CHECK_NAMES: dict[Check, str] = {
    Check.PARSE: "parse",
    Check.ISSUER_PROOF: "issuer-proof",
    Check.ISSUER_KEY: "issuer-key",
    Check.ANCHOR: "anchor-inclusion",
    Check.STATUS: "status",
    Check.VALIDITY: "validity-period",
    Check.PRESENTATION: "presentation",
    Check.DISCLOSURES: "disclosures",
}
"""Stable names of the checks (never change a value)."""


class Reason(StrEnum):
    """Reason codes (never change a value)."""

    # -- any check
    OK = "ok"
    NOT_APPLICABLE = "not_applicable"
    PREREQUISITE_FAILED = "prerequisite_failed"
    INDEX_UNAVAILABLE = "index_unavailable"
    INTERNAL_ERROR = "internal_error"

    # -- (0) parse: I-JSON, caps, structure, schema
    INPUT_TOO_LARGE = "input_too_large"
    INPUT_NOT_UTF8 = "input_not_utf8"
    INPUT_NOT_JSON = "input_not_json"
    INPUT_DUPLICATE_KEY = "input_duplicate_key"
    INPUT_NUMBER_OUT_OF_RANGE = "input_number_out_of_range"
    INPUT_TOO_DEEP = "input_too_deep"
    INPUT_ARRAY_TOO_LONG = "input_array_too_long"
    INPUT_INVALID_STRING = "input_invalid_string"
    INPUT_INVALID_TYPE = "input_invalid_type"
    STRUCTURE_INVALID = "structure_invalid"
    CONTEXT_INVALID = "context_invalid"
    TYPE_INVALID = "type_invalid"
    ID_INVALID = "id_invalid"
    ISSUER_INVALID = "issuer_invalid"
    DATES_INVALID = "dates_invalid"
    SCHEMA_UNKNOWN = "schema_unknown"
    SCHEMA_VIOLATION = "schema_violation"
    SUBJECT_INVALID = "subject_invalid"
    SD_INVALID = "sd_invalid"
    DISCLOSURE_MALFORMED = "disclosure_malformed"
    PROOF_SET_INVALID = "proof_set_invalid"
    PROOF_MALFORMED = "proof_malformed"
    TOO_MANY_CREDENTIALS = "too_many_credentials"
    PRESENTATION_MALFORMED = "presentation_malformed"

    # -- (1) issuer proof (sm2-jcs-2026)
    CRYPTOSUITE_UNSUPPORTED = "cryptosuite_unsupported"
    PROOF_PURPOSE_MISMATCH = "proof_purpose_mismatch"
    ISSUER_CHAIN_MISMATCH = "issuer_chain_mismatch"
    VERIFICATION_METHOD_NOT_ISSUER = "verification_method_not_issuer"
    VERIFICATION_METHOD_UNKNOWN = "verification_method_unknown"
    PROOF_VALUE_MALFORMED = "proof_value_malformed"
    SIGNATURE_INVALID = "signature_invalid"

    # -- (2) issuer registered, key valid at the anchor block time
    ISSUER_UNKNOWN = "issuer_unknown"
    KEY_NOT_YET_VALID_AT_ANCHOR = "key_not_yet_valid_at_anchor"
    KEY_RETIRED_AT_ANCHOR = "key_retired_at_anchor"
    KEY_COMPROMISED_AT_ANCHOR = "key_compromised_at_anchor"
    ANCHOR_TIME_UNKNOWN = "anchor_time_unknown"

    # -- (3) Merkle inclusion in a root the issuer anchored
    ANCHOR_PROOF_MISSING = "anchor_proof_missing"
    ANCHOR_PROOF_MALFORMED = "anchor_proof_malformed"
    ANCHOR_CHAIN_MISMATCH = "anchor_chain_mismatch"
    ANCHOR_CONTRACT_MISMATCH = "anchor_contract_mismatch"
    ANCHOR_ISSUER_MISMATCH = "anchor_issuer_mismatch"
    ANCHOR_PATH_INVALID = "anchor_path_invalid"
    ANCHOR_ROOT_MISMATCH = "anchor_root_mismatch"
    ROOT_NOT_ANCHORED = "root_not_anchored"
    ANCHOR_NOT_YET_INDEXED = "anchor_not_yet_indexed"
    ANCHOR_TREE_SIZE_MISMATCH = "anchor_tree_size_mismatch"
    ANCHOR_BLOCK_MISMATCH = "anchor_block_mismatch"

    # -- (4) status
    REVOKED = "revoked"
    SUSPENDED = "suspended"

    # -- (5) validity period
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"

    # -- (6) presentation: holder proof, binding, challenge, domain
    HOLDER_INVALID = "holder_invalid"
    HOLDER_PROOF_PURPOSE_MISMATCH = "holder_proof_purpose_mismatch"
    HOLDER_VERIFICATION_METHOD_INVALID = "holder_verification_method_invalid"
    HOLDER_SIGNATURE_INVALID = "holder_signature_invalid"
    HOLDER_BINDING_MISMATCH = "holder_binding_mismatch"
    DOMAIN_MISMATCH = "domain_mismatch"
    CHALLENGE_UNKNOWN = "challenge_unknown"
    CHALLENGE_USED = "challenge_used"
    CHALLENGE_EXPIRED = "challenge_expired"
    CHALLENGE_WRONG_AUDIENCE = "challenge_wrong_audience"

    # -- (7) disclosures
    DISCLOSURE_NOT_IN_SD = "disclosure_not_in_sd"
    DISCLOSURE_DUPLICATE = "disclosure_duplicate"
    DISCLOSURE_POINTER_INVALID = "disclosure_pointer_invalid"
    DISCLOSURE_SALT_TOO_SHORT = "disclosure_salt_too_short"

    # -- (6) presentation, when the request names the challenge it expects
    # (VC API ``options.challenge``): not one this verifier issued for presentations,
    # or not the one the presentation's proof carries.
    CHALLENGE_NOT_ISSUED = "challenge_not_issued"
    CHALLENGE_MISMATCH = "challenge_mismatch"

    # -- credentials whose issuer is not a did:tongban (``credentials.verify.foreign``)
    # (2): the proofs verified, but the issuer is no member of the consortium registry.
    ISSUER_NOT_IN_REGISTRY = "issuer_not_in_registry"
    # (0) and (1): the codes of ``credentials.suites`` (docs/foreign-credentials.md), kept
    # with their spelling; ``foreign.suite_reason`` is the one mapping from them.
    DOCUMENT_INVALID = "document_invalid"
    DOCUMENT_LIMIT = "document_limit"
    PROOF_MISSING = "proof_missing"
    PROOF_TYPE_UNSUPPORTED = "proof_type_unsupported"
    PROOF_CHAIN_UNSUPPORTED = "proof_chain_unsupported"
    PROOF_SET_TOO_LARGE = "proof_set_too_large"
    PROOF_CREATED_IN_FUTURE = "proof_created_in_future"
    PROOF_EXPIRED = "proof_expired"
    PROOF_CONTEXT_MISMATCH = "proof_context_mismatch"
    VERIFICATION_METHOD_UNRESOLVABLE = "verification_method_unresolvable"
    VERIFICATION_METHOD_NOT_AUTHORIZED = "verification_method_not_authorized"
    VERIFICATION_METHOD_KEY_MISMATCH = "verification_method_key_mismatch"
    CONTEXT_NOT_ALLOWED = "context_not_allowed"
    JSONLD_INVALID = "jsonld_invalid"
    JSONLD_UNDEFINED_TERM = "jsonld_undefined_term"
    JSONLD_RELATIVE_IRI = "jsonld_relative_iri"
    CANONICALIZATION_UNSUPPORTED_LITERAL = "canonicalization_unsupported_literal"
    CANONICALIZATION_LIMIT = "canonicalization_limit"
    # (4) of a foreign credential: it names a status mechanism the verifier cannot check.
    STATUS_TYPE_UNSUPPORTED = "status_type_unsupported"

    # -- the Bitstring Status List check, reported beside (4) (``statusList``): the
    # section 3.5 errors of the specification, lower-cased, and a list not fetched.
    STATUS_RETRIEVAL_ERROR = "status_retrieval_error"
    STATUS_VERIFICATION_ERROR = "status_verification_error"
    STATUS_LIST_LENGTH_ERROR = "status_list_length_error"
    MALFORMED_VALUE_ERROR = "malformed_value_error"
    RANGE_ERROR = "range_error"
    STATUS_LIST_NOT_FETCHED = "status_list_not_fetched"

    # -- the certificate file check of ``POST /documents/verify`` (``credentials.file_binding``),
    # reported beside the checklist as ``file``: the credential names no certificate file (or
    # a malformed entry), or the file given is of another media type, size or SM3 digest.
    FILE_NOT_NAMED = "file_not_named"
    FILE_DIGEST_MISMATCH = "file_digest_mismatch"
    FILE_SIZE_MISMATCH = "file_size_mismatch"
    FILE_MEDIA_TYPE_MISMATCH = "file_media_type_mismatch"

    # -- (0) parse, the 电子证照 member ``zhengzhao`` (``credentials.verify.zhengzhao_member``;
    # docs/zhengzhao-metadata.md): its structure, its 证照标识, the identifier against the
    # member, the trust grade, the member against the template's national metadata.
    ZHENGZHAO_MALFORMED = "zhengzhao_malformed"
    ZHENGZHAO_IDENTIFIER_INVALID = "zhengzhao_identifier_invalid"
    ZHENGZHAO_TYPE_CODE_MISMATCH = "zhengzhao_type_code_mismatch"
    ZHENGZHAO_AGENCY_MISMATCH = "zhengzhao_agency_mismatch"
    ZHENGZHAO_TRUST_GRADE_INVALID = "zhengzhao_trust_grade_invalid"
    ZHENGZHAO_TEMPLATE_MISMATCH = "zhengzhao_template_mismatch"

    # -- (6) presentation, purpose binding (``credentials.verify.purpose_binding``;
    # docs/purposes.md): the presentation is bound by its ``termsOfUse`` to another
    # purpose than the request declares, or its ``termsOfUse`` is not one well-formed
    # ``TongbanPurposeOfUse`` entry.
    PURPOSE_MISMATCH = "purpose_mismatch"
    PURPOSE_OF_USE_MALFORMED = "purpose_of_use_malformed"

"""VC Data Model conformance: the three sides a rule is checked on, as small helpers.

Each section's tests build a conforming credential (``credential`` for VCDM 2.0,
``v1_credential`` for 1.1), break one member, and expect the same refusal from

- the model itself (``credentials.vcdm.check_credential``/``check_presentation``):
  ``model_refuses`` returns the ``ModelViolation`` after checking its reason code
  and pointer;
- the issuer (``credentials.submitted.build_submitted``, a credential submitted
  through the VC API): ``issuer_refuses`` returns the ``NotConformingError`` after
  checking its pointer;
- the verifier's check (0) (``credentials.verify.parse.load_credential``) on a
  credential Zhejiang signed and someone altered afterwards: ``verifier_refuses``.

Every refusal is also checked for the rule's promise that no value is quoted:
broken values are ``SECRET`` strings that must not appear in any message.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import pytest

from credentials.catalogue import EXAMPLE_HOLDER
from credentials.contexts import CREDENTIALS_V1, CREDENTIALS_V2
from credentials.credential import SignedCredential
from credentials.did import issuer_did, issuer_verification_method
from credentials.errors import NotConformingError
from credentials.reasons import Check, Reason
from credentials.submitted import SubmittedCredential, build_submitted, issue_submitted
from credentials.vcdm import ModelViolation, check_credential, check_presentation
from credentials.verify import Failed, OfflineFailure, Passed, check_offline
from credentials.verify.parse import ParsedCredential, load_credential
from ledger.crypto.signer import LocalSigner
from tests.helpers.credentials import ZJ_KEY

CHAIN_ID = 31337
ISSUER_ID = 1
ISSUER = issuer_did(CHAIN_ID, ISSUER_ID)
"""``did:tongban:31337:1``: the issuing province of every test here."""

NOW_MS = 1_780_000_000_000
SIGNER = LocalSigner(issuer_verification_method(CHAIN_ID, ISSUER_ID, "key-1"), ZJ_KEY)

SECRET = "身份证号330106199001011234"
"""A value that must never reach an error message."""

REMOVE = object()
"""A member override that deletes the member."""

HOLDER = EXAMPLE_HOLDER


def _apply(document: dict[str, Any], members: Mapping[str, Any]) -> dict[str, Any]:
    for name, value in members.items():
        if value is REMOVE:
            document.pop(name, None)
        else:
            document[name] = value
    return document


def credential(**members: Any) -> dict[str, Any]:
    """A conforming VCDM 2.0 credential (unsecured, no template's type), changed by ``members``."""
    document: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "id": "urn:uuid:2f1e7c3a-8b4d-4e5f-9a6b-7c8d9e0f1a2b",
        "type": ["VerifiableCredential", "MembershipCredential"],
        "issuer": ISSUER,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER, "memberOf": "浙江省数据局"},
    }
    return _apply(document, members)


def v1_credential(**members: Any) -> dict[str, Any]:
    """A conforming VCDM 1.1 credential, changed by ``members``."""
    document = credential(validFrom=REMOVE)
    document["@context"] = [CREDENTIALS_V1]
    document["issuanceDate"] = "2026-01-01T00:00:00Z"
    return _apply(document, members)


def presentation(**members: Any) -> dict[str, Any]:
    """A conforming VCDM 2.0 presentation carrying one signed credential, changed by ``members``."""
    document: dict[str, Any] = {
        "@context": [CREDENTIALS_V2],
        "id": "urn:uuid:6a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d",
        "type": ["VerifiablePresentation"],
        "holder": HOLDER,
        "verifiableCredential": [issued(credential()).document],
    }
    return _apply(document, members)


def _no_secret(message: str) -> None:
    assert SECRET not in message, message


def model_refuses(document: object, reason: Reason, pointer: str) -> ModelViolation:
    """``check_credential`` refuses ``document`` with ``reason`` at ``pointer``."""
    with pytest.raises(ModelViolation) as caught:
        check_credential(document)
    assert (caught.value.reason, caught.value.pointer) == (reason, pointer), caught.value
    _no_secret(str(caught.value))
    return caught.value


def presentation_refused(document: object, reason: Reason, pointer: str) -> ModelViolation:
    """``check_presentation`` refuses ``document`` with ``reason`` at ``pointer``."""
    with pytest.raises(ModelViolation) as caught:
        check_presentation(document)
    assert (caught.value.reason, caught.value.pointer) == (reason, pointer), caught.value
    _no_secret(str(caught.value))
    return caught.value


def submit(
    document: Mapping[str, Any],
    *,
    disclosable: tuple[str, ...] = (),
    mandatory: tuple[str, ...] | None = None,
) -> tuple[str, dict[str, Any], list[list[Any]]]:
    """``build_submitted`` as Zhejiang runs it (chain 31337, issuer 1)."""
    return build_submitted(
        SubmittedCredential(document, disclosable=disclosable, mandatory=mandatory),
        chain_id=CHAIN_ID,
        issuer_id=ISSUER_ID,
        now_ms=NOW_MS,
    )


def issuer_refuses(
    document: Mapping[str, Any],
    pointer: str,
    *,
    disclosable: tuple[str, ...] = (),
    mandatory: tuple[str, ...] | None = None,
) -> NotConformingError:
    """``build_submitted`` refuses ``document`` with a ``NotConformingError`` at ``pointer``."""
    with pytest.raises(NotConformingError) as caught:
        submit(document, disclosable=disclosable, mandatory=mandatory)
    assert caught.value.pointer == pointer, caught.value
    _no_secret(str(caught.value))
    return caught.value


def issued(
    document: Mapping[str, Any],
    *,
    disclosable: tuple[str, ...] = (),
    mandatory: tuple[str, ...] | None = None,
) -> SignedCredential:
    """``document`` issued by Zhejiang; the result passes the offline checks with its key."""
    signed = issue_submitted(
        SubmittedCredential(document, disclosable=disclosable, mandatory=mandatory),
        SIGNER,
        chain_id=CHAIN_ID,
        issuer_id=ISSUER_ID,
        now_ms=NOW_MS,
    )
    outcome = check_offline(signed.document, issuer_key=ZJ_KEY.public_key)
    assert isinstance(outcome, Passed), outcome
    return signed


def verifier_accepts(document: Mapping[str, Any]) -> ParsedCredential:
    """Check (0) accepts ``document``."""
    outcome = load_credential(copy.deepcopy(dict(document)), text=False)
    assert isinstance(outcome, Passed), outcome
    return outcome.value


def verifier_refuses(
    changes: Mapping[str, Any],
    reason: Reason,
    pointer: str | None,
    *,
    base: Mapping[str, Any] | None = None,
) -> Failed:
    """A credential Zhejiang issued from ``base``, altered by ``changes``: check (0) fails.

    The alteration breaks the signature too; check (0) must refuse it first, with
    ``reason`` and the member's ``pointer`` (``at``).
    """
    signed = issued(credential() if base is None else base).document
    altered = _apply(copy.deepcopy(signed), changes)
    outcome = load_credential(altered, text=False)
    assert isinstance(outcome, Failed), outcome
    assert (outcome.reason, outcome.at) == (reason, pointer), outcome
    _no_secret(outcome.message)
    offline = check_offline(altered, issuer_key=ZJ_KEY.public_key)
    assert isinstance(offline, OfflineFailure), offline
    assert offline.check is Check.PARSE, offline
    return outcome


def refused_everywhere(members: Mapping[str, Any], reason: Reason, pointer: str) -> None:
    """A credential with ``members`` is refused by the model, the issuer and check (0) alike."""
    model_refuses(credential(**members), reason, pointer)
    issuer_refuses(credential(**members), pointer)
    verifier_refuses(members, reason, pointer)

"""The verifier's checklist case by case: templates, presentations, failures, configuration."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from credentials.credential import ANCHOR_MEMBER, IssueRequest
from credentials.errors import AccessLogUnavailableError, ConfigurationError
from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason
from credentials.templates import TEMPLATES
from credentials.verify import Verifier, VerifierConfig
from credentials.verify.checks import INDEX_LAG_BLOCKS
from ledger.audit.events import Caller, EventInput
from ledger.chain.index import ChainIndex, IndexView
from ledger.crypto.sm3 import sm3
from ledger.store.database import StoreError
from tests.helpers.contracts import World
from tests.helpers.credentials import (
    CLAIMS_BY_TEMPLATE,
    IssuingProvince,
    VerifyingProvince,
    degree_request,
    request,
)


def _reason(result: Any, number: int) -> str:
    return str(result.check(number).reason_code)


def _issue_all_templates(zhejiang: IssuingProvince, holder: Holder) -> list[dict[str, Any]]:
    issued = zhejiang.issuer.issue_many(
        [IssueRequest(name, holder.did, CLAIMS_BY_TEMPLATE[name]) for name in sorted(TEMPLATES)]
    )
    zhejiang.anchor_all()
    return [zhejiang.issuer.credential(c.digest) for c in issued]


def test_every_template_verifies_alone_and_together(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    credentials = _issue_all_templates(zhejiang, holder)
    guangdong.sync()
    for credential in credentials:
        assert guangdong.verifier.verify_credential(credential, request()).valid
    challenge = guangdong.verifier.issue_challenge()
    picks = [(c, [d[1].rsplit("/", 1)[1] for d in c["disclosures"][:2]]) for c in credentials]
    presentation = holder.present(picks, challenge=challenge.value, domain=guangdong.config.did)
    result = guangdong.verifier.verify_presentation(presentation, request())
    assert result.valid, result.checks
    assert len(result.digests) == len(TEMPLATES)


def test_one_bad_credential_spoils_a_presentation_and_is_named(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue_many([degree_request(holder) for _ in range(3)])
    zhejiang.anchor_all()
    zhejiang.issuer.revoke([issued[1].digest])
    zhejiang.processor.run_until_final(timeout=60, poll=0.01)
    guangdong.sync()
    credentials = [(zhejiang.issuer.credential(c.digest), ["degreeName"]) for c in issued]
    challenge = guangdong.verifier.issue_challenge()
    presentation = holder.present(
        credentials, challenge=challenge.value, domain=guangdong.config.did
    )
    result = guangdong.verifier.verify_presentation(presentation, request())
    assert result.verdict is CheckStatus.INVALID
    failure = result.first_failure()
    assert failure is not None
    assert (failure.number, failure.reason_code) == (4, Reason.REVOKED)
    assert failure.message.startswith("credential 1:")
    assert result.check(6).status is CheckStatus.VALID


def test_presentation_rules(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()
    credential = zhejiang.issuer.credential(issued.digest)
    guangdong.sync()
    verifier = guangdong.verifier
    did = guangdong.config.did

    def outcome(presentation: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        failure = verifier.verify_presentation(presentation, request(), **kwargs).first_failure()
        assert failure is not None
        return failure.number, failure.reason_code

    stranger = Holder.generate()
    stolen = stranger.present(
        [(credential, ["degreeName"])], challenge=verifier.issue_challenge().value, domain=did
    )
    assert outcome(stolen) == (6, Reason.HOLDER_BINDING_MISMATCH)
    elsewhere = holder.present(
        [(credential, [])], challenge=verifier.issue_challenge().value, domain="did:tongban:1:9"
    )
    assert outcome(elsewhere) == (6, Reason.DOMAIN_MISMATCH)
    invented = holder.present([(credential, [])], challenge="made-up-challenge", domain=did)
    assert outcome(invented) == (6, Reason.CHALLENGE_UNKNOWN)
    foreign = guangdong.challenges.issue("presentation", verifier.clock(), 60_000, "did:other")
    borrowed = holder.present([(credential, [])], challenge=foreign.value, domain=did)
    assert outcome(borrowed) == (6, Reason.CHALLENGE_WRONG_AUDIENCE)
    challenge = verifier.issue_challenge()
    late = holder.present([(credential, [])], challenge=challenge.value, domain=did)
    assert outcome(late, now_ms=challenge.expires_at_ms) == (6, Reason.CHALLENGE_EXPIRED)
    # A holder builds at most 50; a forger may send more.
    many = holder.present([(credential, [])], challenge="x", domain=did)
    many["verifiableCredential"] = many["verifiableCredential"] * 51
    assert outcome(many) == (0, Reason.TOO_MANY_CREDENTIALS)
    purpose = holder.present(
        [(credential, [])], challenge=verifier.issue_challenge().value, domain=did
    )
    purpose["proof"]["proofPurpose"] = "assertionMethod"
    assert outcome(purpose) == (6, Reason.HOLDER_PROOF_PURPOSE_MISMATCH)


def test_unanchored_and_not_yet_indexed_credentials(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    bare = zhejiang.issuer.credential(issued.digest, require_anchor=False)
    guangdong.sync()
    result = guangdong.verifier.verify_credential(bare, request())
    assert _reason(result, 3) == Reason.ANCHOR_PROOF_MISSING
    assert result.check(2).status is CheckStatus.SKIPPED
    assert _reason(result, 2) == Reason.ANCHOR_TIME_UNKNOWN
    assert result.check(1).status is CheckStatus.VALID
    zhejiang.anchor_all()
    anchored = zhejiang.issuer.credential(issued.digest)
    stale = guangdong.verifier.verify_credential(anchored, request())
    # A block beyond the index is a question for later (ERROR, retry), not a forgery.
    assert _reason(stale, 3) == Reason.ANCHOR_NOT_YET_INDEXED
    assert stale.check(3).status is CheckStatus.ERROR
    assert stale.verdict is CheckStatus.ERROR
    assert stale.index_height < zhejiang.world.client.block_number()
    far = copy.deepcopy(anchored)
    far[ANCHOR_MEMBER]["blockNumber"] = stale.index_height + INDEX_LAG_BLOCKS + 1
    assert _reason(guangdong.verifier.verify_credential(far, request()), 3) == (
        Reason.ROOT_NOT_ANCHORED
    )
    guangdong.sync()
    fresh = guangdong.verifier.verify_credential(anchored, request())
    assert fresh.valid
    assert fresh.index_height == zhejiang.world.client.block_number()


def test_an_undecided_presentation_keeps_its_challenge_for_the_retry(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    guangdong.sync()  # the issuer and its key, not yet the anchor
    zhejiang.anchor_all()
    anchored = zhejiang.issuer.credential(issued.digest)
    challenge = guangdong.verifier.issue_challenge()
    presentation = holder.present(
        [(anchored, ["degreeName"])], challenge=challenge.value, domain=guangdong.config.did
    )
    undecided = guangdong.verifier.verify_presentation(presentation, request())
    assert undecided.verdict is CheckStatus.ERROR
    assert _reason(undecided, 3) == Reason.ANCHOR_NOT_YET_INDEXED
    assert undecided.check(6).status is CheckStatus.SKIPPED
    guangdong.sync()
    # The same presentation, sent again once the index caught up, decides.
    decided = guangdong.verifier.verify_presentation(presentation, request())
    assert decided.valid, decided.checks


def test_garbage_is_rejected_at_parse_and_logged_without_content(
    guangdong: VerifyingProvince,
) -> None:
    secret = '{"holderName": "张三", "holderName": "李四"}'
    result = guangdong.verifier.verify_credential(secret.encode(), request())
    assert result.verdict is CheckStatus.INVALID
    assert _reason(result, 0) == Reason.INPUT_DUPLICATE_KEY
    assert all(c.status is CheckStatus.SKIPPED for c in result.checks[1:])
    assert "张三" not in json.dumps(result.to_json(), ensure_ascii=False)
    event = guangdong.audit.event(guangdong.audit.size() - 1)
    assert event is not None
    assert event.event.resource == "credential:" + sm3(secret.encode()).hex()
    assert event.event.outcome == "invalid"
    assert event.event.subject is None
    huge = b'{"a": "' + b"x" * 70_000 + b'"}'
    assert (
        _reason(guangdong.verifier.verify_credential(huge, request()), 0) == Reason.INPUT_TOO_LARGE
    )
    assert _reason(guangdong.verifier.verify_presentation(b"[]", request()), 0) == (
        Reason.PRESENTATION_MALFORMED
    )


class BrokenIndex(ChainIndex):
    """An index whose store fails on read."""

    @contextmanager
    def view(self) -> Iterator[IndexView]:
        raise StoreError("disk on fire")
        yield  # pragma: no cover


class FailingLog:
    def append(self, caller: Caller, event: EventInput) -> None:
        raise StoreError("log store unavailable")


def test_an_unreadable_index_gives_error_not_valid(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder, world: World
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()
    credential = zhejiang.issuer.credential(issued.digest)
    config = guangdong.config
    broken = BrokenIndex(guangdong.db, config.chain_id, config.registry, config.credential_anchor)
    verifier = Verifier(config, broken, guangdong.challenges, guangdong.audit)
    result = verifier.verify_credential(credential, request())
    assert result.verdict is CheckStatus.ERROR
    assert result.check(0).status is CheckStatus.VALID
    assert {c.reason_code for c in result.checks[1:]} == {Reason.INDEX_UNAVAILABLE}
    event = guangdong.audit.event(guangdong.audit.size() - 1)
    assert event is not None
    assert event.event.outcome == "error"
    mute = Verifier(config, guangdong.index, guangdong.challenges, FailingLog())
    with pytest.raises(AccessLogUnavailableError):
        mute.verify_credential(credential, request())


def test_the_verifier_trusts_only_its_own_configuration(
    guangdong: VerifyingProvince, world: World
) -> None:
    config = guangdong.config
    other = VerifierConfig(
        config.chain_id, config.registry, world.addresses.audit_anchor, config.did
    )
    with pytest.raises(ConfigurationError):
        Verifier(other, guangdong.index, guangdong.challenges, guangdong.audit)


def test_a_bug_while_parsing_gives_error_not_an_exception(
    guangdong: VerifyingProvince, monkeypatch: pytest.MonkeyPatch
) -> None:
    import credentials.verify.parse as parse_module

    def broken(value: Any, where: str = "credential") -> Any:
        raise RuntimeError("bug")

    monkeypatch.setattr(parse_module, "parse_credential", broken)
    result = guangdong.verifier.verify_credential(b"{}", request())
    assert result.verdict is CheckStatus.ERROR
    assert (result.check(0).status, result.check(0).reason_code) == (
        CheckStatus.ERROR,
        Reason.INTERNAL_ERROR,
    )
    event = guangdong.audit.event(guangdong.audit.size() - 1)
    assert event is not None
    assert event.event.outcome == "error"


def test_a_reorg_to_the_same_height_is_not_hidden_by_cached_chain_state(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder, world: World
) -> None:
    issued = zhejiang.issuer.issue(degree_request(holder))
    zhejiang.anchor_all()  # confirmations=1: the anchoring block is the latest block
    credential = zhejiang.issuer.credential(issued.digest)
    guangdong.sync()
    before = guangdong.verifier.verify_credential(credential, request())
    assert before.valid
    world.client.rpc("anvil_reorg", 1, [])  # same height, the anchoring transaction gone
    guangdong.sync()
    after = guangdong.verifier.verify_credential(credential, request())
    assert after.index_height == before.index_height
    assert _reason(after, 3) == Reason.ROOT_NOT_ANCHORED

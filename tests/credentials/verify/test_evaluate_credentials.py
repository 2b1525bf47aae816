"""``Verifier.evaluate_credentials``: many credentials in one index view, as each alone.

The batch evaluation must answer exactly what ``evaluate_credential`` answers for each
credential (valid, tampered, malformed, of another issuer's key), in order and at one
height; an unreadable index is ERROR ``index_unavailable`` for every credential that
parsed, never VALID, and a malformed one is still its parse failure.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason
from credentials.verify import Verifier
from credentials.verify.batch import read_batch_options, verify_chunk, verify_item
from credentials.verify.vcapi import Malformed
from ledger.chain.index import ChainIndex, IndexView
from ledger.store.database import StoreError
from tests.helpers.credentials import IssuingProvince, VerifyingProvince, degree_request


def _documents(zhejiang: IssuingProvince, holder: Holder) -> list[Any]:
    issued = zhejiang.issuer.issue_many([degree_request(holder) for _ in range(3)])
    zhejiang.anchor_all()
    valid = [zhejiang.issuer.credential(c.digest) for c in issued]
    tampered = copy.deepcopy(valid[1])
    tampered["disclosures"][0][2] = "someone else"
    not_a_credential = {"@context": ["https://example.org/ctx"], "type": ["Nothing"]}
    return [valid[0], tampered, not_a_credential, valid[2], json.dumps(valid[0]).encode()]


def _summary(result: Any) -> tuple[Any, ...]:
    return (
        result.verdict,
        result.index_height,
        [(c.status, c.reason_code) for c in result.checks],
        result.digests,
        result.holder,
    )


def test_the_batch_answers_what_each_alone_answers_at_one_height(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    documents = _documents(zhejiang, holder)
    guangdong.sync()
    verifier = guangdong.verifier
    now = verifier.clock()
    together = verifier.evaluate_credentials(documents, now_ms=now)
    alone = [verifier.evaluate_credential(d, now_ms=now) for d in documents]
    assert [_summary(r) for r in together] == [_summary(r) for r in alone]
    assert [r.verdict for r in together] == [
        CheckStatus.VALID,
        CheckStatus.INVALID,
        CheckStatus.INVALID,
        CheckStatus.VALID,
        CheckStatus.VALID,
    ]
    assert len({r.index_height for r in together}) == 1


def test_verify_chunk_answers_what_verify_item_answers(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    documents = [*_documents(zhejiang, holder)[:4], "not an object"]
    guangdong.sync()
    options = read_batch_options({})
    assert not isinstance(options, Malformed)
    items = list(enumerate(documents))
    now = guangdong.verifier.clock()
    chunk = verify_chunk(guangdong.verifier, items, options, now, parsed=True)
    each = [verify_item(guangdong.verifier, item, options, now) for item in items]
    assert [type(o) for o in chunk] == [type(o) for o in each]
    for a, b in zip(chunk, each, strict=True):
        if isinstance(a, Malformed) or isinstance(b, Malformed):
            assert a == b
        else:
            assert a.to_json() == b.to_json()
    assert isinstance(chunk[4], Malformed)


class BrokenIndex(ChainIndex):
    """An index whose store fails when a view is opened."""

    @contextmanager
    def view(self) -> Iterator[IndexView]:
        raise StoreError("disk on fire")
        yield  # pragma: no cover


def test_an_unreadable_index_is_an_error_for_each_parsed_credential(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    documents = _documents(zhejiang, holder)
    config = guangdong.config
    broken = BrokenIndex(guangdong.db, config.chain_id, config.registry, config.credential_anchor)
    verifier = Verifier(config, broken, guangdong.challenges, guangdong.audit)
    results = verifier.evaluate_credentials(documents)
    assert [r.verdict for r in results] == [
        CheckStatus.ERROR,
        CheckStatus.ERROR,
        CheckStatus.INVALID,
        CheckStatus.ERROR,
        CheckStatus.ERROR,
    ]
    assert results[0].check(0).status is CheckStatus.VALID
    assert {c.reason_code for c in results[0].checks[1:]} == {Reason.INDEX_UNAVAILABLE}
    assert results[2].check(0).status is CheckStatus.INVALID

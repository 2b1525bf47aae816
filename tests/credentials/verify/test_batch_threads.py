"""``verify_chunk(threads=n)``: the chunk's credentials checked on several threads.

The threads share the one index view of the chunk, so the answer must be the one
thread's answer, item for item, in request order and at one height, whichever
thread checked which credential; a view that fails under a helper thread is still
ERROR ``index_unavailable`` for every credential that parsed, never VALID.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from credentials.holder import Holder
from credentials.reasons import CheckStatus, Reason
from credentials.verify import Verifier
from credentials.verify.batch import read_batch_options, verify_chunk
from credentials.verify.vcapi import Malformed, VcApiVerification
from ledger.chain.index import ChainIndex, IndexView
from ledger.store.database import StoreError
from tests.helpers.credentials import IssuingProvince, VerifyingProvince, degree_request


def _documents(zhejiang: IssuingProvince, holder: Holder) -> list[Any]:
    issued = zhejiang.issuer.issue_many([degree_request(holder) for _ in range(12)])
    zhejiang.anchor_all()
    valid = [zhejiang.issuer.credential(c.digest) for c in issued]
    tampered = copy.deepcopy(valid[5])
    tampered["disclosures"][0][2] = "someone else"
    return [*valid[:5], tampered, "not an object", *valid[6:]]


def test_two_threads_answer_what_one_thread_answers_in_order(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    documents = _documents(zhejiang, holder)
    guangdong.sync()
    options = read_batch_options({})
    assert not isinstance(options, Malformed)
    items = list(enumerate(documents))
    verifier = guangdong.verifier
    now = verifier.clock()
    one = verify_chunk(verifier, items, options, now, parsed=True)
    two = verify_chunk(verifier, items, options, now, parsed=True, threads=2)
    assert [type(o) for o in two] == [type(o) for o in one]
    for a, b in zip(two, one, strict=True):
        if isinstance(a, VcApiVerification) and isinstance(b, VcApiVerification):
            assert a.to_json() == b.to_json()
            assert a.document is b.document
        else:
            assert a == b
    verdicts = [o.result.verdict for o in two if isinstance(o, VcApiVerification)]
    assert verdicts.count(CheckStatus.VALID) == 11
    assert verdicts[5] is CheckStatus.INVALID
    assert isinstance(two[6], Malformed)
    heights = {o.result.index_height for o in two if isinstance(o, VcApiVerification)}
    assert len(heights) == 1


class MeetingIndex(ChainIndex):
    """An index whose one view lets no thread read on until a second thread reads it too."""

    meeting: threading.Barrier
    readers: set[int]

    @contextmanager
    def view(self) -> Iterator[IndexView]:
        with super().view() as view:
            status = view.digest_status

            def digest_status(issuer_id: int, digest: bytes) -> Any:
                if threading.get_ident() not in self.readers:
                    self.readers.add(threading.get_ident())
                    # Broken (an ERROR check, so the test fails) if no other thread comes.
                    self.meeting.wait()
                return status(issuer_id, digest)

            view.digest_status = digest_status  # type: ignore[method-assign]
            yield view


def test_the_helper_threads_read_the_one_view_of_the_chunk(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    documents = [d for d in _documents(zhejiang, holder) if isinstance(d, dict)]
    guangdong.sync()
    config = guangdong.config
    index = MeetingIndex(guangdong.db, config.chain_id, config.registry, config.credential_anchor)
    index.meeting = threading.Barrier(2, timeout=60)
    index.readers = set()
    verifier = Verifier(config, index, guangdong.challenges, guangdong.audit)
    options = read_batch_options({})
    assert not isinstance(options, Malformed)
    items = list(enumerate(documents))
    outcomes = verify_chunk(verifier, items, options, verifier.clock(), threads=2)
    verdicts = [o.result.verdict for o in outcomes if isinstance(o, VcApiVerification)]
    assert verdicts.count(CheckStatus.VALID) == 11
    assert len(index.readers) == 2


class FailingView(ChainIndex):
    """An index whose view fails on every digest status read."""

    @contextmanager
    def view(self) -> Iterator[IndexView]:
        with super().view() as view:

            def digest_status(issuer_id: int, digest: bytes) -> Any:
                raise StoreError("disk on fire")

            view.digest_status = digest_status  # type: ignore[method-assign]
            yield view


def test_a_failing_view_is_an_error_on_every_thread_never_valid(
    zhejiang: IssuingProvince, guangdong: VerifyingProvince, holder: Holder
) -> None:
    documents = _documents(zhejiang, holder)
    guangdong.sync()
    config = guangdong.config
    index = FailingView(guangdong.db, config.chain_id, config.registry, config.credential_anchor)
    verifier = Verifier(config, index, guangdong.challenges, guangdong.audit)
    options = read_batch_options({})
    assert not isinstance(options, Malformed)
    items = list(enumerate(documents))
    outcomes = verify_chunk(verifier, items, options, verifier.clock(), parsed=True, threads=2)
    verified = [o for o in outcomes if isinstance(o, VcApiVerification)]
    assert len(verified) == 12
    assert all(o.result.verdict is not CheckStatus.VALID for o in verified)
    assert all(
        any(c.reason_code == Reason.INDEX_UNAVAILABLE for c in o.result.checks)
        for o in verified
        if o.result.check(0).status is CheckStatus.VALID
    )

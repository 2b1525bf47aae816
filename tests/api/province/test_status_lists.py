"""The writer's status lists: the chain decides each bit; lists are signed and regenerated.

A province of the test consortium issues credentials through its own issuer API;
each carries its two ``BitstringStatusListEntry`` entries, whose slot the issuer
bound to the credential's digest when it stored it. The tests change statuses on
chain, run the writer's ``status-lists`` duty by hand, and check each credential's
own entries against the published lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.province.status_lists import (
    REGENERATION_SECONDS,
    StatusListPublisher,
    default_public_base,
    read_list,
)
from api.runtime.settings import Settings
from api.runtime.writer import province_duties
from credentials.holder import Holder
from credentials.issuance.status_slots import Slot, reserve, slot_of
from credentials.status import StatusReason
from credentials.status_list import (
    LIST_SIZE,
    ListStatus,
    bit_at,
    decode_list,
    list_proof_verifier,
    list_status,
    list_url,
    status_entries,
)
from ledger.crypto.sm2 import Sm2PublicKey
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import ServedProvince, served_province
from tests.helpers.routes import issue
from tests.helpers.stores import StoreTarget

# The test province's settings leave public_url unset: the bound default address,
# which the issuer writes into every credential's entries.
BASE = "http://127.0.0.1:8080"


class Clock:
    """Milliseconds, moved by hand."""

    def __init__(self) -> None:
        self.now = 1_780_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def zhejiang(world: World, tmp_path: Path, store_target: StoreTarget) -> Iterator[ServedProvince]:
    """Zhejiang, served, with its writer driven by hand; its store on each engine in turn."""
    url = None if store_target.engine == "sqlite" else str(store_target.where)
    with served_province(world, tmp_path, ZJ, database_url=url) as province:
        yield province


@dataclass(frozen=True)
class Issued:
    """A credential issued over HTTP: its digest, the slot bound to it, its own entries."""

    digest: bytes
    slot: Slot
    entries: list[dict[str, Any]]

    def entry(self, purpose: str) -> dict[str, Any]:
        """The credential's entry of ``purpose``."""
        return next(e for e in self.entries if e["statusPurpose"] == purpose)


def _issue(province: ServedProvince, count: int) -> list[Issued]:
    """Issue ``count`` credentials over HTTP and anchor them (final on chain)."""
    holder = Holder.generate()
    answers = [issue(province, holder.did) for _ in range(count)]
    province.anchor_all()
    issued = []
    for answer in answers:
        digest = bytes.fromhex(answer["digest"])
        with province.parts.db.read() as tx:
            slot = slot_of(tx, digest)
        assert slot is not None  # bound when the credential was stored
        entries: list[dict[str, Any]] = answer["credential"]["credentialStatus"]
        assert entries == status_entries(partial(list_url, BASE, slot.list_number), slot.index)
        issued.append(Issued(digest, slot, entries))
    return issued


def _publisher(province: ServedProvince, clock: Clock) -> StatusListPublisher:
    parts = province.parts
    return StatusListPublisher(
        parts.db,
        parts.index,
        parts.settings.issuer_id,
        parts.issuer_config.did,
        parts.keyring.credential_signer,
        lambda: BASE,
        clock=clock,
    )


def _document(province: ServedProvince, number: int, purpose: str) -> dict[str, Any]:
    found = read_list(province.parts.db, number, purpose)
    assert found is not None
    loaded: dict[str, Any] = json.loads(found.document)
    return loaded


def _bits(province: ServedProvince, number: int, purpose: str) -> bytes:
    document = _document(province, number, purpose)
    return decode_list(document["credentialSubject"]["encodedList"], max_bytes=LIST_SIZE // 8)


def _set_indexes(bits: bytes) -> set[int]:
    return {i for i in range(len(bits) * 8) if bits[i >> 3] and bit_at(bits, i)}


def _check(province: ServedProvince, entry: dict[str, Any]) -> ListStatus:
    """What a verifier concludes about ``entry`` from the published list (key from the index)."""
    parts = province.parts

    def key_for(method: str) -> Sm2PublicKey | None:
        with parts.index.view() as view:
            record = view.key(parts.settings.issuer_id, method.partition("#")[2])
        return None if record is None else Sm2PublicKey.from_bytes(record.public_key)

    number, purpose = entry["statusListCredential"].removeprefix(f"{BASE}/status-lists/").split("/")
    document = _document(province, int(number), purpose)
    return list_status(entry, document, verify_proof=list_proof_verifier(key_for))


def test_revoked_and_suspended_digests_set_their_bits_and_reinstatement_clears(
    zhejiang: ServedProvince,
) -> None:
    clock = Clock()
    publisher = _publisher(zhejiang, clock)
    assert publisher.run().published == ()  # no list opened yet: nothing to sign
    a, b, c = _issue(zhejiang, 3)
    assert len({a.slot, b.slot, c.slot}) == 3
    orphan = reserve(zhejiang.parts.db, 1)[0]  # a crash between reserve and bind
    orphan_entries = status_entries(lambda p: list_url(BASE, 1, p), orphan.index)

    first = publisher.run()
    assert first.published == (1,)
    assert first.height == zhejiang.parts.index.height
    for purpose in ("revocation", "suspension"):
        assert _set_indexes(_bits(zhejiang, 1, purpose)) == set()
    assert publisher.run().published == ()  # nothing changed: not regenerated

    zhejiang.parts.issuer.revoke([a.digest], StatusReason.ISSUED_IN_ERROR)
    zhejiang.parts.issuer.suspend([b.digest], StatusReason.UNDER_REVIEW)
    zhejiang.anchor_all()  # final on chain, and indexed
    second = publisher.run()
    assert second.published == (1,)
    assert _set_indexes(_bits(zhejiang, 1, "revocation")) == {a.slot.index}
    assert _set_indexes(_bits(zhejiang, 1, "suspension")) == {b.slot.index}
    assert _document(zhejiang, 1, "revocation")["credentialSubject"]["statusBlock"] == (
        zhejiang.parts.index.height
    )
    assert _check(zhejiang, a.entry("revocation")).valid is False
    assert _check(zhejiang, a.entry("suspension")).valid is True
    assert _check(zhejiang, b.entry("suspension")).valid is False
    assert _check(zhejiang, b.entry("revocation")).valid is True
    assert _check(zhejiang, c.entry("revocation")).valid is True
    with zhejiang.parts.db.read() as tx:
        assert slot_of(tx, a.digest) == a.slot
    for entry in orphan_entries:  # never bound: 0 forever
        assert _check(zhejiang, entry).valid is True

    zhejiang.parts.issuer.reinstate([b.digest], StatusReason.REVIEW_CLEARED)
    zhejiang.anchor_all()
    assert publisher.run().published == (1,)
    assert _set_indexes(_bits(zhejiang, 1, "suspension")) == set()
    assert _set_indexes(_bits(zhejiang, 1, "revocation")) == {a.slot.index}
    assert _check(zhejiang, b.entry("suspension")).valid is True


def test_the_list_credential_proof_verifies_with_the_issuers_key_and_not_when_altered(
    zhejiang: ServedProvince,
) -> None:
    (revoked,) = _issue(zhejiang, 1)
    zhejiang.parts.issuer.revoke([revoked.digest])
    zhejiang.anchor_all()
    _publisher(zhejiang, Clock()).run()
    document = _document(zhejiang, 1, "revocation")
    assert isinstance(document["proof"], dict)
    assert (
        document["proof"]["verificationMethod"] == zhejiang.parts.keyring.credential_signer().key_id
    )
    result = _check(zhejiang, revoked.entry("revocation"))
    assert (result.error, result.status) == (None, 1)

    # The bit cleared by someone else: the proof no longer verifies.
    found = read_list(zhejiang.parts.db, 1, "revocation")
    assert found is not None
    forged = json.loads(found.document)
    forged["credentialSubject"]["encodedList"] = _document(zhejiang, 1, "suspension")[
        "credentialSubject"
    ]["encodedList"]
    entry = revoked.entry("revocation")
    assert list_status(entry, forged, verify_proof=list_proof_verifier(lambda m: None)).error
    verified = list_proof_verifier(lambda m: Sm2PublicKey.from_bytes(bytes(33)))
    assert list_status(entry, forged, verify_proof=verified).error is not None


def test_a_list_is_re_signed_after_the_refresh_period_or_when_the_index_went_back(
    zhejiang: ServedProvince,
) -> None:
    clock = Clock()
    publisher = _publisher(zhejiang, clock)
    _issue(zhejiang, 1)
    assert publisher.run().published == (1,)
    clock.now += (publisher.refresh_s - 1) * 1000
    assert publisher.run().published == ()
    clock.now += 1000
    assert publisher.run().published == (1,)
    found = read_list(zhejiang.parts.db, 1, "revocation")
    assert found is not None
    assert found.signed_at_ms == clock.now
    assert found.max_age_s == REGENERATION_SECONDS

    # A reorg took the index below the published block: the list is rebuilt at once.
    with zhejiang.parts.db.write() as tx:
        tx.execute("UPDATE status_list_published SET block_number = block_number + 1000")
    assert publisher.run().published == (1,)


def test_the_duty_is_registered_and_publishes_nothing_without_a_public_url(
    zhejiang: ServedProvince,
) -> None:
    duties = {d.name: d for d in province_duties(zhejiang.parts, [], zhejiang.batches)}
    assert duties["status-lists"].interval == REGENERATION_SECONDS
    _issue(zhejiang, 1)
    duties["status-lists"].run()  # the settings' default: http://127.0.0.1:8080
    document = _document(zhejiang, 1, "suspension")
    assert document["id"] == "http://127.0.0.1:8080/status-lists/1/suspension"

    silent = StatusListPublisher(
        zhejiang.parts.db,
        zhejiang.parts.index,
        ZJ,
        zhejiang.did,
        zhejiang.parts.keyring.credential_signer,
        lambda: None,
    )
    assert silent.run().published == ()


def test_a_new_list_is_published_when_one_opens(zhejiang: ServedProvince) -> None:
    publisher = _publisher(zhejiang, Clock())
    _issue(zhejiang, 1)
    assert publisher.run().published == (1,)
    with zhejiang.parts.db.write() as tx:  # as if list 1 had filled up (3/4 reserved)
        tx.execute("UPDATE status_list_lists SET reserved = 98304")
    (late,) = _issue(zhejiang, 1)
    assert late.slot.list_number == 2
    assert late.entry("revocation")["statusListCredential"] == f"{BASE}/status-lists/2/revocation"
    assert publisher.run().published == (2,)
    assert read_list(zhejiang.parts.db, 2, "revocation") is not None
    zhejiang.parts.issuer.revoke([late.digest])
    zhejiang.anchor_all()
    assert publisher.run().published == (2,)
    assert _check(zhejiang, late.entry("revocation")).valid is False


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("province.example", 443, "http://province.example:443"),
        ("::1", 8080, "http://[::1]:8080"),
        ("127.0.0.1", 0, None),
        ("0.0.0.0", 8080, None),
        ("::", 8080, None),
    ],
)
def test_the_default_public_base_is_the_bound_address_when_it_is_one(
    host: str, port: int, expected: str | None
) -> None:
    assert default_public_base(host, port) == expected


def test_the_public_url_setting_must_be_an_absolute_http_url(tmp_path: Path) -> None:
    good = Settings(data_dir=tmp_path, public_url="https://zj.example.gov.cn/tongban")
    assert good.public_url == "https://zj.example.gov.cn/tongban"
    assert Settings(data_dir=tmp_path).public_url is None
    for bad in ("zj.example.gov.cn", "ftp://zj.example", "https://zj.example/?q=1", "https://a b"):
        with pytest.raises(ValidationError):
            Settings(data_dir=tmp_path, public_url=bad)


def test_the_regeneration_period_is_a_setting(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path).status_list_seconds == REGENERATION_SECONDS
    assert Settings(data_dir=tmp_path, status_list_seconds=3).status_list_seconds == 3
    for bad in (0, -1, 3601):
        with pytest.raises(ValidationError):
            Settings(data_dir=tmp_path, status_list_seconds=bad)

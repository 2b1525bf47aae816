"""The credential offer store (``api.province.credential_offers``) on both engines.

OpenID4VCI 1.0 §3.5 (pre-authorized code flow): a code with a ``tx_code``, once;
§6.1 token request; §7 nonce endpoint (single-use ``c_nonce``). What the store keeps:
claims sealed, codes as hashes, everything gone after redemption or expiry.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from api.errors import ApiError
from api.province import credential_offers as offers
from ledger.crypto import sm4
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.stores import StoreTarget

KEY = sm4.generate_key()
NOW = 1_800_000_000_000
SECRET_NAME = "张三丰"
OFFER = offers.OfferRequest(
    client_id="issuer-app",
    purpose="credential.issuance",
    legal_basis="prc.pipl.art13",
    template="business-licence",
    agency=None,
    claims={"legalRepresentative": SECRET_NAME, "registeredCapital": "100万元"},
)


def _code_of(db: Database, created: offers.CreatedOffer) -> str:
    return offers.offer_by_handle(db, KEY, created.handle, now_ms=NOW).pre_authorized_code


def _wrong(tx_code: str) -> str:
    return f"{(int(tx_code) + 1) % 10**6:06d}"


def test_s3_5_a_code_and_its_tx_code_give_one_token_and_the_claims_open_with_it(
    any_db: Database,
) -> None:
    created = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    assert len(created.tx_code) == 6
    assert created.tx_code.isdigit()
    code = _code_of(any_db, created)
    token = offers.exchange(any_db, KEY, code, created.tx_code, now_ms=NOW + 1)
    pending = offers.pending_for_token(any_db, KEY, token, now_ms=NOW + 2)
    assert pending.claims == OFFER.claims
    assert pending.template == "business-licence"
    with pytest.raises(offers.OfferRefusedError) as again:
        offers.exchange(any_db, KEY, code, created.tx_code, now_ms=NOW + 3)
    assert again.value.error == "invalid_grant"
    # the offer is no longer served by reference once its code is spent
    with pytest.raises(offers.OfferRefusedError):
        offers.offer_by_handle(any_db, KEY, created.handle, now_ms=NOW + 3)


def test_s6_1_a_wrong_tx_code_is_invalid_grant_and_the_third_burns_the_offer(
    any_db: Database,
) -> None:
    created = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    code = _code_of(any_db, created)
    for _ in range(offers.MAX_TX_TRIES):
        with pytest.raises(offers.OfferRefusedError) as refused:
            offers.exchange(any_db, KEY, code, _wrong(created.tx_code), now_ms=NOW + 1)
        assert refused.value.error == "invalid_grant"
    with pytest.raises(offers.OfferRefusedError) as burnt:
        offers.exchange(any_db, KEY, code, created.tx_code, now_ms=NOW + 2)
    assert burnt.value.error == "invalid_grant"
    with any_db.read() as tx:
        row = tx.fetchone("SELECT state, sealed FROM credential_offers")
    assert row is not None
    assert (row[0], row[1]) == ("burnt", None)


def test_s6_1_two_wrong_tries_then_the_right_one_still_works(any_db: Database) -> None:
    created = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    code = _code_of(any_db, created)
    for _ in range(offers.MAX_TX_TRIES - 1):
        with pytest.raises(offers.OfferRefusedError):
            offers.exchange(any_db, KEY, code, _wrong(created.tx_code), now_ms=NOW + 1)
    assert offers.exchange(any_db, KEY, code, created.tx_code, now_ms=NOW + 2)


def test_s6_1_an_expired_code_is_invalid_grant(any_db: Database) -> None:
    created = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    code = _code_of(any_db, created)
    with pytest.raises(offers.OfferRefusedError) as refused:
        offers.exchange(any_db, KEY, code, created.tx_code, now_ms=NOW + offers.OFFER_TTL_MS)
    assert (refused.value.error, refused.value.reason) == (
        "invalid_grant",
        "the pre-authorized code has expired",
    )


def test_an_offer_lives_at_most_ten_minutes(any_db: Database) -> None:
    with pytest.raises(ValueError, match="10 minutes"):
        offers.create(any_db, KEY, OFFER, now_ms=NOW, ttl_ms=offers.OFFER_TTL_MS + 1)


def test_s7_a_c_nonce_is_spent_once_and_not_after_it_expires(any_db: Database) -> None:
    nonce = offers.new_nonce(any_db, now_ms=NOW)
    assert offers.spend_nonce(any_db, nonce, now_ms=NOW + 1)
    assert not offers.spend_nonce(any_db, nonce, now_ms=NOW + 2)
    stale = offers.new_nonce(any_db, now_ms=NOW)
    assert not offers.spend_nonce(any_db, stale, now_ms=NOW + offers.NONCE_TTL_MS)
    assert not offers.spend_nonce(any_db, "never-given", now_ms=NOW)


def test_redemption_deletes_the_claims_and_the_token_is_refused_after(any_db: Database) -> None:
    created = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    token = offers.exchange(any_db, KEY, _code_of(any_db, created), created.tx_code, now_ms=NOW)
    pending = offers.pending_for_token(any_db, KEY, token, now_ms=NOW)
    assert offers.redeemed(any_db, pending.offer_hash, "ab" * 32)
    assert not offers.redeemed(any_db, pending.offer_hash, "cd" * 32)
    with any_db.read() as tx:
        row = tx.fetchone("SELECT state, sealed, credential_digest FROM credential_offers")
    assert row is not None
    assert (row[0], row[1], row[2]) == ("redeemed", None, "ab" * 32)
    with pytest.raises(offers.OfferRefusedError) as refused:
        offers.pending_for_token(any_db, KEY, token, now_ms=NOW + 1)
    assert refused.value.error == "invalid_token"


def test_an_access_token_expires(any_db: Database) -> None:
    created = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    token = offers.exchange(any_db, KEY, _code_of(any_db, created), created.tx_code, now_ms=NOW)
    with pytest.raises(offers.OfferRefusedError) as refused:
        offers.pending_for_token(any_db, KEY, token, now_ms=NOW + offers.TOKEN_TTL_MS)
    assert refused.value.reason == "the access token has expired"


def test_the_purge_deletes_expired_offers_with_their_claims_and_stale_nonces(
    any_db: Database,
) -> None:
    offers.create(any_db, KEY, OFFER, now_ms=NOW)
    live = offers.create(any_db, KEY, OFFER, now_ms=NOW + offers.OFFER_TTL_MS)
    token_held = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    offers.exchange(
        any_db, KEY, _code_of(any_db, token_held), token_held.tx_code, now_ms=NOW + 500_000
    )
    offers.new_nonce(any_db, now_ms=NOW)
    later = NOW + offers.OFFER_TTL_MS + 1
    # the expired offer and the stale nonce; the one whose token still lives stays
    assert offers.purge(any_db, later) == 2
    assert offers.purge(any_db, later) == 0
    with any_db.read() as tx:
        left = tx.fetchall("SELECT offer_hash FROM credential_offers ORDER BY created_ms")
    assert sorted(str(r[0]) for r in left) == sorted([token_held.offer_hash, live.offer_hash])
    assert offers.purge(any_db, NOW + 500_000 + offers.TOKEN_TTL_MS) == 1


def test_a_retried_creation_with_the_same_key_answers_the_same_offer(any_db: Database) -> None:
    first = offers.create(any_db, KEY, OFFER, now_ms=NOW, idempotency_key="k-1")
    again = offers.create(any_db, KEY, OFFER, now_ms=NOW + 5, idempotency_key="k-1")
    assert (again.handle, again.tx_code, again.replayed) == (first.handle, first.tx_code, True)
    other = offers.OfferRequest(**{**OFFER.__dict__, "claims": {"registeredCapital": "1元"}})
    with pytest.raises(ApiError) as reused:
        offers.create(any_db, KEY, other, now_ms=NOW + 6, idempotency_key="k-1")
    assert reused.value.code.value == "idempotency-key-reused"
    another_client = offers.OfferRequest(**{**OFFER.__dict__, "client_id": "other-app"})
    fresh = offers.create(any_db, KEY, another_client, now_ms=NOW, idempotency_key="k-1")
    assert fresh.handle != first.handle


def test_claims_and_codes_are_not_in_clear_in_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    db = SqliteDatabase(path)
    created = offers.create(db, KEY, OFFER, now_ms=NOW)
    code = _code_of(db, created)
    db.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (SECRET_NAME, "100万元", created.handle, code):
        assert secret.encode("utf-8") not in stored
    # The tx_code is six digits: any timestamp could hold them, so it is checked by the
    # schema instead (no column keeps it: the salt and the data key derive it).
    assert b"credential_offers" in stored  # the file read is the store


def test_s6_1_token_requests_racing_with_one_code_get_one_working_token(
    any_db: Database, store_target: StoreTarget
) -> None:
    created = offers.create(any_db, KEY, OFFER, now_ms=NOW)
    code = _code_of(any_db, created)
    others = [store_target.open() for _ in range(4)]
    start = threading.Barrier(len(others))
    tokens: list[str] = []
    refusals: list[str] = []

    def race(db: Database) -> None:
        start.wait()
        try:
            tokens.append(offers.exchange(db, KEY, code, created.tx_code, now_ms=NOW + 1))
        except offers.OfferRefusedError as refused:
            refusals.append(refused.error)

    threads = [threading.Thread(target=race, args=(db,)) for db in others]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for db in others:
        db.close()
    assert len(tokens) == 1
    assert refusals == ["invalid_grant"] * (len(others) - 1)
    assert offers.pending_for_token(any_db, KEY, tokens[0], now_ms=NOW + 2).claims == OFFER.claims


def _sealed_blob(db: Database) -> bytes:
    with db.read() as tx:
        row = tx.fetchone("SELECT sealed FROM credential_offers")
    assert row is not None
    return bytes(row[0])


def test_the_sealed_claims_leave_the_sqlite_file_on_redemption_and_on_purge(
    tmp_path: Path,
) -> None:
    redeemed_dir, purged_dir = tmp_path / "redeemed", tmp_path / "purged"
    for directory in (redeemed_dir, purged_dir):
        directory.mkdir()
    db = SqliteDatabase(redeemed_dir / "store.sqlite")
    created = offers.create(db, KEY, OFFER, now_ms=NOW)
    sealed = _sealed_blob(db)
    token = offers.exchange(db, KEY, _code_of(db, created), created.tx_code, now_ms=NOW)
    assert offers.redeemed(
        db, offers.pending_for_token(db, KEY, token, now_ms=NOW).offer_hash, "ab" * 32
    )
    db.close()
    assert sealed[:32] not in b"".join(p.read_bytes() for p in redeemed_dir.iterdir())

    db = SqliteDatabase(purged_dir / "store.sqlite")
    offers.create(db, KEY, OFFER, now_ms=NOW)
    sealed = _sealed_blob(db)
    assert offers.purge(db, NOW + offers.OFFER_TTL_MS) == 1
    db.close()
    assert sealed[:32] not in b"".join(p.read_bytes() for p in purged_dir.iterdir())

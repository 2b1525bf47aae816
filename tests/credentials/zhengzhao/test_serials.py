"""证照标识 allocation from the store's counter per (type code, agency code).

``credentials.zhengzhao.serials``: serials are ``<year><counter, 7+ digits>``,
increasing and distinct per pair, each identifier well formed with its GB/T
36904 / ISO/IEC 7064 MOD 37,36 check character, and two processes allocating on
one store at once never get the same one. Every store test runs on SQLite, then
on PostgreSQL.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter

import pytest

from api.province.backup.components import MIGRATIONS as BACKED_UP
from credentials.zhengzhao import serials
from credentials.zhengzhao.check_characters import ALPHANUMERIC
from credentials.zhengzhao.errors import IdentifierError
from credentials.zhengzhao.identifier import ZhengzhaoId, parse_zhengzhao_id
from ledger.store.database import Database
from ledger.store.snapshot import Restorer, dump
from tests.credentials.zhengzhao.conftest import VECTORS
from tests.helpers.stores import StoreTarget

TYPE_CODE = "11100000000013338W011"
"""教育部's 统一社会信用代码 and 011 (a published type code, tests/vectors/zhengzhao)."""
AGENCY = "11430000006122244L"
OTHER_AGENCY = "11330105002500287C"
# 2026-12-31T16:30:00Z is 2027-01-01 00:30 in China Standard Time.
NEW_YEAR_UTC_MS = 1_798_734_600_000
MID_2026_MS = 1_782_000_000_000


def _counter(identifier: ZhengzhaoId) -> int:
    return int(identifier.serial_number[4:])


def test_serial_is_the_year_then_a_counter_of_at_least_seven_digits() -> None:
    assert serials.serial_number(2026, 1) == "20260000001"
    assert serials.serial_number(2026, 9_999_999) == "20269999999"
    assert serials.serial_number(2026, 10_000_000) == "202610000000"
    assert serials.serial_number(2026, 2**63 - 1) == "2026" + str(2**63 - 1)


@pytest.mark.parametrize(("year", "counter"), [(999, 1), (10_000, 1), (2026, 0), (2026, 2**63)])
def test_serial_out_of_range_is_refused_by_field(year: int, counter: int) -> None:
    with pytest.raises(IdentifierError) as caught:
        serials.serial_number(year, counter)
    assert caught.value.field == "serialNumber"


def test_allocated_identifiers_are_distinct_increasing_and_parse_back(any_db: Database) -> None:
    first = serials.allocate(any_db, TYPE_CODE, AGENCY, 3, now_ms=MID_2026_MS)
    second = serials.allocate(any_db, TYPE_CODE, AGENCY, 2, now_ms=MID_2026_MS)
    allocated = first + second
    assert [a.serial_number for a in allocated] == [f"2026000000{n}" for n in range(1, 6)]
    for identifier in allocated:
        assert identifier.version == serials.VERSION
        assert (identifier.type_code, identifier.issuing_agency_code) == (TYPE_CODE, AGENCY)
        assert parse_zhengzhao_id(str(identifier)) == identifier
    assert str(allocated[0]).startswith(f"1.2.156.3005.2.{TYPE_CODE}.{AGENCY}.20260000001.001.")


def test_each_type_and_agency_pair_has_its_own_counter(any_db: Database) -> None:
    got = serials.allocate_many(
        any_db, {(TYPE_CODE, AGENCY): 2, (TYPE_CODE, OTHER_AGENCY): 3}, now_ms=MID_2026_MS
    )
    assert [_counter(i) for i in got[(TYPE_CODE, AGENCY)]] == [1, 2]
    assert [_counter(i) for i in got[(TYPE_CODE, OTHER_AGENCY)]] == [1, 2, 3]
    again = serials.allocate(any_db, TYPE_CODE, OTHER_AGENCY, 1, now_ms=MID_2026_MS)
    assert _counter(again[0]) == 4


def test_the_year_is_china_standard_time_and_the_counter_is_not_reset(any_db: Database) -> None:
    before = serials.allocate(any_db, TYPE_CODE, AGENCY, 1, now_ms=NEW_YEAR_UTC_MS - 3_600_000)
    after = serials.allocate(any_db, TYPE_CODE, AGENCY, 1, now_ms=NEW_YEAR_UTC_MS)
    assert before[0].serial_number == "20260000001"
    assert after[0].serial_number == "20270000002"


def test_the_counter_survives_reopening_the_store(store_target: StoreTarget) -> None:
    for expected in (1, 2):
        db = store_target.open()
        try:
            got = serials.allocate(db, TYPE_CODE, AGENCY, 1, now_ms=MID_2026_MS)
        finally:
            db.close()
        assert _counter(got[0]) == expected


def test_every_single_character_change_of_an_allocated_identifier_is_rejected(
    any_db: Database,
) -> None:
    text = str(serials.allocate(any_db, TYPE_CODE, AGENCY, 1, now_ms=MID_2026_MS)[0])
    tried = 0
    for position, original in enumerate(text):
        for replacement in ALPHANUMERIC + ".":
            if replacement == original:
                continue
            mutated = text[:position] + replacement + text[position + 1 :]
            with pytest.raises(IdentifierError):
                parse_zhengzhao_id(mutated)
            tried += 1
    assert tried == len(text) * 36


@pytest.mark.parametrize(
    ("type_code", "agency", "field"),
    [
        (TYPE_CODE, VECTORS["usccsPilotFailingCheck"][0], "issuingAgencyCode"),
        (TYPE_CODE, AGENCY[:-1] + "0", "issuingAgencyCode"),
        (TYPE_CODE[:-1] + "A", AGENCY, "typeCode"),
        ("11100000000013338W01", AGENCY, "typeCode"),
    ],
)
def test_bad_codes_are_refused_by_field_before_anything_is_written(
    any_db: Database, type_code: str, agency: str, field: str
) -> None:
    with pytest.raises(IdentifierError) as caught:
        serials.allocate(any_db, type_code, agency, 1)
    assert caught.value.field == field
    assert agency not in str(caught.value)
    assert _counter(serials.allocate(any_db, TYPE_CODE, AGENCY, 1)[0]) == 1


@pytest.mark.parametrize("count", [0, -1, serials.MAX_ALLOCATE + 1])
def test_counts_out_of_range_are_refused(any_db: Database, count: int) -> None:
    with pytest.raises(ValueError, match="allocate"):
        serials.allocate(any_db, TYPE_CODE, AGENCY, count)


def _allocate_in_child(target: StoreTarget, calls: int, per_call: int) -> list[str]:
    db = target.open()
    try:
        got: list[str] = []
        for _ in range(calls):
            allocated = serials.allocate_many(
                db, {(TYPE_CODE, AGENCY): per_call, (TYPE_CODE, OTHER_AGENCY): 1}
            )
            got += [str(i) for ids in allocated.values() for i in ids]
        return got
    finally:
        db.close()


def test_two_processes_allocating_at_once_never_share_an_identifier(
    store_target: StoreTarget,
) -> None:
    calls, per_call = 40, 25
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        results = pool.starmap(_allocate_in_child, [(store_target, calls, per_call)] * 2)
    everything = [parse_zhengzhao_id(text) for result in results for text in result]
    assert len(everything) == 2 * calls * (per_call + 1)
    assert [n for n, c in Counter(str(i) for i in everything).items() if c > 1] == []
    # Nothing crashed, so each counter ran 1..n without a gap.
    for agency, per_process in ((AGENCY, calls * per_call), (OTHER_AGENCY, calls)):
        counters = sorted(_counter(i) for i in everything if i.issuing_agency_code == agency)
        assert counters == list(range(1, 2 * per_process + 1))
    # Each process saw its own allocations in increasing order.
    for result in results:
        mine = [_counter(parse_zhengzhao_id(t)) for t in result if AGENCY in t.split(".")]
        assert mine == sorted(mine)


def test_a_restored_backup_continues_the_counters(store_target: StoreTarget) -> None:
    db = store_target.open()
    try:
        serials.allocate(db, TYPE_CODE, AGENCY, 5, now_ms=MID_2026_MS)
        records: list[object] = []
        dump(db, records.append)
        # Emptied, the store is what a restore starts from.
        with db.write() as tx:
            tx.execute("DROP TABLE zhengzhao_serials")
            tx.execute("DELETE FROM schema_versions")
        # The components a province's restore knows (api/province/backup/components.py).
        restorer = Restorer(db, BACKED_UP)
        restorer.check_empty()
        for record in records:
            restorer.add(record)
        restorer.finish()
        got = serials.allocate(db, TYPE_CODE, AGENCY, 1, now_ms=MID_2026_MS)
    finally:
        db.close()
    assert _counter(got[0]) == 6

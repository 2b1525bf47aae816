"""timeline.js over two real provinces on the test chain: one merged, proved timeline.

Zhejiang and Guangdong are served by the service's own assembly (tests/helpers/provinces.py)
on the test anvil; each records an access to the holder's data with its own purpose, signs and
anchors a checkpoint on AuditAnchor. The directory is signed by both provinces' registered
keys, which timeline.js reads from IssuerRegistry over the chain. node's fetch asks both
provinces, as the browser wallet does; then Guangdong is stopped, and an answer is tampered.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.province.directory import sign_directory
from credentials.did import holder_did
from credentials.purposes import label
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import ServedProvince
from tests.webwallet.timeline_side import run_timeline
from tests.webwallet.timeline_world import (
    NAMES,
    PURPOSES,
    access,
    signed_directory,
    signer,
    two_provinces,
)


@pytest.fixture
def provinces(world: World, tmp_path: Path) -> Iterator[dict[int, ServedProvince]]:
    """Zhejiang and Guangdong, served on the test chain."""
    with two_provinces(world, tmp_path) as served:
        yield served


def _options(world: World, directory: Any, holder_key: Sm2PrivateKey, **more: Any) -> Any:
    return {
        "directory": directory,
        "privateKey": holder_key.to_bytes().hex(),
        "chain": {"rpcUrl": world.client.url, "anchorAddress": world.audit.address},
        "timeoutMs": 5000,
        "nowMs": world.now() * 1000,
        **more,
    }


def _accesses(result: Any) -> list[Any]:
    return [e for e in result["entries"] if e["action"] != "audit.citizen_view"]


def test_the_timeline_merges_both_provinces_proved_with_purposes_in_words(
    world: World, provinces: dict[int, ServedProvince], tmp_path: Path
) -> None:
    holder_key = Sm2PrivateKey.generate()
    holder = holder_did(holder_key.public_key)
    for province in provinces.values():
        access(province, holder)
    directory = signed_directory(world, provinces, tmp_path)
    (result,) = run_timeline([["timeline", _options(world, directory, holder_key)]])
    assert result["directory"]["ok"], result["directory"]
    assert result["holder"] == holder
    assert [(p["issuerId"], p["status"]) for p in result["provinces"]] == [
        (ZJ, "answered"),
        (GD, "answered"),
    ]
    accesses = _accesses(result)
    assert sorted((e["province"]["name"], e["purpose"]["code"]) for e in accesses) == sorted(
        (NAMES[i], PURPOSES[i]) for i in (ZJ, GD)
    )
    for entry in accesses:
        assert entry["proved"] is True, entry
        assert entry["reason"] == "ok"
        words = label(entry["purpose"]["code"]).to_json()
        assert (entry["purpose"]["zh"], entry["purpose"]["en"]) == (words["zh"], words["en"])
        assert entry["purpose"]["listed"] is True
        assert entry["legalBasis"] == "prc.pipl.art13"
        assert entry["verifier"]  # the verifier's pseudonymous actor
    times = [e["time"] for e in result["entries"]]
    assert times == sorted(times, reverse=True)


def test_a_stopped_province_is_shown_unreachable_and_the_other_still_answers(
    world: World, provinces: dict[int, ServedProvince], tmp_path: Path
) -> None:
    holder_key = Sm2PrivateKey.generate()
    holder = holder_did(holder_key.public_key)
    for province in provinces.values():
        access(province, holder)
    directory = signed_directory(world, provinces, tmp_path)
    provinces[GD].server.stop()
    (result,) = run_timeline([["timeline", _options(world, directory, holder_key)]])
    status = {p["issuerId"]: p for p in result["provinces"]}
    assert status[ZJ]["status"] == "answered"
    assert status[GD]["status"] == "unreachable"
    assert status[GD]["words"] == "the province could not be reached"
    assert {e["province"]["issuerId"] for e in result["entries"]} == {ZJ}
    assert result["ok"] is False


def test_a_province_that_never_answers_is_unreachable_after_its_timeout(
    world: World, provinces: dict[int, ServedProvince], tmp_path: Path
) -> None:
    holder_key = Sm2PrivateKey.generate()
    directory = signed_directory(world, provinces, tmp_path)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        # The same directory with Guangdong's URL moved to a socket that never answers.
        moved = dict(directory)
        moved["provinces"] = [dict(p) for p in directory["provinces"]]
        moved["provinces"][1]["apiBaseUrl"] = f"http://127.0.0.1:{port}"
        moved["signatures"] = []
        for issuer, province in provinces.items():
            moved = sign_directory(moved, issuer, signer(province, tmp_path))
        options = _options(world, moved, holder_key, timeoutMs=1000)
        (result,) = run_timeline([["timeline", options]])
    status = {p["issuerId"]: p for p in result["provinces"]}
    assert (status[GD]["status"], status[GD]["code"]) == ("unreachable", "timeout")
    assert status[ZJ]["status"] == "answered"


def test_a_tampered_answer_is_shown_not_proved(
    world: World, provinces: dict[int, ServedProvince], tmp_path: Path
) -> None:
    holder_key = Sm2PrivateKey.generate()
    holder = holder_did(holder_key.public_key)
    for province in provinces.values():
        access(province, holder)
    directory = signed_directory(world, provinces, tmp_path)
    base = f"http://127.0.0.1:{provinces[GD].server.port}"
    (result,) = run_timeline([["timeline", _options(world, directory, holder_key, tamper=base)]])
    accesses = {e["province"]["issuerId"]: e for e in _accesses(result)}
    assert accesses[ZJ]["proved"] is True
    assert accesses[GD]["proved"] is False
    assert accesses[GD]["reason"] == "event.leaf_mismatch"


def test_a_directory_signed_by_one_province_only_asks_nobody(
    world: World, provinces: dict[int, ServedProvince], tmp_path: Path
) -> None:
    holder_key = Sm2PrivateKey.generate()
    directory = signed_directory(world, provinces, tmp_path)
    directory["signatures"] = directory["signatures"][:1]
    (result,) = run_timeline([["timeline", _options(world, directory, holder_key)]])
    assert result["directory"] == {
        "ok": False,
        "reason": "too_few_signatures",
        "detail": "1 provinces signed; 2 are needed",
        "version": None,
    }
    assert result["provinces"] == []

"""``GET /status-lists/{list_number}/{purpose}``: public, cacheable, no access event.

Zhejiang issues through its API (each credential carries its own two
``BitstringStatusListEntry`` entries, bound to a slot when it was stored), revokes
one on chain, runs the writer's ``status-lists`` duty, and anyone fetches the list
at the URL the credential names, without a token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.errors import ProblemCode
from api.runtime.writer import province_duties
from credentials.holder import Holder
from credentials.issuance.status_slots import Slot, slot_of
from credentials.status_list import (
    LIST_BYTES,
    bit_at,
    decode_list,
    list_proof_verifier,
    list_status,
)
from ledger.crypto.sm2 import Sm2PublicKey
from tests.helpers.contracts import ZJ, World
from tests.helpers.provinces import ServedProvince, served_province
from tests.helpers.routes import issue, problem

# The test province's settings leave public_url unset: the bound default address.
BASE = "http://127.0.0.1:8080"


def _run_status_lists(province: ServedProvince) -> None:
    duties = {d.name: d for d in province_duties(province.parts, [], province.batches)}
    duties["status-lists"].run()


def _issued(province: ServedProvince, holder: str) -> tuple[bytes, list[dict[str, Any]], Slot]:
    """Issue one credential over HTTP: its digest, its own status entries, its bound slot."""
    answer = issue(province, holder)
    digest = bytes.fromhex(answer["digest"])
    entries: list[dict[str, Any]] = answer["credential"]["credentialStatus"]
    with province.parts.db.read() as tx:
        slot = slot_of(tx, digest)
    assert slot is not None
    return digest, entries, slot


def _issuer_key(province: ServedProvince, method: str) -> Sm2PublicKey | None:
    with province.parts.index.view() as view:
        record = view.key(province.issuer_id, method.partition("#")[2])
    return None if record is None else Sm2PublicKey.from_bytes(record.public_key)


def test_anyone_fetches_the_signed_list_with_the_revoked_bit_set(
    world: World, tmp_path: Path
) -> None:
    holder = Holder.generate()
    with served_province(world, tmp_path, ZJ) as zhejiang:
        revoked, revoked_entries, revoked_slot = _issued(zhejiang, holder.did)
        _, kept_entries, kept_slot = _issued(zhejiang, holder.did)
        assert revoked_slot != kept_slot
        zhejiang.anchor_all()
        zhejiang.parts.issuer.revoke([revoked])
        zhejiang.anchor_all()
        _run_status_lists(zhejiang)

        events_before = zhejiang.parts.audit_log.size()
        url = revoked_entries[0]["statusListCredential"]
        assert url == f"{BASE}/status-lists/1/revocation"
        assert revoked_entries[0]["statusListIndex"] == str(revoked_slot.index)
        reply = zhejiang.request("GET", url.removeprefix(BASE))  # no token
        assert reply.status == 200, reply.text
        assert reply.header("Content-Type") == "application/vc"
        assert reply.header("Cache-Control") == "public, max-age=30"
        etag = reply.header("ETag")
        assert etag is not None
        assert etag.startswith('"')
        assert zhejiang.parts.audit_log.size() == events_before  # no access event

        document = json.loads(reply.body)
        assert document["id"] == f"{BASE}/status-lists/1/revocation"
        assert document["credentialSubject"]["ttl"] == 30_000
        bits = decode_list(document["credentialSubject"]["encodedList"], max_bytes=LIST_BYTES)
        assert bit_at(bits, revoked_slot.index)
        assert not bit_at(bits, kept_slot.index)

        verify = list_proof_verifier(lambda method: _issuer_key(zhejiang, method))
        assert verify(document)
        assert list_status(revoked_entries[0], document, verify_proof=verify).valid is False
        assert list_status(kept_entries[0], document, verify_proof=verify).valid is True

        suspension = zhejiang.request(
            "GET", revoked_entries[1]["statusListCredential"].removeprefix(BASE)
        )
        assert suspension.status == 200
        assert suspension.header("ETag") != etag
        suspended = list_status(
            revoked_entries[1], json.loads(suspension.body), verify_proof=verify
        )
        assert (suspended.purpose, suspended.status) == ("suspension", 0)

        again = zhejiang.request(
            "GET", "/status-lists/1/revocation", headers={"If-None-Match": etag}
        )
        assert again.status == 304
        assert again.body == b""
        assert again.header("ETag") == etag


def test_unknown_lists_and_purposes_are_404_problems(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path, ZJ) as zhejiang:
        never = zhejiang.request("GET", "/status-lists/1/revocation")
        problem(never, 404, ProblemCode.NOT_FOUND)
        holder = Holder.generate()
        _, entries, _ = _issued(zhejiang, holder.did)
        assert {e["statusListCredential"] for e in entries} == {
            f"{BASE}/status-lists/1/revocation",
            f"{BASE}/status-lists/1/suspension",
        }
        _run_status_lists(zhejiang)
        assert zhejiang.request("GET", "/status-lists/1/revocation").status == 200
        problem(zhejiang.request("GET", "/status-lists/2/revocation"), 404, ProblemCode.NOT_FOUND)
        problem(zhejiang.request("GET", "/status-lists/1/message"), 404, ProblemCode.NOT_FOUND)
        assert zhejiang.request("GET", "/status-lists/0/revocation").status == 422
        assert zhejiang.request("GET", "/status-lists/one/revocation").status == 422


def test_the_route_is_published_without_roles(world: World, tmp_path: Path) -> None:
    with served_province(world, tmp_path, ZJ) as zhejiang:
        document = zhejiang.request("GET", "/openapi.json").json()
    operation = document["paths"]["/status-lists/{list_number}/{purpose}"]["get"]
    assert operation["x-personal-data"] is False
    assert "x-access-events" not in operation
    assert "x-roles" not in operation  # no token needed
    assert "application/vc" in operation["responses"]["200"]["content"]

"""Two provinces served on the test chain for the timeline's tests, and their directory.

Zhejiang and Guangdong by the service's own assembly (tests/helpers/provinces.py), each with
its registered signing key; the directory is signed by both (api/province/directory.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from api.province.clients import Role
from api.province.directory import DIRECTORY_TYPE, sign_directory, verify_directory
from ledger.audit.events import format_time
from ledger.crypto.keystore import Keystore
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PublicKey
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import PASSPHRASE, ServedProvince, served_province
from tests.helpers.server import event_body

DAY_MS = 86_400_000
PURPOSES = {ZJ: "cross-province.enrolment", GD: "social-security.claim"}
BASES = {ZJ: "prc.pipl.art13", GD: "prc.pipl.art13"}
NAMES = {ZJ: "浙江省", GD: "广东省"}


@contextmanager
def two_provinces(world: World, tmp_path: Path) -> Iterator[dict[int, ServedProvince]]:
    """Zhejiang and Guangdong, served on the test chain for the ``with`` block."""
    with (
        served_province(world, tmp_path / "zj", ZJ) as zj,
        served_province(world, tmp_path / "gd", GD) as gd,
    ):
        yield {ZJ: zj, GD: gd}


def signer(province: ServedProvince, tmp_path: Path) -> LocalSigner:
    issuer = province.issuer_id
    key_id = "key-1" if issuer == ZJ else "key-1x"
    folder = tmp_path / ("zj" if issuer == ZJ else "gd") / f"province-{issuer}" / "keys"
    key = Keystore(folder).load(f"signing-{key_id}", PASSPHRASE)
    return LocalSigner(f"did:tongban:{province.world.client.chain_id}:{issuer}#{key_id}", key)


def signed_directory(world: World, provinces: dict[int, ServedProvince], tmp_path: Path) -> Any:
    now = world.now() * 1000
    document: dict[str, Any] = {
        "type": DIRECTORY_TYPE,
        "chainId": world.client.chain_id,
        "version": 1,
        "issuedAt": format_time(now),
        "validFrom": format_time(now - DAY_MS),
        "validUntil": format_time(now + 30 * DAY_MS),
        "threshold": 2,
        "provinces": [
            {
                "issuerId": issuer,
                "divisionCode": "330000" if issuer == ZJ else "440000",
                "name": NAMES[issuer],
                "apiBaseUrl": f"http://127.0.0.1:{province.server.port}",
                "walletOrigin": None,
            }
            for issuer, province in provinces.items()
        ],
    }
    for issuer, province in provinces.items():
        document = sign_directory(document, issuer, signer(province, tmp_path))
    keys: dict[str, Sm2PublicKey] = {
        s.key_id: s.public_key for s in (signer(p, tmp_path) for p in provinces.values())
    }
    verify_directory(document, lambda issuer, key_id, at: keys.get(key_id), now)
    return document


def access(province: ServedProvince, holder: str) -> None:
    issuer = province.issuer_id
    body = event_body(issuer, subjectId=holder, purpose=PURPOSES[issuer], legalBasis=BASES[issuer])
    reply = province.request("POST", "/audit/events", Role.VERIFIER, json_body=body)
    assert reply.status == 201, reply.text
    province.parts.checkpoints.maybe_checkpoint(force=True)
    province.anchor_all()

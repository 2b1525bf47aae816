"""``tongban directory sign|verify|show``: two provinces sign, verify reads their keys on chain.

Each province's operator signs with the province's SM2 signing key from its own data directory
(a keystore as ``tongban serve`` reads it); ``verify`` checks them against IssuerRegistry on the
test chain. Refusals end in one ``error:`` line, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ledger.audit.events import format_time
from ledger.crypto.keystore import Keystore
from ledger.crypto.sm2 import Sm2PrivateKey
from tests.api.province.directory_fixtures import unsigned
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import FAST, PASSPHRASE

DAY_MS = 86_400_000


def _tongban(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args],
        env=tongban_env(**settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _province(tmp_path: Path, world: World, issuer: int, key: Sm2PrivateKey) -> dict[str, str]:
    data_dir = tmp_path / f"province-{issuer}"
    Keystore(data_dir / "keys").save("signing-key-9", key, PASSPHRASE, kdf=FAST)
    return {
        "TONGBAN_DATA_DIR": str(data_dir),
        "TONGBAN_ISSUER_ID": str(issuer),
        "TONGBAN_CHAIN": world.client.url,
        "TONGBAN_CHAIN_ID": str(world.client.chain_id),
        "TONGBAN_KEY_PASSPHRASE": PASSPHRASE,
        "TONGBAN_SIGNING_KEY_ID": "key-9",
    }


def test_two_provinces_sign_and_verify_reads_their_keys_from_the_registry(
    world: World, tmp_path: Path
) -> None:
    keys = {ZJ: Sm2PrivateKey.generate(), GD: Sm2PrivateKey.generate()}
    world.registry.add_key(world.zj_admin, ZJ, "key-9", keys[ZJ].public_key.compressed())
    world.registry.add_key(world.gd_admin, GD, "key-9", keys[GD].public_key.compressed())
    now = world.now() * 1000
    path = tmp_path / "directory.json"
    document = unsigned(
        chainId=world.client.chain_id,
        issuedAt=format_time(now),
        validFrom=format_time(now - DAY_MS),
        validUntil=format_time(now + 30 * DAY_MS),
    )
    path.write_text(json.dumps(document, ensure_ascii=False))
    provinces = {issuer: _province(tmp_path, world, issuer, keys[issuer]) for issuer in keys}

    signed = _tongban("directory", "sign", str(path), **provinces[ZJ])
    assert signed.returncode == 0, signed.stderr
    verify = ["directory", "verify", str(path), "--registry", world.registry.address, "--json"]
    too_few = _tongban(*verify, **provinces[ZJ])
    assert too_few.returncode == 1
    assert json.loads(too_few.stdout)["reason"] == "too_few_signatures"

    signed = _tongban("directory", "sign", str(path), **provinces[GD])
    assert signed.returncode == 0, signed.stderr
    checked = _tongban(*verify, **provinces[GD])
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout) == {"valid": True, "version": 3, "signedBy": [ZJ, GD]}

    shown = _tongban("directory", "show", str(path), "--json")
    assert [p["name"] for p in json.loads(shown.stdout)["provinces"]] == ["浙江省", "广东省"]

    edited = json.loads(path.read_text("utf-8"))
    edited["provinces"][0]["apiBaseUrl"] = "https://attacker.example"
    path.write_text(json.dumps(edited, ensure_ascii=False))
    refused = _tongban(*verify[:-1], **provinces[ZJ])
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the directory is refused: bad_signature")
    assert "Traceback" not in refused.stderr


def test_a_key_that_does_not_unlock_is_one_line(world: World, tmp_path: Path) -> None:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(unsigned(), ensure_ascii=False))
    settings = _province(tmp_path, world, ZJ, Sm2PrivateKey.generate())
    settings["TONGBAN_KEY_PASSPHRASE"] = "wrong passphrase"
    refused = _tongban("directory", "sign", str(path), **settings)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: the signing key key-9 cannot be unlocked")
    assert len(refused.stderr.strip().splitlines()) == 1

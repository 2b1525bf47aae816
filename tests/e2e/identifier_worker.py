"""An issuing process for ``test_identifier_allocation.py``: keyed batches, acknowledged to a file.

``python -m tests.e2e.identifier_worker CONFIG WORKER`` reads the JSON file
CONFIG (store, keys, holders, batch counts) and issues batches ``0..batches-1``
of worker WORKER through ``CredentialIssuer.issue_once`` on the shared store,
each under the idempotency key ``w<WORKER>-b<batch>``. After each call returns it
appends one line to its acknowledgement file (one ``write`` of the whole line):
what a client was told. Started again after a kill -9, it drops a torn last line
and resumes at the first batch not acknowledged, under the same key, so a batch
stored before the kill is answered from the store (a replay) with the same
identifiers. The template is test-local: the degree schema with national
metadata (``national_template``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from credentials.credential import IssueRequest
from credentials.did import issuer_did
from credentials.issuance import CredentialIssuer, Idempotency, IssuerConfig, request_hash
from credentials.templates import TEMPLATES, Template, get_template
from credentials.zhengzhao.profile import Agency, NationalMetadata
from ledger.crypto.signer import LocalSigner
from ledger.crypto.sm2 import Sm2PrivateKey
from ledger.store.open import open_database

TEMPLATE = "zz-e2e-degree"
NATIONAL = NationalMetadata(
    type_code="11100000000013338W011",
    type_name="学位证书",
    defining_authority="教育部",
    trust_grade="B",
)
AGENCIES = (
    Agency(code="11430000006122244L", name="测试颁证机构甲"),
    Agency(code="11330105002500287C", name="测试颁证机构乙"),
)
CHAIN_ID = 31337
ISSUER_ID = 1
JURISDICTION = "330000"
STATUS_BASE = "https://zj.example.gov.cn/tongban"


def national_template() -> Template:
    """The test-local template: the degree schema with national metadata."""
    return dataclasses.replace(get_template("degree-certificate"), name=TEMPLATE, national=NATIONAL)


def issuer(store: str, key_hex: str, data_key_hex: str) -> CredentialIssuer:
    """An issuer on ``store`` as every worker builds it."""
    config = IssuerConfig(CHAIN_ID, ISSUER_ID, "0x" + "11" * 20, jurisdiction=JURISDICTION)
    signer = LocalSigner(
        f"{issuer_did(CHAIN_ID, ISSUER_ID)}#key-1", Sm2PrivateKey.from_bytes(bytes.fromhex(key_hex))
    )
    return CredentialIssuer(
        open_database(store, busy_timeout_ms=30_000),
        config,
        signer,
        data_key=bytes.fromhex(data_key_hex),
        status_base=lambda: STATUS_BASE,
    )


def batch_requests(
    config: dict[str, Any], worker: int, batch: int
) -> tuple[list[IssueRequest], Idempotency]:
    """Batch ``batch`` of ``worker``: the same requests and key every time it is asked."""
    holders: list[str] = config["holders"]
    size = int(config["batchSize"])
    requests = []
    for i in range(size):
        claims = dict(config["claims"])
        claims["certificateNumber"] = f"{worker}{batch:05d}{i:03d}"
        requests.append(
            IssueRequest(
                TEMPLATE, holders[i % len(holders)], claims, agency=AGENCIES[i % len(AGENCIES)]
            )
        )
    key = Idempotency(f"worker-{worker}", f"w{worker}-b{batch}", request_hash("issue", requests))
    return requests, key


def _acknowledged(path: Path) -> int:
    """Batches acknowledged in ``path``; a torn last line (killed mid-write) is cut off."""
    if not path.exists():
        return 0
    raw = path.read_bytes()
    whole = raw[: raw.rfind(b"\n") + 1]
    if whole != raw:
        with path.open("r+b") as handle:
            handle.truncate(len(whole))
    return len(whole.splitlines())


def _hold_if_asked(acks: Path, worker: int) -> None:
    """Between the store's commit and the acknowledgement, wait while the test asks to.

    The test creates ``hold-<worker>``, waits for ``held-<worker>`` and kills the
    worker there: a batch stored and never acknowledged, which the restarted worker
    must get back by replaying its key.
    """
    hold = acks.with_name(f"hold-{worker}")
    if hold.exists():
        hold.unlink()
        acks.with_name(f"held-{worker}").touch()
        time.sleep(120)


def main(config_path: str, worker_text: str) -> int:
    """Issue the worker's remaining batches; 0 when all are acknowledged."""
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    worker = int(worker_text)
    TEMPLATES[TEMPLATE] = national_template()
    acks = Path(config["acks"][worker])
    done = _acknowledged(acks)
    issuing = issuer(config["store"], config["key"], config["dataKey"])
    fd = os.open(acks, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        for batch in range(done, int(config["batches"])):
            requests, key = batch_requests(config, worker, batch)
            answer = issuing.issue_once(requests, key)
            _hold_if_asked(acks, worker)
            line = {
                "batch": batch,
                "replay": answer.replay.value,
                "credentials": [
                    {"digest": c.digest_hex, "identifier": c.document["zhengzhao"]["identifier"]}
                    for c in answer.credentials
                ],
            }
            os.write(fd, (json.dumps(line) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
        issuing.db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))

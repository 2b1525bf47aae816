"""``tongban wallet history`` names the issuing agency of an issuance (#16).

An issuance for an agency is logged with ``actorOrg`` ``uscc:…`` (the agency,
``credentials.zhengzhao.agencies.event_org``). The citizen has no token for ``GET
/agencies``, so ``POST /citizen/access-history`` adds, beside each signed event whose
``actorOrg`` names an agency of the province's registry, ``agency: {code, name}``
(retired agencies included); the wallet keeps the name only for the agency the
signed ``actorOrg`` names, and shows it.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.client.history import check_access_history
from api.client.remote import RemoteApi
from api.client.wallet import Wallet
from api.province.clients import Role
from credentials.zhengzhao.agencies import add_agency, event_org, retire_agency
from tests.helpers.agencies import TEST_AGENCY, TEST_AGENCY_NAME
from tests.helpers.contracts import ZJ, World
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import FAST, ORGS, PERSONAL, ServedProvince, served_province
from tests.helpers.routes import issue_body
from tests.helpers.server import event_body

PASSPHRASE = "correct horse battery staple"
EDUCATION = "11330000TB0000001D"
EDUCATION_NAME = "演示省教育厅"


@pytest.fixture
def zhejiang(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, served, with an education department beside the test agency."""
    with served_province(world, tmp_path, ZJ) as served:
        add_agency(served.context.db, EDUCATION, EDUCATION_NAME, ["degree-certificate"])
        yield served


@pytest.fixture
def wallet(tmp_path: Path) -> Wallet:
    """A citizen's wallet (cheap key derivation)."""
    return Wallet.create(tmp_path / "wallet", PASSPHRASE, kdf=FAST)


def _history_of(province: ServedProvince, wallet: Wallet) -> tuple[dict[str, Any], int]:
    """The raw ``POST /citizen/access-history`` answer for ``wallet``, and the log id."""
    api = RemoteApi(f"http://127.0.0.1:{province.server.port}")
    offer = api.post("/citizen/challenge", {"holder": wallet.did})
    signature = wallet.sign_access_request(offer["logId"], offer["challenge"])
    answer = api.post(
        "/citizen/access-history",
        {"holder": wallet.did, "challenge": offer["challenge"], "signature": signature},
    )
    assert isinstance(answer, dict)
    return answer, int(offer["logId"])


def _accessed(province: ServedProvince, holder: str) -> None:
    """Two issuances for ``holder`` (education, the test agency) and one verification."""
    issued = province.context.clients.create(
        "issuing system",
        ORGS[ZJ],
        [Role.ISSUER],
        client_id="sys-edu",
        agencies=[EDUCATION, TEST_AGENCY],
    )
    for agency in (EDUCATION, TEST_AGENCY):
        reply = province.server.request(
            "POST",
            "/credentials/issue",
            json_body=issue_body(holder, agency=agency),
            headers=PERSONAL,
            token=issued.token,
        )
        assert reply.status == 201, reply.text
    reply = province.request(
        "POST", "/audit/events", Role.VERIFIER, json_body=event_body(7, subjectId=holder)
    )
    assert reply.status == 201, reply.text


def test_the_history_names_each_registered_agency_beside_the_signed_event(
    zhejiang: ServedProvince, wallet: Wallet
) -> None:
    _accessed(zhejiang, wallet.did)
    retire_agency(zhejiang.context.db, EDUCATION)  # retired: its old events keep the name
    answer, _ = _history_of(zhejiang, wallet)
    records = [r for r in answer["records"] if r["event"]["action"] != "audit.citizen_view"]
    assert [(r["event"]["actorOrg"], r["agency"]) for r in records] == [
        (event_org(EDUCATION), {"code": EDUCATION, "name": EDUCATION_NAME}),
        (event_org(TEST_AGENCY), {"code": TEST_AGENCY, "name": TEST_AGENCY_NAME}),
        (ORGS[ZJ], None),
    ]


def test_the_wallet_keeps_a_name_only_for_the_agency_the_signed_event_names(
    zhejiang: ServedProvince, wallet: Wallet
) -> None:
    _accessed(zhejiang, wallet.did)
    answer, log_id = _history_of(zhejiang, wallet)
    checked = check_access_history(answer, wallet.did, log_id)
    assert [e.agency_name for e in checked.entries[:3]] == [EDUCATION_NAME, TEST_AGENCY_NAME, None]
    # The label is unsigned: one naming another agency than actorOrg is not shown.
    answer["records"][0]["agency"] = {"code": TEST_AGENCY, "name": "冒名机构"}
    answer["records"][1]["agency"] = {"code": TEST_AGENCY, "name": 7}
    relabelled = check_access_history(answer, wallet.did, log_id)
    assert [e.agency_name for e in relabelled.entries[:2]] == [None, None]
    assert relabelled.consistent  # the signed events are untouched


def test_wallet_history_shows_the_agency_by_name(zhejiang: ServedProvince, wallet: Wallet) -> None:
    _accessed(zhejiang, wallet.did)
    env = tongban_env(
        TONGBAN_WALLET=str(wallet.directory),
        TONGBAN_WALLET_PASSPHRASE=PASSPHRASE,
        TONGBAN_API_URL=f"http://127.0.0.1:{zhejiang.server.port}",
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TONGBAN, "wallet", "history", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    shown = run()
    assert shown.returncode == 0, (shown.stdout, shown.stderr)
    issues = [line for line in shown.stdout.splitlines() if "credential.issue" in line]
    assert f"({EDUCATION_NAME}, {event_org(EDUCATION)})" in issues[0]
    assert f"({TEST_AGENCY_NAME}, {event_org(TEST_AGENCY)})" in issues[1]
    verified = [line for line in shown.stdout.splitlines() if "credential.verify" in line]
    assert f"({ORGS[ZJ]})" in verified[0]
    as_json = json.loads(run("--json").stdout)
    names = [(r["action"], r["agencyName"]) for r in as_json["records"][:3]]
    assert names == [
        ("credential.issue", EDUCATION_NAME),
        ("credential.issue", TEST_AGENCY_NAME),
        ("credential.verify", None),
    ]

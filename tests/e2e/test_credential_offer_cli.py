"""``tongban offers create`` and ``tongban wallet redeem`` as real processes (OpenID4VCI).

The issuer system's command prints the ``openid-credential-offer://`` link and
the ``tx_code``; the citizen's command redeems the link into a wallet it creates
(there is none yet). A second redemption, a wrong ``tx_code`` and an expired
offer each end in one ``error:`` line, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.client.wallet import Wallet
from api.province import credential_offers as offers
from api.province.clients import Role
from tests.helpers.contracts import World
from tests.helpers.credentials import CLAIMS_BY_TEMPLATE
from tests.helpers.processes import TONGBAN, tongban_env
from tests.helpers.provinces import ServedProvince, served_province

PASSPHRASE = "correct horse battery staple"
LICENCE = "business-licence"
CLAIMS = dict(CLAIMS_BY_TEMPLATE[LICENCE])


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    with served_province(world, tmp_path) as served:
        yield served


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TONGBAN, *args], capture_output=True, text=True, env=tongban_env(**env), timeout=120
    )


def _offer(province: ServedProvince, tmp_path: Path) -> tuple[str, str]:
    claims = tmp_path / "claims.json"
    claims.write_text(json.dumps(CLAIMS, ensure_ascii=False), encoding="utf-8")
    created = _run(
        "offers",
        "create",
        "--template",
        LICENCE,
        "--claims-file",
        str(claims),
        TONGBAN_API_URL=f"http://127.0.0.1:{province.server.port}",
        TONGBAN_API_TOKEN=province.tokens[Role.ISSUER],
    )
    assert created.returncode == 0, created.stderr
    link = created.stdout.strip()
    assert link.startswith("openid-credential-offer://?credential_offer_uri=")
    tx_code = created.stderr.split()[1]
    assert len(tx_code) == 6
    return link, tx_code


def _redeem(link: str, home: Path, *extra: str, tx_code: str) -> subprocess.CompletedProcess[str]:
    return _run(
        "wallet",
        "redeem",
        link,
        *extra,
        TONGBAN_WALLET=str(home),
        TONGBAN_WALLET_PASSPHRASE=PASSPHRASE,
        TONGBAN_TX_CODE=tx_code,
    )


def _refused(result: subprocess.CompletedProcess[str], words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert words in lines[0]


def test_the_cli_offers_and_a_new_wallet_redeems_once(
    province: ServedProvince, tmp_path: Path
) -> None:
    link, tx_code = _offer(province, tmp_path)
    home = tmp_path / "wallet"
    redeemed = _redeem(link, home, "--json", tx_code=tx_code)
    assert redeemed.returncode == 0, redeemed.stderr
    answer = json.loads(redeemed.stdout)
    assert answer["walletCreated"] is True
    wallet = Wallet.open(home, PASSPHRASE)
    [stored] = wallet.credentials()
    assert stored.digest == answer["digest"]
    assert stored.credential["credentialSubject"]["id"] == wallet.did
    assert stored.claims()["enterpriseName"] == CLAIMS["enterpriseName"]
    _refused(_redeem(link, home, tx_code=tx_code), "already used")


def test_the_cli_refuses_a_wrong_tx_code_and_an_expired_offer_in_one_line(
    province: ServedProvince, tmp_path: Path
) -> None:
    link, tx_code = _offer(province, tmp_path)
    wrong = f"{(int(tx_code) + 1) % 10**6:06d}"
    home = tmp_path / "wallet"
    _refused(_redeem(link, home, tx_code=wrong), "wrong tx_code")
    _refused(_redeem(link, home, tx_code="12"), "6 digits")
    context = province.context
    assert context.issuer is not None
    wanted = offers.OfferRequest(
        "issuer-app", "credential.issuance", "prc.pipl.art13", LICENCE, None, CLAIMS
    )
    expired = offers.create(
        context.db, context.issuer.data_key, wanted, now_ms=context.clock() - offers.OFFER_TTL_MS
    )
    url = f"http://127.0.0.1:{province.server.port}/credential-offers/{expired.handle}"
    _refused(_redeem(url, home, tx_code=expired.tx_code), "expired")

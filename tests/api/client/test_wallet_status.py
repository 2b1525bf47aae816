"""The wallet learns from its issuer that a credential was revoked, and will not present it."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.client.remote import RemoteApi
from api.client.status import refresh_statuses
from api.client.wallet import Wallet, WalletError, fetch_anchor_proofs
from api.province.clients import Role
from credentials.reasons import Reason
from tests.helpers.contracts import GD, ZJ, World
from tests.helpers.provinces import FAST, ServedProvince, served_province
from tests.helpers.routes import issue

PASSPHRASE = "correct horse battery staple"


def _api(province: ServedProvince, role: Role = Role.HOLDER) -> RemoteApi:
    return RemoteApi(f"http://127.0.0.1:{province.server.port}", province.tokens[role])


def _change(province: ServedProvince, action: str, digest: str, reason: str) -> None:
    reply = province.request(
        "POST",
        "/credentials/status",
        Role.ISSUER,
        json_body={"action": action, "digests": [digest], "reason": reason},
    )
    assert reply.status == 202, reply.text
    province.anchor_all()


def test_revoked_and_suspended_credentials_are_shown_and_not_presented(
    world: World, tmp_path: Path
) -> None:
    wallet = Wallet.create(tmp_path / "wallet", PASSPHRASE, kdf=FAST)
    with served_province(world, tmp_path, ZJ) as zhejiang:
        kept, revoked = (issue(zhejiang, wallet.did) for _ in range(2))
        for answer in (kept, revoked):
            wallet.receive(answer["credential"])
        zhejiang.anchor_all()
        fetch_anchor_proofs(wallet, _api(zhejiang))
        assert all(s.status is None for s in wallet.credentials())

        checks = refresh_statuses(wallet, _api(zhejiang))
        assert {c.digest: c.status.state for c in checks if c.status} == {
            kept["digest"]: "none",
            revoked["digest"]: "none",
        }

        _change(zhejiang, "revoke", revoked["digest"], "issued_in_error")
        _change(zhejiang, "suspend", kept["digest"], "under_review")
        refresh_statuses(wallet, _api(zhejiang))
        reopened = Wallet.open(wallet.directory, PASSPHRASE)
        status = reopened.get(revoked["digest"]).status
        assert status is not None
        assert (status.state, status.reason) == ("revoked", "issued_in_error")
        assert status.block_number is not None
        assert status.block_number > 0
        summary = reopened.get(kept["digest"]).summary()
        assert summary["status"]["status"] == "suspended"

        with pytest.raises(WalletError, match="revoked") as refused:
            reopened.present([(revoked["digest"], [])], challenge="c", domain="d")
        assert refused.value.reason is Reason.REVOKED
        with pytest.raises(WalletError, match="suspended") as refused:
            reopened.present([(kept["digest"], [])], challenge="c", domain="d")
        assert refused.value.reason is Reason.SUSPENDED
        forced = reopened.present([(revoked["digest"], [])], challenge="c", domain="d", force=True)
        assert forced["holder"] == wallet.did

        _change(zhejiang, "reinstate", kept["digest"], "review_cleared")
        refresh_statuses(wallet, _api(zhejiang))
        cleared = Wallet.open(wallet.directory, PASSPHRASE).get(kept["digest"]).status
        assert cleared is not None
        assert cleared.usable


def test_another_province_does_not_speak_for_the_issuer(world: World, tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "wallet", PASSPHRASE, kdf=FAST)
    with (
        served_province(world, tmp_path, ZJ) as zhejiang,
        served_province(world, tmp_path, GD) as guangdong,
    ):
        answer = issue(zhejiang, wallet.did)
        wallet.receive(answer["credential"])
        [check] = refresh_statuses(wallet, _api(guangdong))
        assert check.status is None
        assert wallet.get(answer["digest"]).status is None

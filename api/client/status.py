"""The wallet asks its issuers what became of its credentials: revoked, suspended, active.

``refresh_statuses(wallet, api)`` asks one province (``GET
/credentials/{digest}/status``, a holder-app token) for the on-chain status of
every stored credential that province issued, and keeps each answer in the
wallet with the time it was asked (``KnownStatus``). Credentials of other
issuers are left as they were. The status is the chain's (as of the
province's index); the wallet shows it in ``wallet list`` and refuses to
present a revoked or suspended credential unless forced. Only digests leave
the wallet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.client.errors import WalletError
from api.client.remote import RemoteApi, RemoteApiError
from api.client.wallet import KnownStatus, Wallet
from credentials.times import format_ms, now_ms

__all__ = ["StatusCheck", "refresh_statuses"]


@dataclass(frozen=True)
class StatusCheck:
    """What ``refresh_statuses`` learnt of one credential (``status`` None: not this issuer's)."""

    digest: str
    status: KnownStatus | None


def _known(answer: Any, checked_at: str) -> KnownStatus:
    on_chain = answer.get("onChain") if isinstance(answer, Mapping) else None
    if not isinstance(on_chain, Mapping) or on_chain.get("status") not in (
        "none",
        "suspended",
        "revoked",
    ):
        raise WalletError("the API answered with something that is not a credential status")
    block = on_chain.get("blockNumber")
    return KnownStatus(
        str(on_chain["status"]),
        str(on_chain.get("reason", "unspecified")),
        block if isinstance(block, int) else None,
        checked_at,
    )


def refresh_statuses(wallet: Wallet, api: RemoteApi) -> list[StatusCheck]:
    """Ask ``api`` (an issuing province) for the status of the credentials in ``wallet``.

    The province answers under its own issuer id and names its DID (``issuer``):
    an answer for a credential of another issuer is not recorded. As with anchor
    proofs, the digests go to the province the citizen names, nothing else.
    """
    checked_at = format_ms(now_ms())
    checks = []
    for stored in wallet.credentials():
        try:
            answer = api.get(f"/credentials/{stored.digest}/status")
        except RemoteApiError as exc:
            if exc.status in (403, 404):
                checks.append(StatusCheck(stored.digest, None))
                continue
            raise
        if isinstance(answer, Mapping) and answer.get("issuer", stored.issuer) != stored.issuer:
            checks.append(StatusCheck(stored.digest, None))
            continue
        known = _known(answer, checked_at)
        wallet.record_status(stored.digest, known)
        checks.append(StatusCheck(stored.digest, known))
    return checks

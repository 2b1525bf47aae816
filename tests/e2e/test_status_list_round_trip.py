"""A revocation on chain reaches a W3C verifier that reads only the province's status list.

Zhejiang is ``tongban serve`` as ``make run`` starts it (embedded ganache, the
demo consortium, the writer and two HTTP workers), on a fixed port so that its
public base URL is the default ``http://127.0.0.1:<port>`` (a test cannot take
8080: tests run side by side), with the status lists regenerated every
``PERIOD_S`` seconds (setting ``status_list_seconds``) instead of 30.

1. Its issuing system issues a degree certificate over HTTP; the credential
   carries two ``BitstringStatusListEntry`` entries, at one index.
2. The lists appear at the entries' ``statusListCredential`` URLs, with the bit
   clear.
3. The issuing system revokes the credential through the VC API (``POST
   /credentials/status`` with ``credentialId``) and waits until the change is
   final on chain.
4. A client fetching the revocation list without any cache sees the bit flip
   within the documented delay (docs/status-list.md: ``confirmations`` blocks +
   0.25 s + one regeneration period; no ``max-age`` since nothing is cached);
   the measured delays are printed.
5. The list credential's ``sm2-jcs-2026`` proof verifies with the key of the
   province's DID document (``GET /dids/{did}``), and a verifier that uses only
   the lists (``list_status``, no chain) answers revoked for the revocation entry
   and not set for the suspension entry.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from api.client.remote import RemoteApi
from credentials.holder import Holder
from credentials.status_list import (
    LIST_SIZE,
    ListStatus,
    StatusListError,
    list_proof_verifier,
    list_status,
)
from ledger.crypto import multikey
from ledger.crypto.sm2 import Sm2PrivateKey, Sm2PublicKey
from tests.helpers.credentials import DEGREE_CLAIMS
from tests.helpers.processes import Served, serve

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

PERIOD_S = 3
"""``status_list_seconds``: the writer's regeneration period, the lists' ttl and max-age."""
BLOCK_TIME_S = 1.0
CONFIRMATIONS = 1
DOCUMENTED_DELAY_S = CONFIRMATIONS * BLOCK_TIME_S + 0.25 + PERIOD_S
"""docs/status-list.md, from a status change becoming final to a client that caches nothing."""
POLL_S = 0.1
T = TypeVar("T")
PERSONAL = {"X-Purpose": "credential.issuance", "X-Legal-Basis": "prc.pipl.art13"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def zhejiang(tmp_path: Path) -> Iterator[Served]:
    """``tongban serve`` with the demo consortium on a fixed port and a short list period."""
    province = serve(
        tmp_path / "zj.log",
        "--data-dir",
        str(tmp_path / "zj"),
        TONGBAN_DEMO="1",
        TONGBAN_HTTP_PORT=str(_free_port()),
        TONGBAN_STATUS_LIST_SECONDS=str(PERIOD_S),
        TONGBAN_BLOCK_TIME=str(BLOCK_TIME_S),
        TONGBAN_CONFIRMATIONS=str(CONFIRMATIONS),
    )
    try:
        yield province
    finally:
        assert province.stop() == 0, province.log.read_text()[-3000:]


def _fetch(url: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """GET a status list as any W3C verifier would: no token, no cache. None while 404."""
    request = urllib.request.Request(url, headers={"Cache-Control": "no-cache"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            headers = {k.lower(): v for k, v in reply.headers.items()}
            document: dict[str, Any] = json.loads(reply.read())
            return document, headers
    except urllib.error.HTTPError as refused:
        if refused.code == 404:
            return None
        raise


def _until(what: str, check: Callable[[], T | None], timeout: float) -> tuple[T, float]:
    """Poll ``check`` until it gives a value; the value and when (monotonic) it came."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        now = time.monotonic()
        if value is not None:
            return value, now
        if now > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(POLL_S)


def _key_from_did_document(document: dict[str, Any]) -> Callable[[str], Sm2PublicKey | None]:
    """``key_for`` of ``list_proof_verifier``: the DID document's key for a method, if listed."""
    keys = {
        method["id"]: multikey.decode(method["publicKeyMultibase"])
        for method in document["verificationMethod"]
        if "revoked" not in method and method["id"] in document["assertionMethod"]
    }
    return keys.get


def test_a_revocation_flips_the_served_list_bit_within_the_documented_delay(
    zhejiang: Served,
) -> None:
    tokens = json.loads(Path(zhejiang.description["demoTokens"]["330000"]).read_text())
    issuer = RemoteApi(zhejiang.url, tokens["issuer"])
    base = zhejiang.url.rstrip("/")

    # 1. Issue over HTTP: two entries, one per purpose, at one index of lists under the base.
    body = {
        "template": "degree-certificate",
        "holder": Holder.generate().did,
        "claims": DEGREE_CLAIMS,
    }
    credential = issuer.post("/credentials/issue", body, headers=PERSONAL)["credential"]
    revocation, suspension = credential["credentialStatus"]
    assert (revocation["statusPurpose"], suspension["statusPurpose"]) == (
        "revocation",
        "suspension",
    )
    index = revocation["statusListIndex"]
    assert suspension["statusListIndex"] == index
    assert 0 <= int(index) < LIST_SIZE
    number = revocation["statusListCredential"].removeprefix(f"{base}/status-lists/")
    assert revocation["statusListCredential"] == f"{base}/status-lists/{number}"
    assert number.endswith("/revocation")

    # The issuer's key, as any holder or verifier finds it: the province's DID document.
    did = credential["issuer"]
    key_for = _key_from_did_document(issuer.get(f"/dids/{did}"))
    verify = list_proof_verifier(key_for)

    def check(entry: dict[str, Any]) -> tuple[ListStatus, dict[str, str]] | None:
        fetched = _fetch(entry["statusListCredential"])
        if fetched is None:
            return None
        document, headers = fetched
        return list_status(entry, document, verify_proof=verify), headers

    # 2. The next regeneration publishes the new list, its bit clear, with the short ttl.
    (before, headers), _ = _until("the list to be published", lambda: check(revocation), 30.0)
    assert (before.error, before.status) == (None, 0), before.message
    assert headers["content-type"] == "application/vc"
    assert headers["cache-control"] == f"public, max-age={PERIOD_S}"

    # 3. Revoke through the VC API, by the credential's id; wait until it is final on chain.
    answer = issuer.request(
        "POST",
        "/credentials/status",
        {
            "credentialId": credential["id"],
            "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
            "status": True,
        },
    )
    posted = time.monotonic()
    assert answer.status == 200
    [request] = answer.body["requests"]
    assert request["action"] == "revoke"

    def final() -> bool | None:
        state = issuer.get(f"/credentials/status-requests/{request['requestId']}")["state"]
        assert state != "failed"
        return True if state == "final" else None

    _, finalised = _until("the revocation to be final on chain", final, 30.0)

    # 4. A client without a cache sees the bit flip within the documented delay.
    def flipped() -> tuple[ListStatus, dict[str, str]] | None:
        checked = check(revocation)
        return checked if checked is not None and checked[0].status == 1 else None

    (revoked, _), seen = _until("the served bit to flip", flipped, DOCUMENTED_DELAY_S)
    delay = seen - finalised
    print(
        f"status list delay: {delay:.2f} s after the revocation was final "
        f"({seen - posted:.2f} s after the VC API answered); documented bound "
        f"{DOCUMENTED_DELAY_S:.2f} s (confirmations {CONFIRMATIONS}, block time "
        f"{BLOCK_TIME_S} s, regeneration {PERIOD_S} s)"
    )
    assert delay <= DOCUMENTED_DELAY_S

    # 5. Only the lists, no chain: revoked, not suspended; the proof holds with the DID's key.
    assert (revoked.purpose, revoked.error, revoked.valid) == ("revocation", None, False)
    assert revoked.is_set
    (suspended, _) = check(suspension) or pytest.fail("the suspension list is not served")
    assert (suspended.purpose, suspended.error, suspended.status) == ("suspension", None, 0)
    assert suspended.valid is True

    list_credential, _ = _fetch(revocation["statusListCredential"]) or pytest.fail("no list")
    proof = list_credential["proof"]
    assert (proof["type"], proof["cryptosuite"]) == ("DataIntegrityProof", "sm2-jcs-2026")
    assert proof["verificationMethod"].startswith(f"{did}#")
    assert list_credential["credentialSubject"]["ttl"] == PERIOD_S * 1000
    assert verify(list_credential)
    # Another key does not verify it: the proof check is real.
    stranger = Sm2PrivateKey.generate().public_key
    wrong = list_status(
        revocation, list_credential, verify_proof=list_proof_verifier(lambda _: stranger)
    )
    assert wrong.error is StatusListError.STATUS_VERIFICATION_ERROR

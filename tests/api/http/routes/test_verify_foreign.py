"""``POST /credentials/verify`` and ``/presentations/verify`` for credentials Tongban did not issue.

Over real HTTP to a served province. Each test names what it follows: the W3C Data
Integrity vectors (vc-di-eddsa 3.2/3.3, vc-di-ecdsa 3.2/3.3, pinned in
tests/vectors/w3c-di), RDF Dataset Canonicalization's poison test ``#test074c``, the VC
API's verification result, and Bitstring Status List v1.0 section 3.2 for the
province's own lists.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from api.http.schemas.credentials import VerificationOut
from api.province.clients import Role
from api.province.status_fetch import StatusListFetcher
from api.province.status_lists import StatusListPublisher
from api.runtime.parts import status_lists_base
from credentials.holder import Holder
from credentials.verify.status_list_check import FetchRefusedError
from credentials.verify.vcapi import VERIFICATION_PROBLEM_BASE
from ledger.store.database import Database
from ledger.store.sqlite import SqliteDatabase
from tests.helpers.contracts import ZJ, World
from tests.helpers.foreign import ForeignKey, poison_credential, sign, vector
from tests.helpers.provinces import PERSONAL, ServedProvince, served_province
from tests.helpers.routes import events, issue
from tests.helpers.server import Reply

CREDENTIALS = "/credentials/verify"


@pytest.fixture
def province(world: World, tmp_path: Path) -> Iterator[ServedProvince]:
    """Zhejiang, served."""
    with served_province(world, tmp_path, ZJ) as served:
        yield served


def _post(province: ServedProvince, body: dict[str, Any], path: str = CREDENTIALS) -> Reply:
    return province.request("POST", path, Role.VERIFIER, json_body=body, headers=PERSONAL)


def _result(province: ServedProvince, credential: dict[str, Any], **options: Any) -> dict[str, Any]:
    reply = _post(province, {"verifiableCredential": credential, "options": options})
    assert reply.status == 200, reply.text
    result: dict[str, Any] = reply.json()
    VerificationOut.model_validate(result)
    return result


def _check(result: dict[str, Any], number: int) -> tuple[str, str]:
    check = result["checks"][number]
    return check["status"], check["reasonCode"]


# -- the specifications' own vectors ------------------------------------------------------------

HTTPS_METHOD_VECTORS = [
    "vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json",
    "vc-di-eddsa/eddsa-jcs-2022/signedJCS.json",
]
DID_KEY_VECTORS = [
    "vc-di-ecdsa/rec/example-15-ecdsa-rdfc-2019-p256-signed.json",
    "vc-di-ecdsa/rec/example-37-ecdsa-rdfc-2019-p384-signed.json",
    "vc-di-ecdsa/rec/example-59-ecdsa-jcs-2019-p256-signed.json",
    "vc-di-ecdsa/rec/example-70-ecdsa-jcs-2019-p384-signed.json",
]


def test_w3c_vectors_through_the_route(province: ServedProvince) -> None:
    # A method at an https URL needs a controller document: the verifier fetches none.
    for name in HTTPS_METHOD_VECTORS:
        result = _result(province, vector(name))
        assert (result["verified"], result["verdict"]) == (False, "INVALID"), name
        assert _check(result, 1) == ("INVALID", "verification_method_unresolvable"), name
        assert _check(result, 2) == ("INVALID", "issuer_not_in_registry"), name
    # A did:key method resolves and its signature verifies, but the vectors' issuer is an
    # https URL that the did:key does not belong to: the signature says nothing of it.
    for name in DID_KEY_VECTORS:
        result = _result(province, vector(name), returnResults=True)
        assert result["verdict"] == "INVALID", name
        assert _check(result, 1) == ("INVALID", "verification_method_not_issuer"), name
        assert result["checks"][1]["message"].startswith("proof 0 verifies"), name
    # The vectors' documents signed by the vectors' own key pairs, as their issuer (did:key).
    for curve, suite, name in [
        ("Ed25519", "eddsa-rdfc-2022", "vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json"),
        ("Ed25519", "eddsa-jcs-2022", "vc-di-eddsa/eddsa-jcs-2022/signedJCS.json"),
        ("P-256", "ecdsa-rdfc-2019", DID_KEY_VECTORS[0]),
        ("P-256", "ecdsa-jcs-2019", DID_KEY_VECTORS[2]),
    ]:
        key = ForeignKey.vector(curve)  # type: ignore[arg-type]
        document = {k: v for k, v in vector(name).items() if k != "proof"}
        signed = sign({**document, "issuer": key.did}, key, suite)
        result = _result(province, signed, returnResults=True)
        assert (result["verified"], result["verdict"]) == (False, "UNREGISTERED_ISSUER"), name
        assert result["problemDetails"] == [
            {
                "type": VERIFICATION_PROBLEM_BASE + "issuer_not_in_registry",
                "title": "Issuer not in the consortium registry",
                "detail": result["checks"][2]["message"],
                "check": "issuer-key",
                "reasonCode": "issuer_not_in_registry",
                "at": "/issuer",
            }
        ]
        assert [p["verified"] for p in result["results"]["proof"]] == [True]
        assert _check(result, 1) == ("VALID", "ok")
        assert suite in result["checks"][1]["message"]
    # Every verification is an access event; an unregistered issuer is never a success.
    outcomes = [e.outcome for e in events(province)]
    assert len(outcomes) == len(HTTPS_METHOD_VECTORS) + len(DID_KEY_VECTORS) + 4
    assert set(outcomes) == {"invalid"}


def test_a_presentation_by_a_p256_holder_through_the_route(province: ServedProvince) -> None:
    holder, issuer = ForeignKey.generate("P-256"), ForeignKey.generate("Ed25519")
    credential = {k: v for k, v in vector(HTTPS_METHOD_VECTORS[1]).items() if k != "proof"}
    credential = sign(
        {**credential, "issuer": issuer.did, "credentialSubject": {"id": holder.did}},
        issuer,
        "eddsa-jcs-2022",
    )
    reply = province.request("POST", "/challenges", Role.VERIFIER, json_body={})
    assert reply.status == 201, reply.text
    challenge = reply.json()["challenge"]
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": [credential],
    }
    signed = sign(
        unsigned,
        holder,
        "ecdsa-jcs-2019",
        purpose="authentication",
        challenge=challenge,
        domain=province.did,
    )
    body = {"verifiablePresentation": signed, "options": {"challenge": challenge}}
    reply = _post(province, body, "/presentations/verify")
    assert reply.status == 200, reply.text
    result = reply.json()
    assert (result["verified"], result["verdict"]) == (False, "UNREGISTERED_ISSUER")
    assert result["results"]["presentation"]["proof"][0]["verified"] is True
    again = _post(province, body, "/presentations/verify").json()
    assert _check(again, 6) == ("INVALID", "challenge_used")


# -- RDFC-1.0 poison (rdf-canon #test074c) --------------------------------------------------------


def test_rdfc_poison_test074c_is_refused_within_the_cap_while_the_worker_keeps_answering(
    province: ServedProvince,
) -> None:
    issuer = ForeignKey.generate("Ed25519")
    poison = {"verifiableCredential": poison_credential(issuer)}
    probe_credential = sign(
        {k: v for k, v in vector(HTTPS_METHOD_VECTORS[1]).items() if k != "proof"}
        | {"issuer": issuer.did},
        issuer,
        "eddsa-jcs-2022",
    )
    probe = {"verifiableCredential": probe_credential}
    poisons: list[tuple[float, float, Reply]] = []

    def send_poison() -> None:
        for _ in range(6):
            started = time.monotonic()
            reply = _post(province, poison)
            poisons.append((started, time.monotonic(), reply))

    sender = threading.Thread(target=send_poison)
    sender.start()
    probes: list[tuple[float, float, Reply]] = []
    while sender.is_alive():
        started = time.monotonic()
        reply = _post(province, probe)
        probes.append((started, time.monotonic(), reply))
    sender.join()
    for started, ended, reply in poisons:
        assert reply.status == 200, reply.text
        result = reply.json()
        assert _check(result, 1) == ("INVALID", "canonicalization_limit")
        assert result["verdict"] == "INVALID"
        assert ended - started < 2.5  # the 2 s time cap at most; the work cap stops it first
    for _, _, reply in probes:
        assert reply.status == 200, reply.text
        assert reply.json()["verdict"] == "UNREGISTERED_ISSUER"
    inside = [
        (p_start, p_end)
        for p_start, p_end, _ in probes
        for s_start, s_end, _ in poisons
        if s_start < p_start and p_end < s_end
    ]
    assert inside, "no probe was answered while a poison request was in flight"


# -- Bitstring Status List v1.0 3.2: this province's own lists, read from its store --------------


def test_bitstring_status_list_3_2_own_lists_are_read_from_the_store_and_reported(
    province: ServedProvince,
) -> None:
    digest = issue(province, Holder.generate().did)["digest"]
    province.anchor_all()
    reply = province.request("GET", f"/credentials/{digest}", Role.HOLDER, headers=PERSONAL)
    credential = reply.json()["credential"]
    base = status_lists_base(province.parts.settings)
    assert base is not None
    assert credential["credentialStatus"][0]["statusListCredential"].startswith(base)
    parts = province.parts
    publisher = StatusListPublisher(
        parts.db,
        parts.index,
        province.issuer_id,
        province.did,
        parts.keyring.credential_signer,
        lambda: base,
    )
    # Not published yet: the store has no list (STATUS_RETRIEVAL_ERROR, SKIPPED).
    result = _result(province, credential)
    assert result["verdict"] == "VALID"
    assert {f["reasonCode"] for f in result["statusList"]} == {"status_retrieval_error"}
    publisher.run()
    result = _result(province, credential)
    assert result["verdict"] == "VALID"
    assert [(f["purpose"], f["status"], f["chainAgrees"]) for f in result["statusList"]] == [
        ("revocation", "VALID", True),
        ("suspension", "VALID", True),
    ]
    # Revoked on chain, the list not yet regenerated: reported, the verdict follows the chain.
    province.parts.issuer.revoke([bytes.fromhex(digest)])
    province.processor.run_until_final(timeout=60, poll=0.01)
    province.sync()
    result = _result(province, credential)
    assert (result["verdict"], _check(result, 4)) == ("INVALID", ("INVALID", "revoked"))
    assert result["statusList"][0]["chainAgrees"] is False
    publisher.run()
    result = _result(province, credential)
    assert result["statusList"][0]["reasonCode"] == "revoked"
    assert result["statusList"][0]["chainAgrees"] is True


# -- the fetcher: what it fetches, how long, how much ---------------------------------------------


def test_the_fetcher_refuses_plain_http_elsewhere_and_hosts_that_are_not_public(
    any_db: Database,
) -> None:
    # Its own lists are read from the store: on each engine in turn.
    fetch = StatusListFetcher(any_db, "http://127.0.0.1:8080")
    assert fetch("http://127.0.0.1:8080/status-lists/1/revocation") is None  # own, unpublished
    for url in (
        "http://gd.example.gov.cn/status-lists/1/revocation",
        "http://127.0.0.1:8080/elsewhere/1/revocation",
        "https://127.0.0.1/status-lists/1/revocation",
        "https://localhost/status-lists/1/revocation",
        "https://10.1.2.3/status-lists/1/revocation",
        "https://[::1]/status-lists/1/revocation",
        "ftp://gd.example.gov.cn/list",
    ):
        with pytest.raises(FetchRefusedError) as refused:
            fetch(url)
        assert "example" not in str(refused.value)
        assert "127" not in str(refused.value)


class _Slow(http.server.BaseHTTPRequestHandler):
    finished: ClassVar[dict[str, threading.Event]] = {}
    """Set when the server is done with a path (slept it out, or sent its last byte)."""

    def do_GET(self) -> None:
        try:
            self._answer()
        finally:
            self.finished.setdefault(self.path, threading.Event()).set()

    def _answer(self) -> None:
        if self.path == "/slow":
            time.sleep(3)
        if self.path == "/trickle":
            self.send_response(200)
            self.send_header("Content-Length", "160")
            self.end_headers()
            for _ in range(10):
                try:
                    self.wfile.write(b"x" * 16)
                    self.wfile.flush()
                except OSError:  # the fetcher hung up, as it should
                    return
                time.sleep(0.3)
            return
        body = b"x" * (2048 if self.path == "/big" else 16)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return


def test_the_fetcher_gives_up_after_its_timeout_and_above_its_size_cap(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    db = SqliteDatabase(tmp_path / "store.sqlite")
    try:
        fetch = StatusListFetcher(db, None, timeout=0.5, max_bytes=1024)
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert fetch._get(f"{base}/small") == b"x" * 16
        assert fetch._get(f"{base}/big") is None
        for path in ("/slow", "/trickle"):
            done = _Slow.finished.setdefault(path, threading.Event())
            assert fetch._get(f"{base}{path}") is None
            # Gave up at its 0.5 s deadline, not when the server was done (3 s later).
            assert not done.is_set(), path
    finally:
        server.shutdown()
        db.close()


def test_the_fetcher_reuses_another_provinces_list_for_its_max_age(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.province.status_fetch as status_fetch

    db = SqliteDatabase(tmp_path / "store.sqlite")
    try:
        fetch = StatusListFetcher(db, None)
        asked: list[str] = []
        answers = {"https://gd.example.gov.cn/status-lists/1/revocation": b"{}"}

        def get(url: str) -> bytes | None:
            asked.append(url)
            return answers.get(url)

        monkeypatch.setattr(status_fetch, "_public_host", lambda host, port: True)
        monkeypatch.setattr(fetch, "_get", get)
        good, bad = "https://gd.example.gov.cn/status-lists/1/revocation", "https://gd.example/x"
        assert [fetch(good), fetch(good), fetch(bad), fetch(bad)] == [b"{}", b"{}", None, None]
        assert asked == [good, bad]
        clock = time.monotonic() + status_fetch.FAILURE_CACHE_SECONDS + 1
        monkeypatch.setattr(time, "monotonic", lambda: clock)
        assert (fetch(good), fetch(bad)) == (b"{}", None)
        assert asked == [good, bad, bad]
    finally:
        db.close()

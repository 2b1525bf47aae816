"""CPU per credential verification in process, with and without the status list cache (#14).

Starts its own anvil, deploys the consortium (``scripts/bench_issuance.py``'s
setup), issues and anchors ``--credentials`` Zhejiang credentials that carry
``credentialStatus`` entries (revocation and suspension lists, as every new
credential does), and has Guangdong's verifier (its synced ``ChainIndex``) run the
checklist on them: ``Verifier.evaluate_credential`` on the JSON bytes, as the
route does after authentication (no access event). The status lists are served
from memory by the verifier's ``fetch_list`` (the signed list credentials, about
22 KB each), so what is measured is the verifier, not a store or a network.

Two modes, interleaved in ``--rounds`` rounds: ``cache off`` replaces the process's
``status_list_check.LIST_CACHE`` by an empty-bounded one (``ListCache(entries=0)``:
every verification parses both lists, checks their proofs and gunzips them, as
before #14) and ``cache on`` uses a fresh default one. CPU is ``time.process_time``
over all verifications of a round, one thread; every verdict must be VALID with
both list findings VALID. The last line is JSON.

    .venv/bin/python scripts/bench_verify_cpu.py [--credentials 300] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
sys.path.insert(0, str(ROOT))

from bench_issuance import (  # noqa: E402
    CHAIN_ID,
    GD,
    ZJ,
    Province,
    issue_end_to_end,
    issuing_province,
    make_verifier,
    requests,
    setup_chain,
)

from credentials.did import issuer_did  # noqa: E402
from credentials.holder import Holder  # noqa: E402
from credentials.reasons import CheckStatus  # noqa: E402
from credentials.status_list import (  # noqa: E402
    bitstring,
    sign_list_credential,
    unsigned_list_credential,
)
from credentials.verify import (  # noqa: E402
    Verifier,
    VerifierConfig,
    status_list_check,
)
from credentials.verify.status_list_check import ListCache  # noqa: E402
from ledger.audit.pseudonyms import PseudonymKeys  # noqa: E402
from ledger.chain.index import ChainIndex  # noqa: E402
from ledger.chain.node.client import ChainClient  # noqa: E402
from ledger.chain.node.processes import start_anvil  # noqa: E402
from ledger.crypto.signer import LocalSigner  # noqa: E402
from ledger.crypto.sm2 import Sm2PrivateKey  # noqa: E402
from ledger.store.sqlite import SqliteDatabase  # noqa: E402

BASE = "https://zj.example.gov.cn"
CREATED = "2026-01-01T00:00:00Z"


def signed_lists(urls: set[str], key: Sm2PrivateKey) -> dict[str, bytes]:
    """Each URL's list credential, signed by Zhejiang's registered key, no bit set."""
    did = issuer_did(CHAIN_ID, ZJ)
    lists = {}
    for url in urls:
        unsigned = unsigned_list_credential(
            list_url=url,
            issuer_did=did,
            purpose=url.rsplit("/", 1)[1],
            bits=bitstring([]),
            valid_from=CREATED,
            block_number=1,
        )
        signed = sign_list_credential(unsigned, LocalSigner(f"{did}#key-1", key), created=CREATED)
        lists[url] = json.dumps(signed).encode()
    return lists


def cpu_per_verification(verifier: Verifier, documents: list[bytes]) -> float:
    """CPU milliseconds per ``evaluate_credential``, this thread's process; checks verdicts."""
    start = time.process_time()
    results = [verifier.evaluate_credential(document) for document in documents]
    spent = time.process_time() - start
    for result in results:
        lists = [finding.status for finding in result.status_lists]
        if result.verdict is not CheckStatus.VALID or lists != [CheckStatus.VALID] * 2:
            raise AssertionError("a benchmark credential did not verify with both lists")
    return spent * 1000 / len(documents)


def main() -> int:
    """Set up, measure the interleaved rounds, print a table and a JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--credentials", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"# bench_verify_cpu: {platform.machine()}, Python {sys.version.split()[0]}")
    node = start_anvil(CHAIN_ID)
    workdir = Path(tempfile.mkdtemp(prefix="bench-verify-cpu-"))
    try:
        client = ChainClient(node.url, CHAIN_ID)
        chain = setup_chain(client)
        province: Province = issuing_province(chain, workdir / "zj.sqlite", 1000, None)
        province.issuer.status_base = lambda: BASE
        holders = [Holder.generate() for _ in range(50)]
        _, issued, _ = issue_end_to_end(province, requests(holders, args.credentials), 100)
        credentials: list[dict[str, Any]] = [province.issuer.credential(c.digest) for c in issued]
        documents = [json.dumps(c, ensure_ascii=False).encode() for c in credentials]
        urls = {e["statusListCredential"] for c in credentials for e in c["credentialStatus"]}
        lists = signed_lists(urls, chain.zj_key)

        consortium = chain.consortium
        config = VerifierConfig(
            CHAIN_ID,
            consortium.registry.address,
            consortium.credential_anchor.address,
            issuer_did(CHAIN_ID, GD),
        )
        db = SqliteDatabase(workdir / "gd.sqlite")
        ChainIndex(db, CHAIN_ID, config.registry, config.credential_anchor, client=client).sync()
        verifier = make_verifier(db, config, Sm2PrivateKey.generate(), PseudonymKeys.generate())
        verifier.fetch_list = lists.get
        cpu_per_verification(verifier, documents[:20])  # warm the index's height cache

        modes: dict[str, Callable[[], ListCache]] = {
            "cache off": lambda: ListCache(entries=0),
            "cache on": ListCache,
        }
        rounds: dict[str, list[float]] = {mode: [] for mode in modes}
        for number in range(1, args.rounds + 1):
            for mode, make in modes.items():
                status_list_check.LIST_CACHE = make()
                ms = cpu_per_verification(verifier, documents)
                rounds[mode].append(ms)
                print(f"round {number}, {mode}: {ms:.3f} ms CPU per verification")
        medians = {mode: sorted(values)[len(values) // 2] for mode, values in rounds.items()}
        print(
            f"median: cache off {medians['cache off']:.3f} ms, cache on "
            f"{medians['cache on']:.3f} ms ({medians['cache off'] / medians['cache on']:.2f}x)"
        )
        print(json.dumps({"credentials": len(documents), "rounds": rounds, "medians": medians}))
    finally:
        node.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

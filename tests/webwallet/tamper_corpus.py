"""The tamper corpus as one JSON file, with Python's verdict for every case.

``build_corpus`` takes the verifier's scene and mutations (``tests.helpers.tamper``) and
turns each mutation into the cases a wallet judges, as tests/api/client/test_wallet_agreement.py
does: a credential case is one credential (with the key its issuer's DID document lists for the
proof's verification method, and the verifier's trusted chain and CredentialAnchor); a
presentation case is the presentation itself (check (0), then the holder proof (6)) and each
credential it carries as a credential case. Python's verdict comes from
``credentials.verify.offline`` (``check_offline``, ``load_presentation`` + ``holder_proof``):
``[check, reason]`` of the first failure, or ``None``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from api.client.wallet import WalletError, issuer_key
from credentials.anchor_proof import data_integrity_proofs
from credentials.did import resolve_issuer
from credentials.errors import InputRejectedError
from credentials.ijson import PRESENTATION_LIMITS
from credentials.reasons import Check, Reason
from credentials.verify import OfflineFailure, TrustedChain, check_offline
from credentials.verify.offline import holder_proof
from credentials.verify.outcome import CheckFailedError, Failed
from credentials.verify.parse import ParsedPresentation, load, parse_presentation
from ledger.crypto.sm2 import Sm2PublicKey
from tests.helpers.credentials import VerifyingProvince
from tests.helpers.tamper import SEED, Scene, mutations

Verdict = list[Any] | None
"""``[check number, reason code]`` of the first failing check, or None: every check holds."""


@dataclass
class Corpus:
    """The cases (as the JS driver reads them), Python's verdicts, and Python's time on them."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    python_seconds: float = 0.0
    mutations: int = 0


class Keys:
    """The key a wallet is handed for a credential's proof (``tongban wallet receive --url``)."""

    def __init__(self, guangdong: VerifyingProvince) -> None:
        self.guangdong = guangdong
        self.documents: dict[str, dict[str, Any] | None] = {}

    def _document(self, issuer: str) -> dict[str, Any] | None:
        if issuer not in self.documents:
            try:
                with self.guangdong.index.view() as view:
                    self.documents[issuer] = resolve_issuer(view, issuer)
            except ValueError:
                self.documents[issuer] = None
        return self.documents[issuer]

    def of(self, credential: object) -> Sm2PublicKey | None:
        """The issuer key for ``credential``'s proof, or None when none can be found."""
        if not isinstance(credential, dict) or not isinstance(credential.get("issuer"), str):
            return None
        proofs = data_integrity_proofs(credential)
        if not proofs or not isinstance(proofs[0], dict):
            return None
        method = proofs[0].get("verificationMethod")
        document = self._document(credential["issuer"])
        if not isinstance(method, str) or document is None:
            return None
        try:
            return issuer_key(document, method)
        except WalletError:
            return None


def credential_verdict(
    document: object, trusted: TrustedChain, key: Sm2PublicKey | None
) -> Verdict:
    """Python's offline verdict on one decoded credential."""
    outcome = check_offline(document, trusted=trusted, issuer_key=key)
    if isinstance(outcome, OfflineFailure):
        return [int(outcome.check), outcome.reason.value]
    return None


def _load_decoded_presentation(document: object) -> ParsedPresentation | Failed:
    """``load_presentation`` on decoded JSON: a ``str`` is a JSON string, not text to parse.

    (``load_presentation`` reads a ``str`` as JSON text, as the verifier receives it; a wallet
    holds decoded JSON, as ``check_offline`` takes it.)
    """
    try:
        return parse_presentation(load(document, PRESENTATION_LIMITS, text=False))
    except InputRejectedError as exc:
        return Failed(Reason(exc.reason), str(exc))
    except CheckFailedError as fail:
        return fail.failure


def presentation_verdict(document: object) -> Verdict:
    """Python's verdict on a decoded presentation: check (0), then the holder proof (6)."""
    loaded = _load_decoded_presentation(document)
    if isinstance(loaded, Failed):
        return [int(Check.PARSE), loaded.reason.value]
    proved = holder_proof(loaded.document)
    if isinstance(proved, Failed):
        return [int(Check.PRESENTATION), proved.reason.value]
    return None


def build_corpus(scene: Scene, guangdong: VerifyingProvince, trusted: TrustedChain) -> Corpus:
    """Every mutation of the corpus (and the scene's valid documents) with Python's verdicts."""
    keys = Keys(guangdong)
    corpus = Corpus()
    wire_trusted = {"chainId": trusted.chain_id, "credentialAnchor": trusted.credential_anchor}

    def add_credential(document: object, category: str) -> None:
        key = keys.of(document)
        started = time.perf_counter()
        verdict = credential_verdict(document, trusted, key)
        corpus.python_seconds += time.perf_counter() - started
        corpus.cases.append(
            {
                "kind": "credential",
                "document": document,
                "issuerKey": None if key is None else key.compressed().hex(),
                "trusted": wire_trusted,
            }
        )
        corpus.verdicts.append(verdict)
        corpus.categories.append(category)

    def add_presentation(document: object, category: str) -> None:
        started = time.perf_counter()
        verdict = presentation_verdict(document)
        corpus.python_seconds += time.perf_counter() - started
        corpus.cases.append({"kind": "presentation", "document": document})
        corpus.verdicts.append(verdict)
        corpus.categories.append(category)

    for document in [scene.base, *scene.credentials]:
        add_credential(document, "valid")
    for case in mutations(scene, random.Random(SEED)):
        corpus.mutations += 1
        if not case.presentation:
            add_credential(case.document, case.category)
            continue
        add_presentation(case.document, case.category)
        carried = (
            case.document.get("verifiableCredential") if isinstance(case.document, dict) else None
        )
        for credential in carried if isinstance(carried, list) else []:
            add_credential(credential, case.category)
    return corpus
